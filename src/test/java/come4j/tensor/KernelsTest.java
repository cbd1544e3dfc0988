package come4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.io.DType;
import come4j.io.TensorData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The blocked GEMM against a plain double-precision triple loop, on shapes that hit every edge of the blocking. */
class KernelsTest {
    @ParameterizedTest
    @CsvSource({"1,1,1,F32", "2,17,31,F32", "3,65,300,BF16", "5,64,256,F32", "67,130,257,F16", "128,64,64,BF16",
            "257,200,513,F32", "9,1,7,F32"})
    void matmulMatchesNaive(int m, int n, int k, DType dtype) {
        Random rnd = new Random(m * 31L + n * 7L + k);
        float[] a = random(rnd, m * k);
        float[] w = random(rnd, n * k);
        MemorySegment seg = Arena.ofAuto().allocate((long) n * k * dtype.bytes);
        Convert.fromFloat(w, 0, w.length, seg, dtype, 0);
        Convert.toFloat(seg, dtype, 0, w, 0, w.length); // the reference uses the stored (rounded) weights
        float[] c = new float[m * n];
        Kernels.get().matmul(a, m, Matrix.of(new TensorData("w", dtype, new long[] {n, k}, seg)), c);
        assertClose(naive(a, 0, k, m, w, k, n, 1), c, k);
    }

    /** The resident (pre-packed) form computes exactly what packing on the fly computes. */
    @ParameterizedTest
    @CsvSource({"3,65,300,BF16", "67,130,257,F32", "128,64,600,F16", "1,70,33,BF16"})
    void preparedWeightsGiveIdenticalProducts(int m, int n, int k, DType dtype) {
        Random rnd = new Random(m + n + k);
        float[] a = random(rnd, m * k), w = random(rnd, n * k);
        MemorySegment seg = Arena.ofAuto().allocate((long) n * k * dtype.bytes);
        Convert.fromFloat(w, 0, w.length, seg, dtype, 0);
        Matrix plain = Matrix.of(new TensorData("w", dtype, new long[] {n, k}, seg));
        Matrix prepared = Kernels.get().prepare(plain);
        float[] c1 = new float[m * n], c2 = new float[m * n];
        Kernels.get().matmul(a, m, plain, c1);
        Kernels.get().matmul(a, m, prepared, c2);
        assertArrayEquals(c1, c2);
        float[] row = new float[k], expected = new float[k];
        prepared.row(n - 1, 0, row, 0, k);
        plain.row(n - 1, 0, expected, 0, k);
        assertArrayEquals(expected, row);
    }

    @ParameterizedTest
    @CsvSource({"5,33,40", "64,32,128", "3,130,7"})
    void stridedSerialMatmulMatchesNaive(int m, int n, int k) {
        Random rnd = new Random(3);
        int lda = k + 5, ldc = n + 3;
        float[] a = random(rnd, m * lda + 2), w = random(rnd, k * n);
        // B as the transposed view of a k x n array (rows of B are its columns), as attention reads V.
        Matrix b = Matrix.of(w, 0, n, k, 1, n);
        float[] wt = new float[n * k];
        for (int j = 0; j < n; j++) for (int i = 0; i < k; i++) wt[j * k + i] = w[i * n + j];
        float[] c = new float[2 + m * ldc];
        Kernels.get().matmul(a, 2, lda, m, b, c, 2, ldc);
        float[] expected = naive(a, 2, lda, m, wt, k, n, 1);
        float[] got = new float[m * n];
        for (int i = 0; i < m; i++) System.arraycopy(c, 2 + i * ldc, got, i * n, n);
        assertClose(expected, got, k);
    }

    private static float[] naive(float[] a, int aOff, int lda, int m, float[] w, int k, int n, int unused) {
        float[] c = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double) a[aOff + i * lda + p] * w[j * k + p];
                c[i * n + j] = (float) s;
            }
        return c;
    }

    private static void assertClose(float[] expected, float[] actual, int k) {
        double tol = 1e-6 * Math.sqrt(k) * 4;
        for (int i = 0; i < expected.length; i++)
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol, "element " + i + ": " + actual[i] + " vs " + expected[i]);
    }

    private static float[] random(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian() * 0.5f;
        return x;
    }
}
