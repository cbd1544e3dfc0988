package come4j.tensor;

/**
 * The compute kernels a backend provides. The forward pass calls only these for the heavy work, so a native or GPU
 * backend can replace {@link VectorKernels} without touching the model code.
 */
public interface Kernels {
    /** c[m x n] = a[m x k] * b^T where b is n x k (weights in Hugging Face layout, y = W x); all threads. */
    void matmul(float[] a, int m, Matrix b, float[] c);

    /** The same on the calling thread, with offsets and row strides (for work already split across threads). */
    void matmul(float[] a, int aOff, int lda, int m, Matrix b, float[] c, int cOff, int ldc);

    /**
     * The backend's own resident form of a weight used many times (here: fp32 panels, so products skip packing and
     * conversion; a GPU backend would upload it). Costs fp32 memory: callers decide what fits.
     */
    Matrix prepare(Matrix w);

    static Kernels get() {
        return VectorKernels.INSTANCE;
    }
}
