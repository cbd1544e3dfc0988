package come4j.tensor;

import come4j.io.DType;

/**
 * The compute backend of a run: the products, the form weights are kept in ({@link #prepare}) and attention over a
 * batch of windows. The model calls only these for the heavy work, so a native or GPU backend is one class
 * (registered in {@link Backends}) and the model code does not change. Products take fp32 arrays and return fp32;
 * a backend whose {@link #compute()} is BF16 rounds both operands to bf16 (round to nearest even) and accumulates in
 * fp32, as torch's bf16 matmul does.
 */
public interface Backend {
    /** As --backend names it. */
    String name();

    /** The dtype product operands are rounded to: F32 or BF16. Accumulation is fp32 either way. */
    DType compute();

    /** This backend with fp32 products (statistics and distillation: fp32 whatever the model runs in). */
    Backend fp32();

    /** c[m x n] = a[m x k] * b^T where b is n x k (weights in Hugging Face layout, y = W x); all threads. */
    void matmul(float[] a, int m, Matrix b, float[] c);

    /**
     * c[i] = a · b[i]^T for weights that share one input (q, k, v; gate, up): the same products as one call each, but a
     * backend that converts a for its products (to bf16 in native memory) does it once for all of them.
     */
    default void matmul(float[] a, int m, Matrix[] b, float[][] c) {
        for (int i = 0; i < b.length; i++) matmul(a, m, b[i], c[i]);
    }

    /** The same on the calling thread, with offsets and row strides (for work already split across threads). */
    void matmul(float[] a, int aOff, int lda, int m, Matrix b, float[] c, int cOff, int ldc);

    /**
     * The backend's resident form of a weight used many times (converted and laid out once, so products skip that
     * work). May cost memory beyond the mapped file: callers decide what fits. Rows still read as the source's.
     */
    Matrix prepare(Matrix w);

    /**
     * Causal (optionally sliding-window) softmax attention with GQA over a batch of windows of T tokens: q is
     * [batch * T x heads * hd]; sequence b's keys and values are rows [b * kvRows, (b + 1) * kvRows) of
     * [. x kvHeads * hd] arrays, indexed by position (kvRows = T without a cache, its capacity with one); queries are
     * at positions pos0 .. pos0 + T - 1; scores are scaled by {@code scale} (1/sqrt(hd), or Gemma 3's
     * query_pre_attn_scalar^-0.5); out gets [batch * T x heads * hd]. Scores are accumulated and softmaxed in fp32;
     * by default the operands stay fp32 whatever {@link #compute()} is, while a bf16 backend may round q, k, v and the
     * probabilities to bf16 as torch's bf16 SDPA does (oneDNN's, {@link OneDnnAttention}).
     */
    default void attention(float[] q, float[] keys, float[] values, int batch, int T, int kvRows, int pos0, int heads,
                           int kvHeads, int hd, float scale, int window, float[] out) {
        Attention.causal(fp32(), q, keys, values, batch, T, kvRows, pos0, heads, kvHeads, hd, scale, window, out);
    }

    /** One line for logs and records: name and compute dtype. */
    default String describe() {
        return name() + " (" + compute().torchName() + " products, float32 accumulation)";
    }
}
