package come4j.merge;

/**
 * Ridge-regularised least squares from accumulated statistics: given G = XᵀX (K × K) and B = XᵀE (K × m) in fp64,
 * solves (G + λI) Δ = B by Cholesky. Δ is the ridge update of a projection towards the residual E, shrunk to zero as
 * λ grows, so a large λ leaves the projection as it was.
 */
public final class Ridge {
    private Ridge() {}

    /** Δ [K × m] with (G + λI) Δ = B; G is row-major K × K (symmetric, only read), B row-major K × m. */
    public static double[] solve(double[] G, double[] B, int K, int m, double lambda) {
        double[] L = new double[K * K];
        for (int i = 0; i < K; i++) { // Cholesky–Banachiewicz, lower triangle of G + λI
            for (int j = 0; j <= i; j++) {
                double s = G[i * K + j] + (i == j ? lambda : 0);
                for (int k = 0; k < j; k++) s -= L[i * K + k] * L[j * K + k];
                if (i == j) {
                    if (!(s > 0)) throw new ArithmeticException("the Gram matrix plus ridge is not positive definite (pivot " + s + " at " + i + ")");
                    L[i * K + i] = Math.sqrt(s);
                } else {
                    L[i * K + j] = s / L[j * K + j];
                }
            }
        }
        double[] x = B.clone();
        for (int i = 0; i < K; i++) { // forward: L y = B, rows of m right-hand sides at once
            for (int k = 0; k < i; k++) {
                double l = L[i * K + k];
                if (l != 0) for (int c = 0; c < m; c++) x[i * m + c] -= l * x[k * m + c];
            }
            double inv = 1 / L[i * K + i];
            for (int c = 0; c < m; c++) x[i * m + c] *= inv;
        }
        for (int i = K - 1; i >= 0; i--) { // backward: Lᵀ Δ = y
            for (int k = i + 1; k < K; k++) {
                double l = L[k * K + i];
                if (l != 0) for (int c = 0; c < m; c++) x[i * m + c] -= l * x[k * m + c];
            }
            double inv = 1 / L[i * K + i];
            for (int c = 0; c < m; c++) x[i * m + c] *= inv;
        }
        return x;
    }

    /** The trace of a K × K matrix over K: the scale the ridge grid is relative to. */
    public static double meanDiagonal(double[] G, int K) {
        double t = 0;
        for (int i = 0; i < K; i++) t += G[i * K + i];
        return t / K;
    }
}
