package come4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.io.Convert;
import come4j.io.DType;
import come4j.io.TensorData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every backend that loads here (the registry {@link Backends#available}: a new backend is one class and one line
 * there), in both compute dtypes, against fp64 references on the same inputs. Tolerances per op:
 * <ul>
 *   <li>products: the operands rounded to the compute dtype, multiplied exactly and summed in fp64; a backend's
 *   fp32 accumulation may differ by at most k · 2⁻²⁴ · Σ|aᵢbᵢ| (the worst-case bound of any summation order of k
 *   terms), while a bf16 product whose operands were not rounded would miss by about 2⁻⁹ of |c|;</li>
 *   <li>attention: 1e-5 of the largest |value| (fp32 scores, softmax and products of at most a few hundred terms);
 *   oneDNN's bf16 attention (q, k, v and the exponentials rounded to bf16, as torch's bf16 SDPA) against the
 *   reference on q, k, v rounded to bf16: at most 2⁻⁸ · Σⱼ pⱼ |vⱼ| + 1e-5 per output (an exponential rounded to bf16
 *   moves by at most 2⁻⁸ of itself; the 1e-5 is the fp32 part; measured 0.34-0.83 of it). A wrong mask, window or
 *   kv head misses by far more; the bound does not tell rounded q, k from unrounded ones.</li>
 * </ul>
 */
class BackendConformanceTest {
    static List<Arguments> backends() {
        List<Arguments> all = new ArrayList<>();
        for (DType compute : new DType[] {DType.F32, DType.BF16})
            for (Backend b : Backends.available(compute)) all.add(Arguments.of(Named.of(b.describe(), b)));
        return all;
    }

    /**
     * Shapes that hit every edge of the blocking, on both sides of the native backends' row threshold, and one deeper
     * than 4,096 (oneDNN's products run it in slices on CPUs with AMX, whole elsewhere: deepProductsInSlicesMatchFp64).
     */
    private static final int[][] SHAPES = {{1, 1, 1}, {2, 17, 31}, {3, 65, 300}, {5, 64, 256}, {16, 33, 70},
            {67, 130, 257}, {128, 64, 64}, {257, 200, 513}, {9, 1, 7}, {20, 24, 6221}};

    @ParameterizedTest
    @MethodSource("backends")
    void productsMatchFp64(Backend backend) {
        for (int[] s : SHAPES)
            for (DType stored : DType.values()) {
                int m = s[0], n = s[1], k = s[2];
                Random rnd = new Random(m * 31L + n * 7L + k);
                float[] a = random(rnd, m * k);
                Matrix w = stored(random(rnd, n * k), n, k, stored);
                float[] c = new float[m * n];
                backend.matmul(a, m, w, c);
                check(backend, a, 0, k, m, w, c, 0, n, stored + " " + m + "x" + n + "x" + k);
                float[] p = new float[m * n];
                backend.matmul(a, m, backend.prepare(w), p);
                // the resident form changes no result: the same numbers reach the same product
                assertArrayEquals(c, p, backend.describe() + " prepared " + stored + " " + m + "x" + n + "x" + k);
            }
    }

    /**
     * Products sharing one input (q, k, v; gate, up) in one call, over more rows than one native chunk and with a
     * short last chunk: each against fp64, and the same numbers as the product alone.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void sharedInputProductsMatchFp64(Backend backend) {
        for (int m : new int[] {7, 600}) {
            int k = 96;
            Random rnd = new Random(m);
            float[] a = random(rnd, m * k);
            int[] ns = {128, 40, 33};
            Matrix[] w = new Matrix[ns.length];
            float[][] c = new float[ns.length][];
            for (int i = 0; i < ns.length; i++) {
                w[i] = stored(random(rnd, ns[i] * k), ns[i], k, DType.BF16);
                c[i] = new float[m * ns[i]];
            }
            backend.matmul(a, m, w, c);
            for (int i = 0; i < ns.length; i++) {
                check(backend, a, 0, k, m, w[i], c[i], 0, ns[i], "shared input " + i + " " + m + "x" + ns[i] + "x" + k);
                float[] alone = new float[m * ns[i]];
                backend.matmul(a, m, w[i], alone);
                assertArrayEquals(alone, c[i], backend.describe() + " shared input " + i + " " + m + " rows");
            }
        }
    }

    /**
     * A weight as large as a 7B projection's chunking rule counts large (2^22 elements: oneDNN's bf16 products take
     * LARGE_CHUNK rows per call, side by side on the threads, then a leftover and a short last chunk): the rows at
     * every chunk edge against fp64, and the resident (packed) form giving the same bits.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void largeWeightsInLargeChunksMatchFp64(Backend backend) {
        int L = OneDnnBackend.LARGE_CHUNK, n = 2048, k = 2048, m = 2 * L + 100;
        assertTrue((long) n * k >= OneDnnBackend.LARGE_WEIGHT);
        Random rnd = new Random(5);
        float[] a = random(rnd, m * k), c = new float[m * n], p = new float[m * n];
        Matrix w = stored(random(rnd, n * k), n, k, DType.BF16);
        backend.matmul(a, m, w, c);
        int[] rows = {0, L - 1, L, 2 * L - 1, 2 * L, m - 1};
        float[] as = new float[rows.length * k], cs = new float[rows.length * n];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(a, rows[i] * k, as, i * k, k);
            System.arraycopy(c, rows[i] * n, cs, i * n, n);
        }
        check(backend, as, 0, k, rows.length, w, cs, 0, n, "large weight, chunk edges of " + m + "x" + n + "x" + k);
        backend.matmul(a, m, backend.prepare(w), p);
        assertArrayEquals(c, p, backend.describe() + " prepared large weight " + m + "x" + n + "x" + k);
    }

    /** The per-thread product with offsets and strides; B a transposed view (as attention reads V) or row-major. */
    @ParameterizedTest
    @MethodSource("backends")
    void stridedProductsMatchFp64(Backend backend) {
        for (int[] s : new int[][] {{5, 33, 40}, {64, 32, 128}, {3, 130, 7}, {40, 20, 300}})
            for (boolean columnMajor : new boolean[] {true, false}) {
                int m = s[0], n = s[1], k = s[2], lda = k + 5, ldc = n + 3;
                Random rnd = new Random(m + n + k);
                float[] a = random(rnd, 2 + m * lda), w = random(rnd, k * n + 3);
                Matrix b = columnMajor ? Matrix.of(w, 3, n, k, 1, n) : Matrix.of(w, 3, n, k, k, 1);
                float[] c = new float[2 + m * ldc];
                backend.matmul(a, 2, lda, m, b, c, 2, ldc);
                check(backend, a, 2, lda, m, b, c, 2, ldc, "strided " + m + "x" + n + "x" + k);
                if (m >= 16) { // the all-threads product on a strided B (distillation, least squares)
                    float[] dense = new float[m * k], out = new float[m * n];
                    for (int i = 0; i < m; i++) System.arraycopy(a, 2 + i * lda, dense, i * k, k);
                    backend.matmul(dense, m, b, out);
                    check(backend, dense, 0, k, m, b, out, 0, n, "strided all-threads " + m + "x" + n + "x" + k);
                }
            }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void attentionMatchesFp64(Backend backend) {
        // (batch, T, pos0, heads, kvHeads, hd, window, spare cache rows): MHA, GQA, a sliding window, cached positions
        // (one sequence, and a batch of them in a cache with room to spare), T over a query block; bf16 on oneDNN
        // from 16 queries on: a window and a cache there too, the demo model's shape (8 heads of 32, 4 kv heads), and
        // 16 (sequence, kv head) pairs of 256 tokens, whose scores oneDNN's attention holds in 4 chunks of pairs
        int[][] cases = {{2, 70, 0, 4, 4, 16, 0, 0}, {1, 130, 0, 8, 2, 8, 0, 0}, {2, 90, 0, 4, 2, 16, 17, 0},
                {1, 5, 40, 4, 2, 16, 0, 0}, {1, 7, 30, 2, 1, 8, 12, 0}, {3, 4, 20, 4, 2, 8, 0, 9},
                {2, 20, 30, 4, 1, 16, 25, 7}, {2, 64, 0, 8, 4, 32, 0, 0}, {4, 256, 0, 8, 4, 16, 0, 0}};
        for (int[] t : cases) {
            int batch = t[0], T = t[1], pos0 = t[2], heads = t[3], kvHeads = t[4], hd = t[5], window = t[6];
            int keysLen = pos0 + T + t[7], qd = heads * hd, kvd = kvHeads * hd;
            Random rnd = new Random(T * 13L + heads);
            float[] q = random(rnd, batch * T * qd), kk = random(rnd, batch * keysLen * kvd), v = random(rnd, batch * keysLen * kvd);
            float[] out = new float[batch * T * qd];
            float scale = t[7] > 0 ? 0.3f : (float) (1 / Math.sqrt(hd)); // any scale (Gemma 3's is not 1/sqrt(hd))
            backend.attention(q, kk, v, batch, T, keysLen, pos0, heads, kvHeads, hd, scale, window, out);
            boolean bf16 = backend instanceof OneDnnBackend && backend.compute() == DType.BF16 && T >= OneDnnBackend.MIN_ROWS;
            if (bf16) for (float[] x : new float[][] {q, kk, v}) Convert.roundToBf16(x, 0, x.length);
            double worst = 0;
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < T; i++)
                    for (int h = 0; h < heads; h++) {
                        int g = h / (heads / kvHeads), pos = pos0 + i, first = window > 0 ? Math.max(0, pos - window + 1) : 0;
                        double[] sc = new double[pos + 1];
                        double max = Double.NEGATIVE_INFINITY, sum = 0;
                        for (int j = first; j <= pos; j++) {
                            double d = 0;
                            for (int e = 0; e < hd; e++)
                                d += (double) q[(b * T + i) * qd + h * hd + e] * kk[(b * keysLen + j) * kvd + g * hd + e];
                            sc[j] = d * scale;
                            max = Math.max(max, sc[j]);
                        }
                        for (int j = first; j <= pos; j++) sum += sc[j] = Math.exp(sc[j] - max);
                        for (int e = 0; e < hd; e++) {
                            double o = 0, mag = 0;
                            for (int j = first; j <= pos; j++) {
                                o += sc[j] / sum * v[(b * keysLen + j) * kvd + g * hd + e];
                                mag += sc[j] / sum * Math.abs(v[(b * keysLen + j) * kvd + g * hd + e]);
                            }
                            double tol = (bf16 ? 0x1p-8 * mag : 0) + 1e-5;
                            worst = Math.max(worst, Math.abs(o - out[(b * T + i) * qd + h * hd + e]) / tol);
                        }
                    }
            assertTrue(worst < 1, backend.describe() + " attention " + java.util.Arrays.toString(t) + ": error " + worst + " x the tolerance");
        }
    }

    /**
     * Jobs run side by side ({@link Parallel#sideBySide}: every kernel of a job on its worker alone) give the bits the
     * same products and attention give on all threads: the native library's scratchpad is each thread's own, and no
     * result depends on the thread count (perplexity runs its batches so).
     */
    @ParameterizedTest
    @MethodSource("backends")
    void jobsSideBySideGiveTheBitsOfAllThreads(Backend backend) {
        Random rnd = new Random(11);
        int m = 300, n = 130, k = 257, batch = 2, T = 150, heads = 4, kvHeads = 2, hd = 16;
        float[] a = random(rnd, m * k), q = random(rnd, batch * T * heads * hd), kk = random(rnd, batch * T * kvHeads * hd),
                v = random(rnd, batch * T * kvHeads * hd);
        Matrix w = stored(random(rnd, n * k), n, k, DType.BF16);
        float[] c = new float[m * n], out = new float[q.length];
        backend.matmul(a, m, w, c);
        backend.attention(q, kk, v, batch, T, T, 0, heads, kvHeads, hd, 0.25f, 0, out);
        int jobs = 6;
        float[][] cs = new float[jobs][m * n], outs = new float[jobs][q.length];
        Parallel.sideBySide(jobs, j -> {
            backend.matmul(a, m, w, cs[j]);
            backend.attention(q, kk, v, batch, T, T, 0, heads, kvHeads, hd, 0.25f, 0, outs[j]);
        });
        for (int j = 0; j < jobs; j++) {
            assertArrayEquals(c, cs[j], backend.describe() + " product, job " + j);
            assertArrayEquals(out, outs[j], backend.describe() + " attention, job " + j);
        }
    }

    /**
     * oneDNN's bf16 products deeper than 4,096 in slices of 2,048 added up (the last one short), as on CPUs with AMX,
     * whatever this CPU has; resident weights alike. Without the sum of the slices this misses by 166x its bound.
     */
    @Test
    void deepProductsInSlicesMatchFp64() {
        java.util.Optional<Backend> onednn = Backends.available(DType.BF16).stream().filter(b -> b.name().equals("onednn")).findFirst();
        org.junit.jupiter.api.Assumptions.assumeTrue(onednn.isPresent(), "oneDNN does not load here");
        Backend sliced = ((OneDnnBackend) onednn.get()).inDepthSlices();
        for (int m : new int[] {20, 300}) {
            int n = 24, k = 6221;
            Random rnd = new Random(m);
            float[] a = random(rnd, m * k);
            Matrix w = stored(random(rnd, n * k), n, k, DType.BF16);
            float[] c = new float[m * n], p = new float[m * n];
            sliced.matmul(a, m, w, c);
            check(sliced, a, 0, k, m, w, c, 0, n, "in depth slices " + m + "x" + n + "x" + k);
            sliced.matmul(a, m, sliced.prepare(w), p);
            check(sliced, a, 0, k, m, w, p, 0, n, "resident, in depth slices " + m + "x" + n + "x" + k);
        }
    }

    @Test
    void theVectorBackendIsAlwaysThere() {
        assertEquals("vector", Backends.available(DType.F32).get(0).name());
        assertEquals(DType.BF16, Backends.available(DType.BF16).get(0).compute());
    }

    /** With -Dcome4j.backend=onednn the suite must have run it: a machine where it does not load fails here. */
    @Test
    void theRequestedBackendLoaded() {
        String wanted = System.getProperty("come4j.backend", "auto");
        if (wanted.equals("auto")) return;
        assertTrue(Backends.available(DType.BF16).stream().anyMatch(b -> b.name().equals(wanted)), wanted + " did not load");
    }

    private static void check(Backend backend, float[] a, int aOff, int lda, int m, Matrix b, float[] c, int cOff, int ldc, String what) {
        int n = b.rows(), k = b.cols();
        boolean bf16 = backend.compute() == DType.BF16;
        float[] bt = new float[n * k], ar = new float[k];
        for (int j = 0; j < n; j++) b.row(j, 0, bt, j * k, k);
        if (bf16) Convert.roundToBf16(bt, 0, n * k);
        double worst = 0;
        for (int i = 0; i < m; i++) {
            System.arraycopy(a, aOff + i * lda, ar, 0, k);
            if (bf16) Convert.roundToBf16(ar, 0, k);
            for (int j = 0; j < n; j++) {
                double s = 0, mag = 0;
                for (int p = 0; p < k; p++) {
                    double x = (double) ar[p] * bt[j * k + p];
                    s += x;
                    mag += Math.abs(x);
                }
                double err = Math.abs(c[cOff + i * ldc + j] - s), tol = k * 0x1p-24 * mag + 1e-30;
                worst = Math.max(worst, err / tol);
            }
        }
        assertTrue(worst <= 1, backend.describe() + " " + what + ": error " + worst + " x the fp32 summation bound");
    }

    private static Matrix stored(float[] w, int n, int k, DType dtype) {
        MemorySegment seg = Arena.ofAuto().allocate((long) n * k * dtype.bytes);
        Convert.fromFloat(w, 0, w.length, seg, dtype, 0);
        return Matrix.of(new TensorData("w", dtype, new long[] {n, k}, seg));
    }

    private static float[] random(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rnd.nextFloat() * 2 - 1;
        return x;
    }
}
