package come4j.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RidgeTest {
    @Test
    void twoByTwoSolvedByHand() {
        // (G + I) x = b with G = [[4, 2], [2, 3]], b = (2, 1): [[5, 2], [2, 4]] x = (2, 1), det 16,
        // x = (4·2 − 2·1, −2·2 + 5·1) / 16 = (0.375, 0.0625)
        double[] x = Ridge.solve(new double[] {4, 2, 2, 3}, new double[] {2, 1}, 2, 1, 1.0);
        assertArrayEquals(new double[] {0.375, 0.0625}, x, 1e-15);
    }

    @Test
    void matchesGaussianEliminationOnTheNormalEquations() {
        SplittableRandom rnd = new SplittableRandom(16);
        int n = 20, K = 5, m = 3;
        double[] X = new double[n * K], E = new double[n * m];
        for (int i = 0; i < X.length; i++) X[i] = rnd.nextDouble(-1, 1);
        for (int i = 0; i < E.length; i++) E[i] = rnd.nextDouble(-1, 1);
        double[] G = new double[K * K], B = new double[K * m];
        for (int t = 0; t < n; t++)
            for (int i = 0; i < K; i++) {
                for (int j = 0; j < K; j++) G[i * K + j] += X[t * K + i] * X[t * K + j];
                for (int c = 0; c < m; c++) B[i * m + c] += X[t * K + i] * E[t * m + c];
            }
        double lambda = 0.3;
        double[] x = Ridge.solve(G, B, K, m, lambda);
        for (int c = 0; c < m; c++) { // one right-hand side at a time, by plain elimination with partial pivoting
            double[][] aug = new double[K][K + 1];
            for (int i = 0; i < K; i++) {
                for (int j = 0; j < K; j++) aug[i][j] = G[i * K + j] + (i == j ? lambda : 0);
                aug[i][K] = B[i * m + c];
            }
            double[] expected = gauss(aug);
            for (int i = 0; i < K; i++) assertEquals(expected[i], x[i * m + c], 1e-12, "row " + i + ", column " + c);
        }
        // and it is the minimum: the gradient Xᵀ(XΔ − E) + λΔ of the ridge objective vanishes
        for (int i = 0; i < K; i++)
            for (int c = 0; c < m; c++) {
                double g = lambda * x[i * m + c];
                for (int t = 0; t < n; t++) {
                    double r = -E[t * m + c];
                    for (int j = 0; j < K; j++) r += X[t * K + j] * x[j * m + c];
                    g += X[t * K + i] * r;
                }
                assertEquals(0, g, 1e-12);
            }
    }

    @Test
    void refusesASingularSystem() {
        assertThrows(ArithmeticException.class, () -> Ridge.solve(new double[] {1, 1, 1, 1}, new double[] {1, 1}, 2, 1, 0));
    }

    @Test
    void meanDiagonalIsTraceOverK() {
        assertEquals(2.5, Ridge.meanDiagonal(new double[] {4, 9, 9, 1}, 2), 0);
    }

    private static double[] gauss(double[][] a) {
        int K = a.length;
        for (int col = 0; col < K; col++) {
            int p = col;
            for (int r = col + 1; r < K; r++) if (Math.abs(a[r][col]) > Math.abs(a[p][col])) p = r;
            double[] t = a[col];
            a[col] = a[p];
            a[p] = t;
            for (int r = col + 1; r < K; r++) {
                double f = a[r][col] / a[col][col];
                for (int j = col; j <= K; j++) a[r][j] -= f * a[col][j];
            }
        }
        double[] x = new double[K];
        for (int i = K - 1; i >= 0; i--) {
            double s = a[i][K];
            for (int j = i + 1; j < K; j++) s -= a[i][j] * x[j];
            x[i] = s / a[i][i];
        }
        return x;
    }
}
