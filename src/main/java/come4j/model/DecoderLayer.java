package come4j.model;

import come4j.tensor.Backend;
import come4j.tensor.Matrix;
import come4j.tensor.Parallel;
import come4j.tensor.VectorOps;

/**
 * The whole pre-norm decoder layer of the LLaMA family in one place, batched over T tokens:
 * <pre>
 *   u = h + W_o · Attn(RoPE(W_q n1(h)), RoPE(W_k n1(h)), W_v n1(h))
 *   h' = u + W_down · (silu(W_gate n2(u)) ⊙ W_up n2(u))
 * </pre>
 * Architecture differences are data: optional biases (Qwen2, attention_bias), per-head q/k RMSNorm before RoPE
 * (Qwen3), sliding windows (Mistral, Qwen layer_types).
 */
public final class DecoderLayer {
    private DecoderLayer() {}

    /**
     * Applies layer {@code layer} in place to h, a batch of sequences of T tokens each ([batch * T x d]; positions
     * pos0 .. pos0+T-1). Projections run over all batch * T rows at once; attention stays within each sequence. With a
     * cache (of as many sequences), each sequence's keys and values are appended to its own and attention sees every
     * cached position. Products and attention run on the backend K.
     */
    public static void forward(Backend K, ModelConfig c, LayerWeights w, Rope rope, float[] h, int batch, int T, int pos0,
                               KVCache cache, LayerHooks hooks, int layer) {
        int d = c.hiddenSize(), f = c.intermediateSize(), qd = c.qDim(), kvd = c.kvDim(), hd = c.headDim();
        if (cache == null ? pos0 != 0 : batch != cache.batch)
            throw new IllegalArgumentException("a KV cache serves its own batch of sequences; without one, positions start at 0");
        int rows = batch * T;

        float[] xn = new float[rows * d];
        norm(h, rows, d, w.inputNorm(), c.rmsNormEps(), xn);
        float[] q = project(K, xn, rows, w.q(), w.qBias());
        float[] k = project(K, xn, rows, w.k(), w.kBias());
        float[] v = project(K, xn, rows, w.v(), w.vBias());
        if (w.qNorm() != null) {
            norm(q, rows * c.numHeads(), hd, w.qNorm(), c.rmsNormEps(), q);
            norm(k, rows * c.numKvHeads(), hd, w.kNorm(), c.rmsNormEps(), k);
        }
        Parallel.forRows(rows, 64, (r0, r1) -> {
            rope.apply(q, r0, r1, T, c.numHeads(), qd, pos0);
            rope.apply(k, r0, r1, T, c.numKvHeads(), kvd, pos0);
        });
        float[] keys = k, values = v;
        int kvRows = T; // key rows per sequence in keys/values
        if (cache != null) {
            kvRows = cache.capacity;
            for (int b = 0; b < batch; b++) {
                System.arraycopy(k, b * T * kvd, cache.keys[layer], (b * kvRows + pos0) * kvd, T * kvd);
                System.arraycopy(v, b * T * kvd, cache.values[layer], (b * kvRows + pos0) * kvd, T * kvd);
            }
            keys = cache.keys[layer];
            values = cache.values[layer];
        }
        float[] attn = new float[rows * qd];
        K.attention(q, keys, values, batch, T, kvRows, pos0, c.numHeads(), c.numKvHeads(), hd, c.slidingWindow()[layer], attn);
        hooks.attentionOutput(layer, attn, rows);
        add(h, project(K, attn, rows, w.o(), w.oBias()), rows, d);

        norm(h, rows, d, w.postNorm(), c.rmsNormEps(), xn);
        float[] gate = project(K, xn, rows, w.gate(), w.gateBias());
        float[] up = project(K, xn, rows, w.up(), w.upBias());
        Parallel.forRows(rows, 16, (r0, r1) -> VectorOps.swiglu(gate, up, r0 * f, (r1 - r0) * f));
        hooks.ffnInner(layer, gate, rows);
        add(h, project(K, gate, rows, w.down(), w.downBias()), rows, d);
    }

    private static void norm(float[] x, int rows, int n, float[] weight, double eps, float[] out) {
        Parallel.forRows(rows, 64, (r0, r1) -> VectorOps.rmsNorm(x, r0 * n, r1 - r0, n, n, weight, eps, out));
    }

    private static void add(float[] h, float[] x, int rows, int d) {
        Parallel.forRows(rows, 64, (r0, r1) -> VectorOps.addInPlace(h, x, r0 * d, (r1 - r0) * d));
    }

    private static float[] project(Backend K, float[] x, int T, Matrix w, float[] bias) {
        float[] y = new float[T * w.rows()];
        K.matmul(x, T, w, y);
        if (bias != null) VectorOps.addBias(y, T, bias);
        return y;
    }
}
