package come4j.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void blockedSolveMatchesTheUnblockedOneAndElimination() {
        // K = 100 with blocks of 16 (halved 100 → 50 → 25 → 12 + 13: no block a multiple of another), K = 53 with
        // blocks of 7; m = 37 leaves edge tiles everywhere, m = 300 spans two chunks of right-hand sides
        for (int[] shape : new int[][] {{100, 37, 16}, {53, 300, 7}}) {
            int K = shape[0], m = shape[1], nb = shape[2];
            SplittableRandom rnd = new SplittableRandom(K);
            double[] G = gram(rnd, 3 * K / 2, K), B = new double[K * m];
            for (int i = 0; i < B.length; i++) B[i] = rnd.nextDouble(-1, 1);
            for (double alpha : new double[] {1e-3, 0.1, 10}) {
                double lambda = alpha * Ridge.meanDiagonal(G, K);
                double[] blocked = Ridge.solve(G, B, K, m, lambda, nb), unblocked = Ridge.solve(G, B, K, m, lambda, K);
                double[] expected = new double[K * m];
                for (int c = 0; c < m; c++) {
                    double[][] aug = new double[K][K + 1];
                    for (int i = 0; i < K; i++) {
                        for (int j = 0; j < K; j++) aug[i][j] = G[i * K + j] + (i == j ? lambda : 0);
                        aug[i][K] = B[i * m + c];
                    }
                    double[] col = gauss(aug);
                    for (int i = 0; i < K; i++) expected[i * m + c] = col[i];
                }
                String at = "K " + K + ", blocks of " + nb + ", α " + alpha;
                assertEquals(0, relativeDifference(blocked, unblocked), 1e-10, at + " against unblocked");
                assertEquals(0, relativeDifference(blocked, expected), 1e-10, at + " against elimination");
                assertTrue(relativeDifference(blocked, unblocked) > 0, "the blocked path ran (it sums in another order): " + at);
            }
        }
    }

    @Test
    void blockedSolveRefusesAnIndefiniteSystemNamingThePivot() {
        // G = I but for −1 at row 30: the blocked factor (blocks of 8, so row 30 is in the second half's leaves, after
        // a panel and a trailing update) and the unblocked one both stop at that pivot
        int K = 40;
        double[] G = new double[K * K], B = new double[K];
        for (int i = 0; i < K; i++) G[i * K + i] = i == 30 ? -1 : 1;
        for (int nb : new int[] {8, K}) {
            ArithmeticException e = assertThrows(ArithmeticException.class, () -> Ridge.solve(G, B, K, 1, 0.5, nb));
            assertEquals("the Gram matrix plus ridge is not positive definite (pivot -0.5 at row 30 of 40)", e.getMessage());
        }
    }

    @Test
    void meanDiagonalIsTraceOverK() {
        assertEquals(2.5, Ridge.meanDiagonal(new double[] {4, 9, 9, 1}, 2), 0);
    }

    /** XᵀX of n random rows of K columns. */
    private static double[] gram(SplittableRandom rnd, int n, int K) {
        double[] X = new double[n * K], G = new double[K * K];
        for (int i = 0; i < X.length; i++) X[i] = rnd.nextDouble(-1, 1);
        for (int t = 0; t < n; t++)
            for (int i = 0; i < K; i++)
                for (int j = 0; j < K; j++) G[i * K + j] += X[t * K + i] * X[t * K + j];
        return G;
    }

    /** Largest difference over largest magnitude of the reference. */
    private static double relativeDifference(double[] x, double[] reference) {
        double diff = 0, max = 0;
        for (int i = 0; i < x.length; i++) {
            diff = Math.max(diff, Math.abs(x[i] - reference[i]));
            max = Math.max(max, Math.abs(reference[i]));
        }
        return diff / max;
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
