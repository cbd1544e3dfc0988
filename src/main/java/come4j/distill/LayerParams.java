package come4j.distill;

import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.tensor.Matrix;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The trainable tensors of one decoder layer by Hugging Face suffix ("self_attn.q_proj.weight", ...), in the order of
 * {@link LayerWeights#suffixes}; the same structure holds parameters, gradients and optimizer moments.
 */
public final class LayerParams {
    public static final String Q = "self_attn.q_proj.weight", K = "self_attn.k_proj.weight", V = "self_attn.v_proj.weight",
            O = "self_attn.o_proj.weight", GATE = "mlp.gate_proj.weight", UP = "mlp.up_proj.weight",
            DOWN = "mlp.down_proj.weight", NORM1 = "input_layernorm.weight", NORM2 = "post_attention_layernorm.weight",
            Q_NORM = "self_attn.q_norm.weight", K_NORM = "self_attn.k_norm.weight";

    private final Map<String, Arr> tensors;

    private LayerParams(Map<String, Arr> tensors) {
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /** A layer's weights copied into arrays made by {@code alloc} (fp32 or fp64). */
    public static LayerParams of(ModelConfig c, LayerWeights w, IntFunction<Arr> alloc) {
        Map<String, Arr> t = new LinkedHashMap<>();
        for (String s : LayerWeights.suffixes(c)) {
            Arr a = alloc.apply(size(c, s));
            Object src = source(w, s);
            if (src instanceof Matrix m) {
                float[] row = new float[m.cols()];
                for (int r = 0; r < m.rows(); r++) {
                    m.row(r, 0, row, 0, row.length);
                    for (int j = 0; j < row.length; j++) a.set(r * row.length + j, row[j]);
                }
            } else {
                float[] v = (float[]) src;
                for (int j = 0; j < v.length; j++) a.set(j, v[j]);
            }
            t.put(s, a);
        }
        return new LayerParams(t);
    }

    private static int size(ModelConfig c, String suffix) {
        long n = 1;
        for (long x : LayerWeights.shape(c, suffix)) n *= x;
        return Math.toIntExact(n);
    }

    private static Object source(LayerWeights w, String s) {
        return switch (s) {
            case Q -> w.q();
            case K -> w.k();
            case V -> w.v();
            case O -> w.o();
            case GATE -> w.gate();
            case UP -> w.up();
            case DOWN -> w.down();
            case NORM1 -> w.inputNorm();
            case NORM2 -> w.postNorm();
            case Q_NORM -> w.qNorm();
            case K_NORM -> w.kNorm();
            case "self_attn.q_proj.bias" -> w.qBias();
            case "self_attn.k_proj.bias" -> w.kBias();
            case "self_attn.v_proj.bias" -> w.vBias();
            case "self_attn.o_proj.bias" -> w.oBias();
            case "mlp.gate_proj.bias" -> w.gateBias();
            case "mlp.up_proj.bias" -> w.upBias();
            case "mlp.down_proj.bias" -> w.downBias();
            default -> throw new IllegalArgumentException(s);
        };
    }

    /** Zeros of the same shapes and precision (gradients, moments). */
    public LayerParams zeros() {
        Map<String, Arr> t = new LinkedHashMap<>();
        tensors.forEach((k, v) -> t.put(k, v.zeros(v.length())));
        return new LayerParams(t);
    }

    public LayerParams copy() {
        Map<String, Arr> t = new LinkedHashMap<>();
        tensors.forEach((k, v) -> t.put(k, v.copy()));
        return new LayerParams(t);
    }

    /** The tensor of a suffix, or null when the architecture lacks it. */
    public Arr get(String suffix) {
        return tensors.get(suffix);
    }

    /** The bias of a projection weight ("....weight" → "....bias"), or null. */
    public Arr bias(String weightSuffix) {
        return tensors.get(weightSuffix.replace(".weight", ".bias"));
    }

    public Map<String, Arr> tensors() {
        return tensors;
    }

    /** The tensors stored (converted to dtype) in scratch files, by suffix: the layer as a checkpoint holds it. */
    public Map<String, come4j.io.TensorData> store(ModelConfig c, come4j.io.ScratchTensors store, come4j.io.DType dtype) {
        java.util.List<come4j.io.ScratchTensors.Values> values = new java.util.ArrayList<>();
        tensors.forEach((s, a) -> values.add(new come4j.io.ScratchTensors.Values(s, LayerWeights.shape(c, s), a.toFloat())));
        return store.store(values, dtype);
    }
}
