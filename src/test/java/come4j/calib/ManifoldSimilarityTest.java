package come4j.calib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The pieces of MKA's similarity against hand computations. */
class ManifoldSimilarityTest {
    @Test
    void digammaOfIntegers() {
        assertEquals(-0.57721566490153286, ManifoldSimilarity.digamma(1), 1e-15);
        assertEquals(1.2561176684318005, ManifoldSimilarity.digamma(4), 1e-15); // −γ + 1 + 1/2 + 1/3
    }

    /**
     * y = x at 0, 1, 3, 7, k = 1: the nearest neighbours are 1, 1, 2, 4 away in the joint space and in each marginal,
     * no other point is strictly closer, so n_x = n_y = 0 and MI = ψ(4) + ψ(1) − 2 ψ(1) = 1 + 1/2 + 1/3. y = −x too.
     * Then x = 0, 1, 3, 7 with y = 0, 3, 1, 7 (same values, so scaled alike): the joint nearest-neighbour distances
     * are 3, 2, 2, 6, the strictly closer counts n_x = (1, 1, 0, 1), n_y = (1, 0, 1, 1), and MI = ψ(4) + ψ(1) − 2 (3 ψ(2) +
     * ψ(1)) / 4 = 11/6 − 3/2 = 1/3.
     */
    @Test
    void ksgMutualInformation() {
        double[] x = {0, 1, 3, 7};
        assertEquals(1 + 0.5 + 1.0 / 3, ManifoldSimilarity.mutualInformation(x, x, 1), 1e-12);
        assertEquals(1 + 0.5 + 1.0 / 3, ManifoldSimilarity.mutualInformation(x, new double[] {0, -1, -3, -7}, 1), 1e-12);
        assertEquals(1.0 / 3, ManifoldSimilarity.mutualInformation(x, new double[] {0, 3, 1, 7}, 1), 1e-12);
    }

    /** Points 0, 1, 3 on a line (d = 2 coordinates), k = 1: r = 1, 1, 2, H = mean log(n r² / k) = (log 3 + log 3 + log 12) / 3. */
    @Test
    void nearestNeighbourEntropy() {
        assertEquals(1.5607104090414066, ManifoldSimilarity.entropy(new double[][] {{0, 0}, {1, 0}, {3, 0}}, 1), 1e-12);
    }

    /** Distances accumulated over two slices of the coordinates equal those over all of them: (0,0,0) to (1,2,2) is 3. */
    @Test
    void distancesSliceBySlice() {
        double[][] sq = new double[2][2];
        ManifoldSimilarity.addSquaredDistances(sq, new float[][] {{0}, {1}});
        ManifoldSimilarity.addSquaredDistances(sq, new float[][] {{0, 0}, {2, 2}});
        assertArrayEquals(new double[][] {{0, 3}, {3, 0}}, ManifoldSimilarity.distances(sq));
    }

    @Test
    void ranksPerCoordinate() {
        double[][] r = ManifoldSimilarity.ranks(new double[][] {{0.3, -1}, {0.1, 5}, {0.2, 2}, {0.9, 0}});
        assertArrayEquals(new double[] {0.5, 0}, r[0]);
        assertArrayEquals(new double[] {0, 0.75}, r[1]);
        assertArrayEquals(new double[] {0.25, 0.5}, r[2]);
        assertArrayEquals(new double[] {0.75, 0.25}, r[3]);
    }

    @Test
    void jacobiEigenpairs() {
        double[][] a = {{2, 1, 0}, {1, 2, 0}, {0, 0, 3}};
        SymmetricEigen e = SymmetricEigen.of(a);
        double[] sorted = e.values().clone();
        java.util.Arrays.sort(sorted);
        assertArrayEquals(new double[] {1, 3, 3}, sorted, 1e-12);
        for (int c = 0; c < 3; c++)
            for (int r = 0; r < 3; r++) {
                double av = 0;
                for (int k = 0; k < 3; k++) av += a[r][k] * e.vectors()[k][c];
                assertEquals(e.values()[c] * e.vectors()[r][c], av, 1e-12);
            }
    }

    /** Two well separated clusters of five points: the diffusion map's first coordinate puts one cluster before the other. */
    @Test
    void embeddingSeparatesClusters() {
        float[][] x = new float[10][];
        for (int i = 0; i < 10; i++) x[i] = new float[] {(i < 5 ? 0 : 50) + 0.1f * i, 0.01f * i};
        double[][] sq = new double[10][10];
        ManifoldSimilarity.addSquaredDistances(sq, x);
        double[][] y = ManifoldSimilarity.ranks(ManifoldSimilarity.embedding(ManifoldSimilarity.distances(sq), 8, 0.5, 2));
        java.util.Set<Double> lowerHalf = new java.util.HashSet<>();
        for (int i = 0; i < 5; i++) lowerHalf.add(y[i][0]);
        boolean first = lowerHalf.stream().allMatch(v -> v < 0.5), last = lowerHalf.stream().allMatch(v -> v >= 0.5);
        assertEquals(true, first || last, "clusters interleave on the first coordinate: " + java.util.Arrays.deepToString(y));
    }
}
