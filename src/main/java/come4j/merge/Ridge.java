package come4j.merge;

import come4j.tensor.Backend;
import come4j.tensor.Backends;
import come4j.tensor.Matrix;
import come4j.tensor.Parallel;

/**
 * Ridge-regularised least squares from accumulated statistics: given G = XᵀX (K × K) and B = XᵀE (K × m) in fp64,
 * solves (G + λI) Δ = B by Cholesky. Δ is the ridge update of a projection towards the residual E, shrunk to zero as
 * λ grows, so a large λ leaves the projection as it was.
 */
public final class Ridge {
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
        Backend kern = Backends.fp32(); // statistics are fp32 whatever the model computes in
        kern.matmul(xt, K, Matrix.of(xt, 0, K, n, n, 1), g);
        kern.matmul(xt, K, Matrix.of(e, 0, m, n, 1, m), c);
        for (int i = 0; i < g.length; i++) G[i] += g[i];
        for (int i = 0; i < c.length; i++) B[i] += c[i];
    }

    /** Δ [K × m] with (G + λI) Δ = B; G is row-major K × K (symmetric, only read), B row-major K × m. */
    public static double[] solve(double[] G, double[] B, int K, int m, double lambda) {
        double[] L = new double[K * K];
        for (int j = 0; j < K; j++) { // Cholesky by columns: column j's rows below the diagonal in parallel
            double s = G[j * K + j] + lambda;
            for (int k = 0; k < j; k++) s -= L[j * K + k] * L[j * K + k];
            if (!(s > 0)) throw new ArithmeticException("the Gram matrix plus ridge is not positive definite (pivot " + s + " at " + j + ")");
            double ljj = Math.sqrt(s);
            L[j * K + j] = ljj;
            int col = j;
            Parallel.forRows(K - j - 1, 64, (r0, r1) -> {
                for (int i = col + 1 + r0; i < col + 1 + r1; i++) {
                    double t = G[i * K + col];
                    for (int k = 0; k < col; k++) t -= L[i * K + k] * L[col * K + k];
                    L[i * K + col] = t / ljj;
                }
            });
        }
        double[] x = B.clone();
        // the right-hand sides in chunks of RHS_CHUNK columns, in parallel: a chunk of x stays in cache while L streams
        Parallel.forRows((m + RHS_CHUNK - 1) / RHS_CHUNK, 1, (c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) substitute(L, x, K, m, ch * RHS_CHUNK, Math.min(m, (ch + 1) * RHS_CHUNK));
        });
        return x;
    }

    /** Columns [a, b) of x: L y = x, then Lᵀ Δ = y, in place. */
    private static void substitute(double[] L, double[] x, int K, int m, int a, int b) {
        for (int i = 0; i < K; i++) {
            for (int k = 0; k < i; k++) {
                double l = L[i * K + k];
                if (l != 0) for (int c = a; c < b; c++) x[i * m + c] -= l * x[k * m + c];
            }
            double inv = 1 / L[i * K + i];
            for (int c = a; c < b; c++) x[i * m + c] *= inv;
        }
        for (int i = K - 1; i >= 0; i--) {
            for (int k = i + 1; k < K; k++) {
                double l = L[k * K + i];
                if (l != 0) for (int c = a; c < b; c++) x[i * m + c] -= l * x[k * m + c];
            }
            double inv = 1 / L[i * K + i];
            for (int c = a; c < b; c++) x[i * m + c] *= inv;
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
