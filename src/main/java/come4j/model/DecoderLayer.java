package come4j.model;

import come4j.tensor.Backend;
import come4j.tensor.Matrix;
import come4j.tensor.Parallel;
import come4j.tensor.VectorOps;

/**
 * The whole decoder layer in one place, batched over T tokens. Pre-norm (LLaMA family, OPT):
 * <pre>
 *   u = h + W_o · Attn(RoPE(W_q n1(h)), RoPE(W_k n1(h)), W_v n1(h))
 *   h' = u + W_down · (silu(W_gate n2(u)) ⊙ W_up n2(u))
 * </pre>
 * Architecture differences are data: optional biases (Qwen2, attention_bias, OPT), per-head q/k RMSNorm before RoPE
 * (Qwen3), sliding windows (Mistral, Qwen layer_types); from the config's layout: LayerNorm with bias instead of
 * RMSNorm, learned positions instead of RoPE, and post-norm (OPT-350m: u = n1(h + attn(h)), h' = n2(u + ffn(u))). The
 * FFN is ReLU(W_up x) (OPT's fc1) when the layer has no gate. Gemma 3 (the layout's {@link ModelConfig.Gemma}): norms
 * scale by (1 + w), the attention and FFN outputs pass their own norms before the residual adds, GeGLU (gelu tanh)
 * instead of SwiGLU, scores scaled by query_pre_attn_scalar^-0.5.
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
        Workspace ws = Workspace.acquire();
        try {
            forward(K, c, w, rope, h, batch, T, pos0, cache, hooks, layer, ws);
        } finally {
            ws.release();
        }
    }

    private static void forward(Backend K, ModelConfig c, LayerWeights w, Rope rope, float[] h, int batch, int T, int pos0,
                                KVCache cache, LayerHooks hooks, int layer, Workspace ws) {
        int d = c.hiddenSize(), f = c.intermediateSize(), qd = c.qDim(), kvd = c.kvDim(), hd = c.headDim();
        if (cache == null ? pos0 != 0 : batch != cache.batch)
            throw new IllegalArgumentException("a KV cache serves its own batch of sequences; without one, positions start at 0");
        int rows = batch * T;

        boolean preNorm = c.layout().preNorm();
        boolean kept = hooks != LayerHooks.NONE; // the hooks may keep attn and gate: those are fresh arrays then
        float[] xn = ws.array(Workspace.NORMED, rows * d);
        if (preNorm) norm(c, h, rows, normScale(c, w.inputNorm()), w.inputNormBias(), xn);
        else System.arraycopy(h, 0, xn, 0, rows * d);
        float[] q = ws.array(Workspace.Q, rows * w.q().rows()), k = ws.array(Workspace.K, rows * w.k().rows()),
                v = ws.array(Workspace.V, rows * w.v().rows());
        project(K, xn, rows, new Matrix[] {w.q(), w.k(), w.v()}, new float[][] {q, k, v}, w.qBias(), w.kBias(), w.vBias());
        if (w.qNorm() != null) {
            norm(q, rows * c.numHeads(), hd, normScale(c, w.qNorm()), c.rmsNormEps(), q);
            norm(k, rows * c.numKvHeads(), hd, normScale(c, w.kNorm()), c.rmsNormEps(), k);
        }
        if (!c.layout().learnedPositions())
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
        float[] attn = kept ? new float[rows * qd] : ws.array(Workspace.ATTENTION, rows * qd);
        K.attention(q, keys, values, batch, T, kvRows, pos0, c.numHeads(), c.numKvHeads(), hd, (float) c.attentionScale(), c.slidingWindow()[layer], attn);
        hooks.attentionOutput(layer, attn, rows);
        addNormed(c, h, project(K, attn, rows, w.o(), w.oBias(), ws), w.vector(Role.ATTENTION_OUTPUT_NORM), rows);
        if (!preNorm) norm(c, h, rows, w.inputNorm(), w.inputNormBias(), h);

        if (preNorm) norm(c, h, rows, normScale(c, w.postNorm()), w.postNormBias(), xn);
        else System.arraycopy(h, 0, xn, 0, rows * d);
        int width = rows * w.up().rows();
        float[] up = kept && w.gate() == null ? new float[width] : ws.array(Workspace.UP, width);
        float[] gate = w.gate() == null ? up : kept ? new float[width] : ws.array(Workspace.GATE, width);
        if (w.gate() == null) project(K, xn, rows, new Matrix[] {w.up()}, new float[][] {up}, w.upBias());
        else project(K, xn, rows, new Matrix[] {w.up(), w.gate()}, new float[][] {up, gate}, w.upBias(), w.gateBias());
        if (c.layout().gemma() != null) Parallel.forRows(rows, 16, (r0, r1) -> VectorOps.geglu(gate, up, r0 * f, (r1 - r0) * f));
        else if (w.gate() != null) Parallel.forRows(rows, 16, (r0, r1) -> VectorOps.swiglu(gate, up, r0 * f, (r1 - r0) * f));
        else Parallel.forRows(rows, 16, (r0, r1) -> VectorOps.relu(gate, r0 * f, (r1 - r0) * f));
        hooks.ffnInner(layer, gate, rows);
        addNormed(c, h, project(K, gate, rows, w.down(), w.downBias(), ws), w.vector(Role.FFN_OUTPUT_NORM), rows);
        if (!preNorm) norm(c, h, rows, w.postNorm(), w.postNormBias(), h);
    }

    /** The layer's norm of d-wide rows: LayerNorm with its bias, or RMSNorm, as the layout says; out may be x. */
    private static void norm(ModelConfig c, float[] x, int rows, float[] weight, float[] bias, float[] out) {
        int d = c.hiddenSize();
        if (c.layout().layerNorm())
            Parallel.forRows(rows, 64, (r0, r1) -> VectorOps.layerNorm(x, r0 * d, r1 - r0, d, d, weight, bias, c.rmsNormEps(), out));
        else norm(x, rows, d, weight, c.rmsNormEps(), out);
    }

    private static void norm(float[] x, int rows, int n, float[] weight, double eps, float[] out) {
        Parallel.forRows(rows, 64, (r0, r1) -> VectorOps.rmsNorm(x, r0 * n, r1 - r0, n, n, weight, eps, out));
    }

    /** h += x, with x first normed by the sublayer's output norm where the layer has one (Gemma 3). */
    private static void addNormed(ModelConfig c, float[] h, float[] x, float[] outputNorm, int rows) {
        int d = c.hiddenSize();
        if (outputNorm != null) norm(c, x, rows, normScale(c, outputNorm), null, x);
        Parallel.forRows(rows, 64, (r0, r1) -> VectorOps.addInPlace(h, x, r0 * d, (r1 - r0) * d));
    }

    /** A norm's weight as the forward pass multiplies by it: w, or Gemma's 1 + w (in fp32, as transformers adds it). */
    public static float[] normScale(ModelConfig c, float[] w) {
        if (w == null || c.layout().gemma() == null) return w;
        float[] s = new float[w.length];
        for (int i = 0; i < w.length; i++) s[i] = 1f + w[i];
        return s;
    }

    /** A projection of x into the workspace's OUT array. */
    private static float[] project(Backend K, float[] x, int T, Matrix w, float[] bias, Workspace ws) {
        float[] y = ws.array(Workspace.OUT, T * w.rows());
        project(K, x, T, new Matrix[] {w}, new float[][] {y}, bias);
        return y;
    }

    /** The projections y[i] = x · w[i]^T (+ bias) of one input x (q, k, v; up, gate), in one backend call so it prepares x once. */
    private static void project(Backend K, float[] x, int T, Matrix[] w, float[][] y, float[]... bias) {
        K.matmul(x, T, w, y);
        for (int i = 0; i < w.length; i++) if (bias[i] != null) VectorOps.addBias(y[i], T, bias[i]);
    }
}
