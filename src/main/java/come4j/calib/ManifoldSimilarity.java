package come4j.calib;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * MKA's layer similarity (arXiv 2406.16330, as its public code computes it): each layer's activations, one point per
 * calibration sample, are embedded by a diffusion map, rank-normalised per coordinate, and layers are compared by the
 * normalised pointwise information bottleneck NPIB(i, j) = MI(E_i, E_j) / sqrt(H(E_i) H(E_j)), MI by the
 * Kraskov-Stögbauer-Grassberger estimator (as scikit-learn's mutual_info_regression, averaged over coordinate pairs)
 * and H by the k-nearest-neighbour estimate the code uses.
 */
public final class ManifoldSimilarity {
    /** The code's settings: kernel scale σ_K, density normalisation α, embedding dimension, MI and entropy neighbours. */
    static final double SIGMA = 8, ALPHA = 0.5;
    static final int DIM = 2, ENTROPY_NEIGHBOURS = 50;
    public static final int MI_NEIGHBOURS = 5;

    private ManifoldSimilarity() {}

    /** S[i][j] for layers given as their pairwise sample distances (dist.get(i)[a][b]). */
    public static double[][] matrix(List<double[][]> dist) {
        List<double[][]> emb = dist.stream().map(d -> ranks(embedding(d, SIGMA, ALPHA, DIM))).toList();
        int L = emb.size();
        double[] h = emb.stream().mapToDouble(e -> entropy(e, ENTROPY_NEIGHBOURS)).toArray();
        double[][] s = new double[L][L];
        for (int i = 0; i < L; i++)
            for (int j = i; j < L; j++) s[i][j] = s[j][i] = npib(emb.get(i), emb.get(j), h[i], h[j]);
        return s;
    }

    /**
     * Adds to sq[a][b] (a < b) the squared Euclidean distance between samples a and b over one slice of their
     * coordinates, so that samples too large for the heap together can be compared slice by slice.
     */
    public static void addSquaredDistances(double[][] sq, float[][] slice) {
        int n = slice.length;
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++)
                for (int k = 0; k < slice[a].length; k++) {
                    double t = slice[a][k] - slice[b][k];
                    sq[a][b] += t * t;
                }
    }

    /** The distances from the accumulated squared ones (upper triangle), as a full symmetric matrix. */
    public static double[][] distances(double[][] sq) {
        int n = sq.length;
        double[][] d = new double[n][n];
        for (int a = 0; a < n; a++) for (int b = a + 1; b < n; b++) d[a][b] = d[b][a] = Math.sqrt(sq[a][b]);
        return d;
    }

    /**
     * Diffusion map of Coifman and Lafon with MKA's kernel K = exp(−(D/σ)^0.5): p = column sums of K, K1 = K /
     * (p p^T)^α, v = sqrt(column sums of K1), A = K1 / (v v^T); the dim + 1 leading eigenvectors of the symmetric A
     * (its singular vectors), each row divided by its first coordinate; coordinates 1..dim.
     */
    static double[][] embedding(double[][] dist, double sigma, double alpha, int dim) {
        int n = dist.length;
        double[][] k = new double[n][n];
        for (int a = 0; a < n; a++) for (int b = 0; b < n; b++) k[a][b] = Math.exp(-Math.sqrt(dist[a][b] / sigma));
        double[] p = columnSums(k);
        for (int a = 0; a < n; a++) for (int b = 0; b < n; b++) k[a][b] /= Math.pow(p[a] * p[b], alpha);
        double[] v = columnSums(k);
        for (int a = 0; a < n; a++) v[a] = Math.sqrt(v[a]);
        for (int a = 0; a < n; a++) for (int b = 0; b < n; b++) k[a][b] /= v[a] * v[b];
        SymmetricEigen e = SymmetricEigen.of(k);
        Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -Math.abs(e.values()[i])).thenComparingInt(i -> i));
        double[][] y = new double[n][dim];
        for (int a = 0; a < n; a++) {
            double first = e.vectors()[a][order[0]];
            if (first == 0) first = 1e-8; // as the code: no division by zero
            for (int c = 0; c < dim; c++) y[a][c] = e.vectors()[a][order[c + 1]] / first;
        }
        return y;
    }

    /** Each coordinate replaced by its rank / n (ties by sample order). */
    static double[][] ranks(double[][] y) {
        int n = y.length, dim = y[0].length;
        double[][] r = new double[n][dim];
        for (int c = 0; c < dim; c++) {
            int col = c;
            Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
            Arrays.sort(order, Comparator.comparingDouble((Integer i) -> y[i][col]).thenComparingInt(i -> i));
            for (int rank = 0; rank < n; rank++) r[order[rank]][c] = (double) rank / n;
        }
        return r;
    }

    /** Mean over coordinate pairs (a of E_i, b of E_j) of MI(E_i[:, a], E_j[:, b]), over sqrt(H_i H_j); 0 if that is not real. */
    static double npib(double[][] ei, double[][] ej, double hi, double hj) {
        double mi = 0;
        int dim = ei[0].length;
        for (int b = 0; b < dim; b++) for (int a = 0; a < dim; a++) mi += mutualInformation(column(ei, a), column(ej, b), MI_NEIGHBOURS);
        mi /= dim * dim;
        double norm = Math.sqrt(hi * hj);
        return norm > 0 && Double.isFinite(norm) ? mi / norm : 0;
    }

    /**
     * KSG estimator (Kraskov et al. 2004, algorithm 1) as scikit-learn computes it: both variables scaled to unit
     * standard deviation, the k-th neighbour distance r_i in the joint space (max norm), n_x(i) and n_y(i) the other
     * points strictly closer than r_i in each marginal; MI = ψ(n) + ψ(k) − ⟨ψ(n_x + 1)⟩ − ⟨ψ(n_y + 1)⟩, at least 0.
     * scikit-learn also adds 1e-10-scale noise to break ties; here ties count as they are.
     */
    static double mutualInformation(double[] x0, double[] y0, int k) {
        int n = x0.length;
        double[] x = scaled(x0), y = scaled(y0);
        double sum = 0;
        double[] joint = new double[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) joint[j] = j == i ? Double.POSITIVE_INFINITY : Math.max(Math.abs(x[i] - x[j]), Math.abs(y[i] - y[j]));
            double r = kth(joint, k);
            int nx = 0, ny = 0;
            for (int j = 0; j < n; j++) {
                if (j == i) continue;
                if (Math.abs(x[i] - x[j]) < r) nx++;
                if (Math.abs(y[i] - y[j]) < r) ny++;
            }
            sum += digamma(nx + 1) + digamma(ny + 1);
        }
        return Math.max(0, digamma(n) + digamma(k) - sum / n);
    }

    /** MKA's k-nearest-neighbour entropy: −mean log(k / (n r_k^d)), r_k Euclidean, k at most n − 1. */
    static double entropy(double[][] e, int k0) {
        int n = e.length, d = e[0].length, k = Math.min(k0, n - 1);
        double s = 0;
        double[] dist = new double[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double t = 0;
                for (int c = 0; c < d; c++) t += (e[i][c] - e[j][c]) * (e[i][c] - e[j][c]);
                dist[j] = j == i ? Double.POSITIVE_INFINITY : Math.sqrt(t);
            }
            s += Math.log(k / (n * Math.pow(kth(dist, k), d)));
        }
        return -s / n;
    }

    /** ψ(m) for a positive integer m: −γ + Σ_{j<m} 1/j. */
    static double digamma(int m) {
        double s = -0.57721566490153286;
        for (int j = 1; j < m; j++) s += 1.0 / j;
        return s;
    }

    private static double kth(double[] v, int k) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[k - 1];
    }

    private static double[] scaled(double[] v) {
        double mean = Arrays.stream(v).average().orElse(0), var = 0;
        for (double x : v) var += (x - mean) * (x - mean);
        double sd = Math.sqrt(var / v.length);
        return sd == 0 ? v.clone() : Arrays.stream(v).map(x -> x / sd).toArray();
    }

    private static double[] column(double[][] m, int c) {
        return Arrays.stream(m).mapToDouble(r -> r[c]).toArray();
    }

    private static double[] columnSums(double[][] m) {
        double[] s = new double[m.length];
        for (double[] row : m) for (int b = 0; b < row.length; b++) s[b] += row[b];
        return s;
    }
}
