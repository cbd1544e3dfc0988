package come4j.merge;

import come4j.tensor.Backend;
import come4j.tensor.Backends;
import come4j.tensor.Fp64Gemm;
import come4j.tensor.Matrix;
import come4j.tensor.Parallel;

/**
 * Ridge-regularised least squares from accumulated statistics: given G = XᵀX (K × K) and B = XᵀE (K × m) in fp64,
 * solves (G + λI) Δ = B by Cholesky. Δ is the ridge update of a projection towards the residual E, shrunk to zero as
 * λ grows, so a large λ leaves the projection as it was.
 */
public final class Ridge {
    /** Largest K solved unblocked; above it, the diagonal blocks of the recursive factor are at most this size. */
    static final int NB = 1024;
    private static final int RHS_CHUNK = 64;            // right-hand sides per task, unblocked
    private static final int BLOCKED_RHS_CHUNK = 256;   // blocked: wider, so each block of L is packed fewer times
    private static final int SUBSTITUTION_BLOCK = 64;   // blocked: rows substituted one by one below this
    private static final int PANEL_ROWS = 256;          // rows of a panel transposed and solved at once
    private static final int TRAILING_TILE = 256;       // square tiles of the trailing update, one task each

    private Ridge() {}

    /**
     * G += XᵀX and B += XᵀE for one block of n rows, X [n × K] and E [n × m] row-major: the products run on the GEMM
     * kernels in fp32 (sums over the block's n rows), the blocks are summed in fp64.
     */
    public static void accumulate(float[] x, float[] e, int n, int m, double[] G, double[] B) {
        int K = x.length / n;
        float[] xt = new float[K * n];
        for (int t = 0; t < n; t++) for (int k = 0; k < K; k++) xt[k * n + t] = x[t * K + k];
        float[] g = new float[K * K], c = new float[K * m];
        Backend kern = Backends.fp32(); // statistics are fp32 whatever the model computes in
        kern.matmul(xt, K, Matrix.of(xt, 0, K, n, n, 1), g);
        kern.matmul(xt, K, Matrix.of(e, 0, m, n, 1, m), c);
        for (int i = 0; i < g.length; i++) G[i] += g[i];
        for (int i = 0; i < c.length; i++) B[i] += c[i];
    }

    /** Δ [K × m] with (G + λI) Δ = B; G is row-major K × K (symmetric, only read), B row-major K × m. */
    public static double[] solve(double[] G, double[] B, int K, int m, double lambda) {
        return solve(G, B, K, m, lambda, NB);
    }

    /**
     * The solve with diagonal blocks of at most nb: up to K = nb the factor and the substitutions run unblocked, by
     * columns and rows as they always have (so the demo model's projections, K ≤ 688, give the results of before bit
     * for bit); above it, blocked, with nearly all of the arithmetic in fp64 matrix products.
     */
    static double[] solve(double[] G, double[] B, int K, int m, double lambda, int nb) {
        double[] L = G.clone(); // the factor overwrites the lower triangle; the upper one is never read (blocked, the
        // diagonal tiles of the trailing updates write into it)
        for (int j = 0; j < K; j++) L[j * K + j] += lambda;
        boolean blocked = K > nb;
        if (blocked) factor(L, K, 0, K, nb);
        else factorColumns(L, K, 0, K);
        double[] x = B.clone();
        int chunk = blocked ? BLOCKED_RHS_CHUNK : RHS_CHUNK, leaf = blocked ? Math.min(nb, SUBSTITUTION_BLOCK) : K;
        Parallel.forRows((m + chunk - 1) / chunk, 1, (c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) {
                int a = ch * chunk, b = Math.min(m, a + chunk);
                forward(L, 0, K, K, x, 0, m, a, b, leaf);
                backward(L, 0, K, K, x, 0, m, a, b, leaf);
            }
        });
        return x;
    }

    /**
     * Recursive blocked Cholesky of the diagonal block [j0, j1) of L (lower triangle, updated by every column before
     * j0): the first half is factored, the panel below it solved against it, the trailing lower triangle updated by
     * one symmetric product, then the second half factored. Blocks of at most nb are factored by columns.
     */
    private static void factor(double[] L, int K, int j0, int j1, int nb) {
        if (j1 - j0 <= nb) {
            factorColumns(L, K, j0, j1);
            return;
        }
        int h = j0 + (j1 - j0) / 2, w = h - j0, leaf = Math.min(nb, SUBSTITUTION_BLOCK);
        factor(L, K, j0, h, nb);
        // the panel L[h:j1, j0:h] := A · L11⁻ᵀ: transposed by chunks of rows, each chunk is a forward substitution
        Parallel.forRows(j1 - h, 1, (r0, r1) -> {
            double[] z = new double[w * Math.min(PANEL_ROWS, r1 - r0)];
            for (int s0 = r0; s0 < r1; s0 += PANEL_ROWS) {
                int n = Math.min(PANEL_ROWS, r1 - s0), row = (h + s0) * K + j0;
                for (int i = 0; i < n; i++) for (int k = 0; k < w; k++) z[k * n + i] = L[row + i * K + k];
                forward(L, j0 * K + j0, K, w, z, 0, n, 0, n, leaf);
                for (int i = 0; i < n; i++) for (int k = 0; k < w; k++) L[row + i * K + k] = z[k * n + i];
            }
        });
        // the trailing lower triangle L[h:j1, h:j1] −= P Pᵀ (P the panel), by square tiles on and below the diagonal
        int tiles = (j1 - h + TRAILING_TILE - 1) / TRAILING_TILE;
        int[] tileRow = new int[tiles * (tiles + 1) / 2], tileCol = new int[tileRow.length];
        for (int bi = 0, t = 0; bi < tiles; bi++)
            for (int bj = 0; bj <= bi; bj++, t++) {
                tileRow[t] = h + bi * TRAILING_TILE;
                tileCol[t] = h + bj * TRAILING_TILE;
            }
        Parallel.forEach(tileRow.length, t -> {
            int i0 = tileRow[t], c0 = tileCol[t];
            Fp64Gemm.subtractProduct(Math.min(TRAILING_TILE, j1 - i0), Math.min(TRAILING_TILE, j1 - c0), w,
                    L, i0 * K + j0, K, 1, L, c0 * K + j0, 1, K, L, i0 * K + c0, K);
        });
        factor(L, K, h, j1, nb);
    }

    /** Cholesky by columns of the diagonal block [j0, j1) of L in place: column j's rows below the diagonal in parallel. */
    private static void factorColumns(double[] L, int K, int j0, int j1) {
        for (int j = j0; j < j1; j++) {
            double s = L[j * K + j];
            for (int k = j0; k < j; k++) s -= L[j * K + k] * L[j * K + k];
            if (!(s > 0))
                throw new ArithmeticException("the Gram matrix plus ridge is not positive definite (pivot " + s + " at row " + j + " of " + K + ")");
            double ljj = Math.sqrt(s);
            L[j * K + j] = ljj;
            int col = j;
            Parallel.forRows(j1 - j - 1, 64, (r0, r1) -> {
                for (int i = col + 1 + r0; i < col + 1 + r1; i++) {
                    double t = L[i * K + col];
                    for (int k = j0; k < col; k++) t -= L[i * K + k] * L[col * K + k];
                    L[i * K + col] = t / ljj;
                }
            });
        }
    }

    /**
     * Columns [a, b) of the n rows of x at xOff (row stride ldx): L y = x in place, L the n × n lower triangle at lOff
     * (row stride ldl). Halved until n ≤ leaf, the lower half first updated by one matrix product with the upper.
     */
    private static void forward(double[] L, int lOff, int ldl, int n, double[] x, int xOff, int ldx, int a, int b, int leaf) {
        if (n <= leaf) {
            forwardRows(L, lOff, ldl, n, x, xOff, ldx, a, b);
            return;
        }
        int h = n / 2;
        forward(L, lOff, ldl, h, x, xOff, ldx, a, b, leaf);
        Fp64Gemm.subtractProduct(n - h, b - a, h, L, lOff + h * ldl, ldl, 1, x, xOff + a, ldx, 1, x, xOff + h * ldx + a, ldx);
        forward(L, lOff + h * ldl + h, ldl, n - h, x, xOff + h * ldx, ldx, a, b, leaf);
    }

    /** As forward, for Lᵀ Δ = y: the lower half first, then the upper half updated by Lᵀ's off-diagonal block. */
    private static void backward(double[] L, int lOff, int ldl, int n, double[] x, int xOff, int ldx, int a, int b, int leaf) {
        if (n <= leaf) {
            backwardRows(L, lOff, ldl, n, x, xOff, ldx, a, b);
            return;
        }
        int h = n / 2;
        backward(L, lOff + h * ldl + h, ldl, n - h, x, xOff + h * ldx, ldx, a, b, leaf);
        Fp64Gemm.subtractProduct(h, b - a, n - h, L, lOff + h * ldl, 1, ldl, x, xOff + h * ldx + a, ldx, 1, x, xOff + a, ldx);
        backward(L, lOff, ldl, h, x, xOff, ldx, a, b, leaf);
    }

    /** forward's base case: substitution row by row (a chunk of x stays in cache while L streams). */
    private static void forwardRows(double[] L, int lOff, int ldl, int n, double[] x, int xOff, int ldx, int a, int b) {
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < i; k++) {
                double l = L[lOff + i * ldl + k];
                if (l != 0) for (int c = a; c < b; c++) x[xOff + i * ldx + c] -= l * x[xOff + k * ldx + c];
            }
            double inv = 1 / L[lOff + i * ldl + i];
            for (int c = a; c < b; c++) x[xOff + i * ldx + c] *= inv;
        }
    }

    /** backward's base case. */
    private static void backwardRows(double[] L, int lOff, int ldl, int n, double[] x, int xOff, int ldx, int a, int b) {
        for (int i = n - 1; i >= 0; i--) {
            for (int k = i + 1; k < n; k++) {
                double l = L[lOff + k * ldl + i];
                if (l != 0) for (int c = a; c < b; c++) x[xOff + i * ldx + c] -= l * x[xOff + k * ldx + c];
            }
            double inv = 1 / L[lOff + i * ldl + i];
            for (int c = a; c < b; c++) x[xOff + i * ldx + c] *= inv;
        }
    }

    /** Peak fp64 bytes of one projection's statistics and solve: G and its factor (K × K), B and Δ (K × m). */
    public static long peakBytes(int K, int m) {
        return (2L * K * K + 2L * K * m) * Double.BYTES;
    }

    /** The trace of a K × K matrix over K: the scale the ridge grid is relative to. */
    public static double meanDiagonal(double[] G, int K) {
        double t = 0;
        for (int i = 0; i < K; i++) t += G[i * K + i];
        return t / K;
    }
}
