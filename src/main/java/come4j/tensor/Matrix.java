package come4j.tensor;

import come4j.io.TensorData;

/**
 * A read-only row-major matrix whose rows are read as fp32 on demand: weights stay in their stored dtype (mmap'd)
 * and are converted as the kernels pack them.
 */
public interface Matrix {
    int rows();

    int cols();

    /** Elements [c0, c0 + n) of row r as fp32 into dst[off..]. */
    void row(int r, int c0, float[] dst, int off, int n);

    static Matrix of(TensorData t) {
        int rows = t.rows(), cols = t.cols();
        return new Matrix() {
            public int rows() { return rows; }
            public int cols() { return cols; }
            public void row(int r, int c0, float[] dst, int off, int n) {
                t.toFloat((long) r * cols + c0, dst, off, n);
            }
        };
    }

    /** A strided view of a float array: element (r, c) at data[offset + r * rowStride + c * colStride]. */
    static Matrix of(float[] data, int offset, int rows, int cols, int rowStride, int colStride) {
        return new Strided(data, offset, rows, cols, rowStride, colStride);
    }

    /** See {@link #of(float[], int, int, int, int, int)}; the kernels pack a column-major one (rowStride 1) by runs. */
    record Strided(float[] data, int offset, int rows, int cols, int rowStride, int colStride) implements Matrix {
        public void row(int r, int c0, float[] dst, int off, int n) {
            int base = offset + r * rowStride + c0 * colStride;
            if (colStride == 1) System.arraycopy(data, base, dst, off, n);
            else for (int i = 0; i < n; i++) dst[off + i] = data[base + i * colStride];
        }
    }
}
