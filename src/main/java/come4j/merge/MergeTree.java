package come4j.merge;

import com.fasterxml.jackson.databind.JsonNode;
import come4j.io.BadInputException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** For each current layer, the original layers it stands for (contiguous, ascending); starts as [[0], [1], ...]. */
public final class MergeTree {
    private final List<List<Integer>> entries = new ArrayList<>();

    public MergeTree(int layers) {
        for (int i = 0; i < layers; i++) entries.add(List.of(i));
    }

    /**
     * The "tree" of a come-merge.json that {@code file} holds, checked as the writers make it: an array of non-empty
     * arrays of original layer indices in 0..originalLayers-1, each a run of consecutive layers, the runs in ascending
     * order without overlap (a removed layer is in no entry). Anything else is refused naming the file and entry.
     */
    public static MergeTree parse(Path file, JsonNode tree, int originalLayers) {
        if (!tree.isArray() || tree.isEmpty()) throw new BadInputException(file, "\"tree\" must be a non-empty array of layer lists");
        MergeTree t = new MergeTree(0);
        int next = 0; // the smallest original layer the next entry may start at
        for (int j = 0; j < tree.size(); j++) {
            JsonNode e = tree.get(j);
            String at = "\"tree\" entry " + j + " " + e;
            if (!e.isArray() || e.isEmpty()) throw new BadInputException(file, at + " is not a non-empty array of layer indices");
            List<Integer> layers = new ArrayList<>();
            for (JsonNode x : e) {
                if (!x.isIntegralNumber() || !x.canConvertToInt()) throw new BadInputException(file, at + " holds " + x + ", not a layer index");
                int l = x.asInt();
                if (l < 0 || l >= originalLayers)
                    throw new BadInputException(file, at + " names layer " + l + " but the original model has layers 0.." + (originalLayers - 1));
                if (l < next)
                    throw new BadInputException(file, at + " repeats or goes back to layer " + l + ": entries must split the original layers in order");
                if (!layers.isEmpty() && l != layers.getLast() + 1)
                    throw new BadInputException(file, at + " is not a run of consecutive layers");
                layers.add(l);
                next = l + 1;
            }
            t.entries.add(List.copyOf(layers));
        }
        return t;
    }

    /** An independent copy. */
    public MergeTree copy() {
        MergeTree t = new MergeTree(0);
        t.entries.addAll(entries);
        return t;
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
