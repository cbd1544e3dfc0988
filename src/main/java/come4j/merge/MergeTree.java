package come4j.merge;

import java.util.ArrayList;
import java.util.List;

/** For each current layer, the original layers it stands for (contiguous, ascending); starts as [[0], [1], ...]. */
public final class MergeTree {
    private final List<List<Integer>> entries = new ArrayList<>();

    public MergeTree(int layers) {
        for (int i = 0; i < layers; i++) entries.add(List.of(i));
    }

    public int size() {
        return entries.size();
    }

    public List<Integer> get(int p) {
        return entries.get(p);
    }

    public boolean isMerged(int p) {
        return entries.get(p).size() > 1;
    }

    /** Layer a + 1 joins layer a. */
    public void merge(int a) {
        List<Integer> joined = new ArrayList<>(entries.get(a));
        joined.addAll(entries.remove(a + 1));
        entries.set(a, List.copyOf(joined));
    }

    /** Layer p goes without a successor (a removal baseline). */
    public void remove(int p) {
        entries.remove(p);
    }

    /** The original layer whose per-layer settings (attention window, layer type) each current layer keeps. */
    public int[] firstOriginals() {
        return entries.stream().mapToInt(List::getFirst).toArray();
    }

    public List<List<Integer>> entries() {
        return List.copyOf(entries);
    }
}
