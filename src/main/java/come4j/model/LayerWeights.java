package come4j.model;

import come4j.io.Checkpoint;
import come4j.tensor.Matrix;

/**
 * One decoder layer's parameters. Projections are {@link Matrix} views (mmap'd tensors of a checkpoint, or arrays of a
 * merged layer); norms and biases are small fp32 arrays. Optional parts are null when the architecture lacks them.
 */
public record LayerWeights(
        Matrix q, Matrix k, Matrix v, Matrix o,
        Matrix gate, Matrix up, Matrix down,
        float[] inputNorm, float[] postNorm,
        float[] qNorm, float[] kNorm,
        float[] qBias, float[] kBias, float[] vBias, float[] oBias,
        float[] gateBias, float[] upBias, float[] downBias) {

    public static String prefix(int layer) {
        return "model.layers." + layer + ".";
    }

    /** The tensor names of one layer (without the "model.layers.N." prefix) that this architecture has. */
    public static java.util.List<String> suffixes(ModelConfig c) {
        java.util.List<String> names = new java.util.ArrayList<>(java.util.List.of(
                "input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                "self_attn.o_proj.weight", "post_attention_layernorm.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
                "mlp.down_proj.weight"));
        if (c.qkNorm()) names.addAll(java.util.List.of("self_attn.q_norm.weight", "self_attn.k_norm.weight"));
        if (c.qkvBias()) names.addAll(java.util.List.of("self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias"));
        if (c.oBias()) names.add("self_attn.o_proj.bias");
        if (c.mlpBias()) names.addAll(java.util.List.of("mlp.gate_proj.bias", "mlp.up_proj.bias", "mlp.down_proj.bias"));
        return names;
    }

    /** The shape config.json implies for a layer tensor. */
    public static long[] shape(ModelConfig c, String suffix) {
        long d = c.hiddenSize(), f = c.intermediateSize(), qd = c.qDim(), kv = c.kvDim(), hd = c.headDim();
        return switch (suffix) {
            case "self_attn.q_proj.weight" -> new long[] {qd, d};
            case "self_attn.k_proj.weight", "self_attn.v_proj.weight" -> new long[] {kv, d};
            case "self_attn.o_proj.weight" -> new long[] {d, qd};
            case "mlp.gate_proj.weight", "mlp.up_proj.weight" -> new long[] {f, d};
            case "mlp.down_proj.weight" -> new long[] {d, f};
            case "self_attn.q_norm.weight", "self_attn.k_norm.weight" -> new long[] {hd};
            case "self_attn.q_proj.bias" -> new long[] {qd};
            case "self_attn.k_proj.bias", "self_attn.v_proj.bias" -> new long[] {kv};
            case "mlp.gate_proj.bias", "mlp.up_proj.bias" -> new long[] {f};
            default -> new long[] {d}; // norms, o_proj and down_proj biases
        };
    }

    /** Layer {@code i} of a checkpoint by suffix, shapes checked against the config. */
    public static java.util.Map<String, come4j.io.TensorData> tensors(Checkpoint ckpt, int i) {
        java.util.Map<String, come4j.io.TensorData> out = new java.util.LinkedHashMap<>();
        for (String s : suffixes(ckpt.config())) out.put(s, ckpt.tensor(prefix(i) + s, shape(ckpt.config(), s)));
        return out;
    }

    public static LayerWeights load(Checkpoint ckpt, int i) {
        return of(ckpt.config(), tensors(ckpt, i));
    }

    /** A layer's weights from its tensors by suffix (optional parts absent from the map are null). */
    public static LayerWeights of(ModelConfig c, java.util.Map<String, come4j.io.TensorData> t) {
        String a = "self_attn.", m = "mlp.";
        return new LayerWeights(
                Matrix.of(t.get(a + "q_proj.weight")), Matrix.of(t.get(a + "k_proj.weight")),
                Matrix.of(t.get(a + "v_proj.weight")), Matrix.of(t.get(a + "o_proj.weight")),
                Matrix.of(t.get(m + "gate_proj.weight")), Matrix.of(t.get(m + "up_proj.weight")),
                Matrix.of(t.get(m + "down_proj.weight")),
                vector(t, "input_layernorm.weight"), vector(t, "post_attention_layernorm.weight"),
                vector(t, a + "q_norm.weight"), vector(t, a + "k_norm.weight"),
                vector(t, a + "q_proj.bias"), vector(t, a + "k_proj.bias"), vector(t, a + "v_proj.bias"),
                vector(t, a + "o_proj.bias"),
                vector(t, m + "gate_proj.bias"), vector(t, m + "up_proj.bias"), vector(t, m + "down_proj.bias"));
    }

    /** The same layer with every projection mapped (e.g. to the kernels' resident form). */
    public LayerWeights withMatrices(java.util.function.UnaryOperator<Matrix> f) {
        return new LayerWeights(f.apply(q), f.apply(k), f.apply(v), f.apply(o), f.apply(gate), f.apply(up), f.apply(down),
                inputNorm, postNorm, qNorm, kNorm, qBias, kBias, vBias, oBias, gateBias, upBias, downBias);
    }

    private static float[] vector(java.util.Map<String, come4j.io.TensorData> t, String name) {
        come4j.io.TensorData x = t.get(name);
        return x == null ? null : x.toFloat();
    }
}
