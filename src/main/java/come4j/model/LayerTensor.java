package come4j.model;

import java.util.function.Predicate;

/**
 * One tensor of a decoder layer as its family declares it (architectures as data, as mergekit does): its name after
 * the layer prefix, its role in the forward pass, its kind, its shape in terms of the config, the axis and units
 * CoMe selects along, its merge rule, and when the config has it. Buffers (e.g. an old rotary_emb.inv_freq) are
 * recognised names that are no parameters: no role, no shape check, copied unchanged from the layer that opens a merge.
 * A part of a fused checkpoint tensor ({@code fusedIn}, null for a tensor stored under its own name) is declared like
 * the separate tensor it stands for.
 */
public record LayerTensor(String name, Role role, Kind kind, Dim[] shape, Axis axis, Unit unit, Merge merge,
                          Predicate<ModelConfig> when, String fusedIn) {

    public enum Kind {
        /** A weight matrix [out x in]: trained with weight decay, collapsed by LaCo. */
        PROJECTION,
        NORM,
        BIAS,
        /** A recognised non-parameter (no role, no merge: the writer copies it). */
        BUFFER
    }

    /** Which axis of the tensor the selected units index: OUTPUT = rows, INPUT = columns. */
    public enum Axis { NONE, OUTPUT, INPUT }

    /** The units CoMe keeps per source layer (method.md §6–8): query heads of kept kv groups, kv groups, FFN channels. */
    public enum Unit { NONE, QUERY_HEADS, KV_HEADS, FFN_CHANNELS }

    /**
     * How CoMe's concatenation merge combines the tensor of layers a and b (method.md §8): CONCAT gathers a's selected
     * units then b's along the axis; MEAN is the plain average (norms, §8.3); RATIO is r_a·a + r_b·b.
     */
    public enum Merge { CONCAT, MEAN, RATIO }

    /** A dimension of a shape, in terms of the config. */
    public enum Dim {
        HIDDEN, FFN, Q, KV, HEAD;

        public long size(ModelConfig c) {
            return switch (this) {
                case HIDDEN -> c.hiddenSize();
                case FFN -> c.intermediateSize();
                case Q -> c.qDim();
                case KV -> c.kvDim();
                case HEAD -> c.headDim();
            };
        }
    }

    public LayerTensor {
        boolean buffer = kind == Kind.BUFFER;
        if (buffer != (role == null) || buffer != (merge == null) || buffer != (shape == null))
            throw new IllegalArgumentException(name + ": a buffer has no role, shape or merge rule; a parameter has all three");
        if ((merge == Merge.CONCAT) != (axis != Axis.NONE) || (axis == Axis.NONE) != (unit == Unit.NONE))
            throw new IllegalArgumentException(name + ": CONCAT needs an axis and units, and only CONCAT has them");
    }

    /** A parameter present in every layer of the family. */
    public static LayerTensor tensor(String name, Role role, Kind kind, Dim[] shape, Axis axis, Unit unit, Merge merge) {
        return new LayerTensor(name, role, kind, shape, axis, unit, merge, c -> true, null);
    }

    /** A recognised non-parameter tensor that checkpoints may carry. */
    public static LayerTensor buffer(String name) {
        return new LayerTensor(name, null, Kind.BUFFER, null, Axis.NONE, Unit.NONE, null, c -> true, null);
    }

    /** The same tensor, present only in configs that satisfy {@code condition}. */
    public LayerTensor when(Predicate<ModelConfig> condition) {
        return new LayerTensor(name, role, kind, shape, axis, unit, merge, condition, fusedIn);
    }

    /**
     * The same tensor stored as a row block of the checkpoint tensor {@code fused} (Phi-3's qkv_proj, gate_up_proj): the
     * parts of one fused tensor are stacked in the family's order. Loading splits it into row views named as the part,
     * so everything after loading sees the part; the writer stacks the parts again ({@link LayerSchema#fuse}).
     */
    public LayerTensor in(String fused) {
        if (kind != Kind.PROJECTION && kind != Kind.BIAS)
            throw new IllegalArgumentException(name + ": only projections and biases are stored fused");
        return new LayerTensor(name, role, kind, shape, axis, unit, merge, when, fused);
    }

    public static Dim[] shape(Dim... dims) {
        return dims;
    }

    public boolean parameter() {
        return kind != Kind.BUFFER;
    }

    /** The shape this config implies. */
    public long[] shape(ModelConfig c) {
        long[] s = new long[shape.length];
        for (int i = 0; i < s.length; i++) s[i] = shape[i].size(c);
        return s;
    }

    public long size(ModelConfig c) {
        long n = 1;
        for (long x : shape(c)) n *= x;
        return n;
    }
}
