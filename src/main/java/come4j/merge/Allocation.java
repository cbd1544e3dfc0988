package come4j.merge;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/** How many units (kv head groups or FFN channels) each layer of a pair keeps, and which (method.md §7). */
public final class Allocation {
    private Allocation() {}

    /** n_k = floor(N r_k) for the minor layer, the remainder to the major one (a on ties): n_a + n_b = N. */
    public static int[] allocate(int n, double ra, double rb) {
        if (rb > ra) {
            int na = (int) Math.floor(n * ra);
            return new int[] {na, n - na};
        }
        int nb = (int) Math.floor(n * rb);
        return new int[] {n - nb, nb};
    }

    /** Indices of the k highest scores (lower index first on ties), in ascending index order. */
    public static int[] top(double[] scores, int k) {
        Integer[] order = IntStream.range(0, scores.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -scores[i]).thenComparingInt(i -> i));
        int[] kept = new int[k];
        for (int i = 0; i < k; i++) kept[i] = order[i];
        Arrays.sort(kept);
        return kept;
    }
}
