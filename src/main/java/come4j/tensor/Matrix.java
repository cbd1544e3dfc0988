package come4j.tensor;

import come4j.io.DType;
import come4j.io.TensorData;
import java.lang.foreign.MemorySegment;

/**
 * A read-only row-major weight whose rows can be read as fp32 on demand. It states its stored dtype and where its
 * elements live ({@link Storage}), so a backend can read them in place (an mmap'd bf16 tensor goes to a bf16 product
 * without a copy) and convert only what it must.
 */
public interface Matrix {
    int rows();

    int cols();

    /** Elements [c0, c0 + n) of row r as fp32 into dst[off..]. */
    void row(int r, int c0, float[] dst, int off, int n);

    /** The element type as stored. */
    DType dtype();

    Storage storage();

    /** Where a matrix's elements are. */
    sealed interface Storage permits Mapped, Strided, Resident {}

    /** Row-major elements of the matrix's dtype in native memory (an mmap'd or scratch tensor). */
    record Mapped(MemorySegment data) implements Storage {}

    /** A backend's resident form ({@link Backend#prepare}): only {@code owner} reads {@code form}. */
    record Resident(Backend owner, Object form) implements Storage {}

    static Matrix of(TensorData t) {
        int rows = t.rows(), cols = t.cols();
        Storage storage = new Mapped(t.data());
        return new Matrix() {
            public int rows() { return rows; }
            public int cols() { return cols; }
            public void row(int r, int c0, float[] dst, int off, int n) {
                t.toFloat((long) r * cols + c0, dst, off, n);
            }
            public DType dtype() { return t.dtype(); }
            public Storage storage() { return storage; }
        };
    }

    /** A strided view of a float array: element (r, c) at data[offset + r * rowStride + c * colStride]. */
    static Matrix of(float[] data, int offset, int rows, int cols, int rowStride, int colStride) {
        return new Strided(data, offset, rows, cols, rowStride, colStride);
    }

    /** See {@link #of(float[], int, int, int, int, int)}; the kernels pack a column-major one (rowStride 1) by runs. */
    record Strided(float[] data, int offset, int rows, int cols, int rowStride, int colStride) implements Matrix, Storage {
        public void row(int r, int c0, float[] dst, int off, int n) {
            int base = offset + r * rowStride + c0 * colStride;
            if (colStride == 1) System.arraycopy(data, base, dst, off, n);
            else for (int i = 0; i < n; i++) dst[off + i] = data[base + i * colStride];
        }

        public DType dtype() { return DType.F32; }

        public Storage storage() { return this; }
    }

    /** A matrix in a backend's resident form that still reads its rows from the source. */
    static Matrix resident(Matrix source, Backend owner, Object form) {
        Storage storage = new Resident(owner, form);
        return new Matrix() {
            public int rows() { return source.rows(); }
            public int cols() { return source.cols(); }
            public void row(int r, int c0, float[] dst, int off, int n) { source.row(r, c0, dst, off, n); }
            public DType dtype() { return source.dtype(); }
            public Storage storage() { return storage; }
        };
    }
}
