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

    static Kernels get() {
        return VectorKernels.INSTANCE;
    }
}
