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

    /** Reads layer {@code i} of a checkpoint, checking every shape against the config. */
    public static LayerWeights load(Checkpoint ckpt, int i) {
        ModelConfig c = ckpt.config();
        String p = prefix(i), a = p + "self_attn.", m = p + "mlp.";
        int d = c.hiddenSize(), f = c.intermediateSize(), qd = c.qDim(), kv = c.kvDim();
        return new LayerWeights(
                Matrix.of(ckpt.tensor(a + "q_proj.weight", qd, d)),
                Matrix.of(ckpt.tensor(a + "k_proj.weight", kv, d)),
                Matrix.of(ckpt.tensor(a + "v_proj.weight", kv, d)),
                Matrix.of(ckpt.tensor(a + "o_proj.weight", d, qd)),
                Matrix.of(ckpt.tensor(m + "gate_proj.weight", f, d)),
                Matrix.of(ckpt.tensor(m + "up_proj.weight", f, d)),
                Matrix.of(ckpt.tensor(m + "down_proj.weight", d, f)),
                vector(ckpt, true, p + "input_layernorm.weight", d),
                vector(ckpt, true, p + "post_attention_layernorm.weight", d),
                vector(ckpt, c.qkNorm(), a + "q_norm.weight", c.headDim()),
                vector(ckpt, c.qkNorm(), a + "k_norm.weight", c.headDim()),
                vector(ckpt, c.qkvBias(), a + "q_proj.bias", qd),
                vector(ckpt, c.qkvBias(), a + "k_proj.bias", kv),
                vector(ckpt, c.qkvBias(), a + "v_proj.bias", kv),
                vector(ckpt, c.oBias(), a + "o_proj.bias", d),
                vector(ckpt, c.mlpBias(), m + "gate_proj.bias", f),
                vector(ckpt, c.mlpBias(), m + "up_proj.bias", f),
                vector(ckpt, c.mlpBias(), m + "down_proj.bias", d));
    }

    private static float[] vector(Checkpoint ckpt, boolean present, String name, int n) {
        return present ? ckpt.tensor(name, n).toFloat() : null;
    }
}
