package come4j.merge;

import come4j.tensor.Kernels;
import come4j.tensor.Matrix;
import come4j.tensor.Parallel;

/**
 * Ridge-regularised least squares from accumulated statistics: given G = XᵀX (K × K) and B = XᵀE (K × m) in fp64,
 * solves (G + λI) Δ = B from one tridiagonal factorisation shared by every λ. Δ is the ridge update of a projection towards the residual E, shrunk to zero as
 * λ grows, so a large λ leaves the projection as it was.
 */
public final class Ridge {
    /** Columns of the right-hand sides per parallel block. */
    private static final int RHS_CHUNK = 64;

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
        Kernels kern = Kernels.get();
        kern.matmul(xt, K, Matrix.of(xt, 0, K, n, n, 1), g);
        kern.matmul(xt, K, Matrix.of(e, 0, m, n, 1, m), c);
        for (int i = 0; i < g.length; i++) G[i] += g[i];
        for (int i = 0; i < c.length; i++) B[i] += c[i];
    }

    /** Δ [K × m] with (G + λI) Δ = B; G is row-major K × K (symmetric, only read), B row-major K × m. */
    public static double[] solve(double[] G, double[] B, int K, int m, double lambda) {
        return factor(G, B, K, m).solve(lambda);
    }

    /**
     * One factorisation for every λ: G = Q T Qᵀ by Householder tridiagonalisation (fp64; T tridiagonal, Q orthogonal),
     * and C = QᵀB. Then (G + λI)⁻¹B = Q (T + λI)⁻¹ C, so each λ costs one tridiagonal solve (K·m) and one product with
     * Q (K²·m), where a Cholesky per λ costs K³/3 plus two triangular solves (2K²·m). G and B are only read.
     */
    public static Factored factor(double[] G, double[] B, int K, int m) {
        double[] v = G.clone(), diag = new double[K], off = new double[K];
        tridiagonalise(v, K, diag, off);
        return new Factored(v, diag, off, product(v, false, B, K, m), K, m);
    }

    /** G = Q T Qᵀ held as Qᵀ (row j of {@code qt} is column j of Q), T's diagonal and sub-diagonal, and C = QᵀB. */
    public record Factored(double[] qt, double[] diag, double[] off, double[] C, int K, int m) {
        /** Δ [K × m] with (G + λI) Δ = B. */
        public double[] solve(double lambda) {
            double[] l = new double[K], p = new double[K]; // T + λI = L D Lᵀ, L unit lower bidiagonal (l), D = p
            for (int i = 0; i < K; i++) {
                if (i > 0) l[i] = off[i] / p[i - 1];
                p[i] = diag[i] + lambda - (i > 0 ? l[i] * off[i] : 0);
                if (!(p[i] > 0)) throw new ArithmeticException("the Gram matrix plus ridge is not positive definite (pivot " + p[i] + " at " + i + ")");
            }
            double[] y = C.clone();
            Parallel.forRows(m, 64, (c0, c1) -> { // (T + λI) Y = C, column by column
                for (int i = 1; i < K; i++) for (int c = c0; c < c1; c++) y[i * m + c] -= l[i] * y[(i - 1) * m + c];
                for (int i = 0; i < K; i++) for (int c = c0; c < c1; c++) y[i * m + c] /= p[i];
                for (int i = K - 2; i >= 0; i--) for (int c = c0; c < c1; c++) y[i * m + c] -= l[i + 1] * y[(i + 1) * m + c];
            });
            return product(qt, true, y, K, m); // Δ = Q Y
        }
    }

    /**
     * V X (or Vᵀ X) for V = {@code v} K × K and X K × m, row-major, in fp64: column blocks of X in parallel, so that a
     * block of X and of the result stays in cache while V streams; sums run over ascending k.
     */
    private static double[] product(double[] v, boolean transposed, double[] x, int K, int m) {
        double[] out = new double[K * m];
        Parallel.forRows((m + RHS_CHUNK - 1) / RHS_CHUNK, 1, (b0, b1) -> {
            for (int blk = b0; blk < b1; blk++) {
                int c0 = blk * RHS_CHUNK, c1 = Math.min(m, c0 + RHS_CHUNK);
                for (int j = 0; j < K; j++)
                    for (int k = 0; k < K; k++) {
                        double a = v[j * K + k];
                        if (a == 0) continue;
                        int src = (transposed ? j : k) * m, dst = (transposed ? k : j) * m;
                        for (int c = c0; c < c1; c++) out[dst + c] += a * x[src + c];
                    }
            }
        });
        return out;
    }

    /**
     * Householder reduction of the symmetric n × n matrix in v to tridiagonal form (EISPACK tred2, as in JAMA), in
     * place: v ends as Qᵀ, diag and off (off[i] couples i − 1 and i; off[0] = 0) hold T. v is stored transposed to
     * tred2's V, so that its inner loops run along rows; the rank-2 updates and the accumulation of Q run in parallel.
     */
    static void tridiagonalise(double[] v, int n, double[] d, double[] e) {
        for (int j = 0; j < n; j++) d[j] = v[j * n + n - 1];
        for (int i = n - 1; i > 0; i--) {
            double scale = 0, h = 0;
            for (int k = 0; k < i; k++) scale += Math.abs(d[k]);
            if (scale == 0) {
                e[i] = d[i - 1];
                for (int j = 0; j < i; j++) {
                    d[j] = v[j * n + i - 1];
                    v[j * n + i] = 0;
                    v[i * n + j] = 0;
                }
            } else {
                for (int k = 0; k < i; k++) {
                    d[k] /= scale;
                    h += d[k] * d[k];
                }
                double f = d[i - 1], g = Math.sqrt(h);
                if (f > 0) g = -g;
                e[i] = scale * g;
                h -= f * g;
                d[i - 1] = f - g;
                for (int j = 0; j < i; j++) e[j] = 0;
                for (int j = 0; j < i; j++) { // e = A d on the lower triangle (row j of v from j on is V's column j)
                    f = d[j];
                    v[i * n + j] = f;
                    g = e[j] + v[j * n + j] * f;
                    for (int k = j + 1; k <= i - 1; k++) {
                        g += v[j * n + k] * d[k];
                        e[k] += v[j * n + k] * f;
                    }
                    e[j] = g;
                }
                f = 0;
                for (int j = 0; j < i; j++) {
                    e[j] /= h;
                    f += e[j] * d[j];
                }
                double hh = f / (h + h);
                for (int j = 0; j < i; j++) e[j] -= hh * d[j];
                int top = i;
                Parallel.forRows(i, 64, (j0, j1) -> {
                    for (int j = j0; j < j1; j++) {
                        double fj = d[j], gj = e[j];
                        for (int k = j; k <= top - 1; k++) v[j * n + k] -= fj * e[k] + gj * d[k];
                    }
                });
                for (int j = 0; j < i; j++) {
                    d[j] = v[j * n + i - 1];
                    v[j * n + i] = 0;
                }
            }
            d[i] = h;
        }
        for (int i = 0; i < n - 1; i++) { // accumulate the transformations
            v[i * n + n - 1] = v[i * n + i];
            v[i * n + i] = 1;
            double h = d[i + 1];
            if (h != 0) {
                for (int k = 0; k <= i; k++) d[k] = v[(i + 1) * n + k] / h;
                int top = i;
                Parallel.forRows(i + 1, 64, (j0, j1) -> {
                    for (int j = j0; j < j1; j++) {
                        double g = 0;
                        for (int k = 0; k <= top; k++) g += v[(top + 1) * n + k] * v[j * n + k];
                        for (int k = 0; k <= top; k++) v[j * n + k] -= g * d[k];
                    }
                });
            }
            for (int k = 0; k <= i; k++) v[(i + 1) * n + k] = 0;
        }
        for (int j = 0; j < n; j++) {
            d[j] = v[j * n + n - 1];
            v[j * n + n - 1] = 0;
        }
        v[(n - 1) * n + n - 1] = 1;
        e[0] = 0;
    }

    /** Peak fp64 bytes of one projection's statistics and solve: G and Qᵀ (K × K), and B, C, Y and Δ (K × m). */
    public static long peakBytes(int K, int m) {
        return (2L * K * K + 4L * K * m) * Double.BYTES;
    }

    /** The trace of a K × K matrix over K: the scale the ridge grid is relative to. */
    public static double meanDiagonal(double[] G, int K) {
        double t = 0;
        for (int i = 0; i < K; i++) t += G[i * K + i];
        return t / K;
    }
}
