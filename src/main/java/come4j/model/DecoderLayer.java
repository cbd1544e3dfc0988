package come4j.model;

import come4j.tensor.Kernels;
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
    private static final int QUERY_BLOCK = 64; // query rows per attention task: causal blocks skip future keys

    private DecoderLayer() {}

    /**
     * Applies layer {@code layer} in place to h, a batch of sequences of T tokens each ([batch * T x d]; positions
     * pos0 .. pos0+T-1). Projections run over all batch * T rows at once; attention stays within each sequence. With a
     * cache (batch 1), keys and values are appended to it and attention sees every cached position.
     */
    public static void forward(ModelConfig c, LayerWeights w, Rope rope, float[] h, int batch, int T, int pos0,
                               KVCache cache, LayerHooks hooks, int layer) {
        Kernels K = Kernels.get();
        int d = c.hiddenSize(), f = c.intermediateSize(), qd = c.qDim(), kvd = c.kvDim(), hd = c.headDim();
        if (cache == null ? pos0 != 0 : batch != 1)
            throw new IllegalArgumentException("a KV cache serves one sequence; without one, positions start at 0");
        int rows = batch * T;

        float[] xn = new float[rows * d];
        norm(h, rows, d, w.inputNorm(), c.rmsNormEps(), xn);
        hooks.attentionInput(layer, xn, rows);
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
        if (cache != null) {
            System.arraycopy(k, 0, cache.keys[layer], pos0 * kvd, T * kvd);
            System.arraycopy(v, 0, cache.values[layer], pos0 * kvd, T * kvd);
            keys = cache.keys[layer];
            values = cache.values[layer];
        }
        float[] attn = new float[rows * qd];
        attention(c, q, keys, values, batch, T, pos0, c.slidingWindow()[layer], attn);
        hooks.attentionOutput(layer, attn, rows);
        add(h, project(K, attn, rows, w.o(), w.oBias()), rows, d);

        norm(h, rows, d, w.postNorm(), c.rmsNormEps(), xn);
        hooks.ffnInput(layer, xn, rows);
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

    private static float[] project(Kernels K, float[] x, int T, Matrix w, float[] bias) {
        float[] y = new float[T * w.rows()];
        K.matmul(x, T, w, y);
        if (bias != null) VectorOps.addBias(y, T, bias);
        return y;
    }

    /**
     * Causal (optionally sliding-window) softmax attention with GQA: query head h reads kv head h / nRep. Work is split
     * into (head, block of queries) tasks; each computes scores only against the keys its queries may see.
     */
    static void attention(ModelConfig c, float[] q, float[] keys, float[] values, int batch, int T, int pos0, int window,
                          float[] out) {
        Kernels K = Kernels.get();
        int heads = c.numHeads(), hd = c.headDim(), qd = c.qDim(), kvd = c.kvDim(), nRep = c.nRep();
        float scale = (float) (1.0 / Math.sqrt(hd));
        int blocks = (T + QUERY_BLOCK - 1) / QUERY_BLOCK;
        Parallel.forEach(batch * heads * blocks, task -> {
            int b = task / (heads * blocks), h = task / blocks % heads, g = h / nRep;
            int i0 = (task % blocks) * QUERY_BLOCK, rows = Math.min(T, i0 + QUERY_BLOCK) - i0;
            int qOff = b * T * qd, kvOff = b * T * kvd; // sequence b's rows (keys of a cache start at 0)
            int hi = pos0 + i0 + rows;
            int lo = window > 0 ? Math.max(0, pos0 + i0 - window + 1) : 0;
            int n = hi - lo;
            float[] s = new float[rows * n];
            K.matmul(q, qOff + i0 * qd + h * hd, qd, rows, Matrix.of(keys, kvOff + lo * kvd + g * hd, n, hd, kvd, 1), s, 0, n);
            for (int r = 0; r < rows; r++) {
                int pos = pos0 + i0 + r, o = r * n;
                int first = window > 0 ? Math.max(lo, pos - window + 1) - lo : 0, last = pos - lo; // inclusive
                java.util.Arrays.fill(s, o, o + first, 0f);
                java.util.Arrays.fill(s, o + last + 1, o + n, 0f);
                VectorOps.scale(s, o + first, last - first + 1, scale);
                VectorOps.softmax(s, o + first, last - first + 1);
            }
            K.matmul(s, 0, n, rows, Matrix.of(values, kvOff + lo * kvd + g * hd, hd, n, 1, kvd), out, qOff + i0 * qd + h * hd, qd);
        });
    }
}
