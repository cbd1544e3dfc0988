package come4j.merge;

import come4j.calib.CalibrationPass;
import come4j.calib.CalibrationPass.LayerStats;
import come4j.calib.ChannelSensitivity;
import come4j.io.DType;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Transformer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The progressive loop of CoMe (method.md §10) and CoMe-P (§12): measure, merge the adjacent pair with the smallest
 * SBI, repeat until the target layer count.
 *
 * <p>Cost of one step: merging (a, b) changes nothing before a, so the cached boundaries 0..a are reused and only
 * layers a..L-1 run again over the calibration windows (statistics are taken as they run), plus one LM-head pass for
 * the calibration NLL. The first step runs the whole model once. CoMe-P adds granularity + 1 candidate passes per
 * step, each from layer a to the end.
 */
public final class ProgressiveMerger {
    public enum Method { COME, COME_P, WEIGHTSUM }

    public record Settings(Method method, int targetLayers, boolean officialGqaTiling, int granularity) {}

    /** One merge: what was measured, what was chosen, what it cost in calibration NLL. */
    public record Step(int layersBefore, int a, List<Integer> originalA, List<Integer> originalB, double[] sbi,
                       double[] bi, double ra, double rb, boolean fallback, MergedLayer merged,
                       List<double[]> candidates, double nllBefore, double nllAfter) {}

    public record Result(ModelConfig config, List<Map<String, TensorData>> layers, MergeTree tree, List<Step> steps,
                         double nllBefore) {}

    /** Where finished steps are kept, so that a killed run resumes after the last one ({@link MergeState}). */
    public interface StepStore {
        StepStore NONE = new StepStore() {
            public List<Step> finished() {
                return List.of();
            }

            public void saved(List<Step> steps) {}
        };

        /** Steps an earlier run with the same settings finished, in order, with their merged tensors. */
        List<Step> finished();

        /** Called after each step with every step so far. */
        void saved(List<Step> steps);
    }

    private ProgressiveMerger() {}

    public static Result run(Transformer base, List<Map<String, TensorData>> layerTensors, CalibrationPass pass,
                             Settings s, ScratchTensors store, DType dtype, Consumer<String> log) {
        return run(base, layerTensors, pass, s, store, dtype, StepStore.NONE, log);
    }

    /**
     * As above, first replaying the steps {@code saved} has (their merges are not recomputed) and saving each new
     * one. Merging and measuring are deterministic, so a resumed run ends exactly as an uninterrupted one.
     */
    public static Result run(Transformer base, List<Map<String, TensorData>> layerTensors, CalibrationPass pass,
                             Settings s, ScratchTensors store, DType dtype, StepStore saved, Consumer<String> log) {
        Layers layers = new Layers(base, layerTensors);
        List<Step> steps = new ArrayList<>(saved.finished());
        for (Step done : steps) layers.merge(done.a(), done.merged());
        if (!steps.isEmpty()) log.accept("resuming after step " + steps.size() + " (saved by an interrupted run)");
        pass.embed(layers.model);
        List<LayerStats> stats = new ArrayList<>(pass.run(layers.model, 0));
        double nll = pass.nll(layers.model), nll0 = steps.isEmpty() ? nll : steps.getFirst().nllBefore();
        MergeTree tree = layers.tree;
        while (layers.model.numLayers() > s.targetLayers()) {
            long t0 = System.nanoTime();
            Transformer model = layers.model;
            int L = model.numLayers();
            double[] raw = pass.sbi(model, s.method() != Method.COME_P), sbi = raw.clone();
            for (int p = 0; p < L; p++) { // no-re-merge: a merged layer joins no further pair (bounds-checked, Q4)
                if (!tree.isMerged(p)) continue;
                if (p > 0) sbi[p - 1] = Double.POSITIVE_INFINITY;
                if (p < L - 1) sbi[p] = Double.POSITIVE_INFINITY;
            }
            boolean fallback = java.util.Arrays.stream(sbi).allMatch(Double::isInfinite);
            if (fallback) {
                log.accept("warning: every pair contains a merged layer; re-merging the pair of smallest SBI (method.md §4, Q8)");
                sbi = raw;
            }
            int a = argmin(sbi);
            double[] bi = stats.stream().mapToDouble(LayerStats::bi).toArray();
            ConcatMerge.Scores sa = scores(model.config(), layers.weights.get(a), stats.get(a));
            ConcatMerge.Scores sb = scores(model.config(), layers.weights.get(a + 1), stats.get(a + 1));
            double ra = bi[a] / (bi[a] + bi[a + 1]), rb = bi[a + 1] / (bi[a] + bi[a + 1]);
            List<double[]> candidates = new ArrayList<>();
            if (s.method() == Method.COME_P) {
                ra = search(base, model, tree, layers.tensors, layers.weights, a, sa, sb, pass, s, dtype, candidates);
                rb = 1 - ra;
            }
            ModelConfig c0 = base.config();
            MergedLayer merged = s.method() == Method.WEIGHTSUM
                    ? WeightSumMerge.merge(c0, layers.tensors.get(a), layers.tensors.get(a + 1), ra, rb, store, dtype)
                    : ConcatMerge.merge(c0, layers.tensors.get(a), layers.tensors.get(a + 1), sa, sb, ra, rb, s.officialGqaTiling(), store, dtype);
            List<Integer> origA = tree.get(a), origB = tree.get(a + 1);
            layers.merge(a, merged);
            stats.subList(a, stats.size()).clear();
            stats.addAll(pass.run(layers.model, a));
            double after = pass.nll(layers.model);
            steps.add(new Step(L, a, origA, origB, sbi, bi, ra, rb, fallback, merged, candidates, nll, after));
            saved.saved(steps);
            log.accept(String.format("step %d: merged layers %d+%d (original %s + %s), ratio %.3f/%.3f, calibration NLL %.4f -> %.4f (%.1f s)",
                    steps.size(), a, a + 1, origA, origB, ra, rb, nll, after, (System.nanoTime() - t0) / 1e9));
            nll = after;
        }
        return new Result(layers.model.config(), layers.tensors, tree, steps, nll0);
    }

    /** The current layer list: tree, tensors and weights per current layer, and the model they make. */
    private static final class Layers {
        final Transformer base;
        final MergeTree tree;
        final List<Map<String, TensorData>> tensors;
        final List<LayerWeights> weights;
        Transformer model;

        Layers(Transformer base, List<Map<String, TensorData>> tensors) {
            this.base = base;
            this.tree = new MergeTree(base.config().numLayers());
            this.tensors = new ArrayList<>(tensors);
            this.weights = new ArrayList<>(base.layers());
            this.model = base;
        }

        /** Layers a and a+1 become {@code merged}, with a's per-layer settings. */
        void merge(int a, MergedLayer merged) {
            tree.merge(a);
            tensors.set(a, merged.tensors());
            tensors.remove(a + 1);
            ModelConfig c = base.config().withLayers(tree.firstOriginals());
            weights.set(a, LayerWeights.of(c, merged.tensors()));
            weights.remove(a + 1);
            model = base.withLayers(c, weights);
        }
    }

    /** CoMe-P: r_a on the grid 0, 1/g, ..., 1 minimising the calibration NLL (first minimum); candidates recorded. */
    private static double search(Transformer base, Transformer model, MergeTree tree, List<Map<String, TensorData>> tensors,
                                 List<LayerWeights> weights, int a, ConcatMerge.Scores sa, ConcatMerge.Scores sb,
                                 CalibrationPass pass, Settings s, DType dtype, List<double[]> candidates) {
        ModelConfig c0 = base.config();
        int[] first = tree.firstOriginals();
        int[] kept = new int[first.length - 1]; // the layer list with b gone: a keeps its own settings
        for (int j = 0, k = 0; j < first.length; j++) if (j != a + 1) kept[k++] = first[j];
        ModelConfig c = c0.withLayers(kept);
        double best = 0, bestNll = Double.POSITIVE_INFINITY;
        for (int i = 0; i <= s.granularity(); i++) {
            double r = (double) i / s.granularity();
            try (ScratchTensors tmp = new ScratchTensors()) {
                MergedLayer m = ConcatMerge.merge(c0, tensors.get(a), tensors.get(a + 1), sa, sb, r, 1 - r, s.officialGqaTiling(), tmp, dtype);
                List<LayerWeights> w = new ArrayList<>(weights);
                w.set(a, LayerWeights.of(c, m.tensors()));
                w.remove(a + 1);
                double nll = pass.nllFrom(model.withLayers(c, w), a);
                candidates.add(new double[] {r, nll});
                if (nll < bestNll) {
                    bestNll = nll;
                    best = r;
                }
            }
        }
        return best;
    }

    private static ConcatMerge.Scores scores(ModelConfig c, LayerWeights w, LayerStats st) {
        return new ConcatMerge.Scores(ChannelSensitivity.attention(c, w, st.attentionMeanAbs()),
                ChannelSensitivity.ffn(w, st.ffnMeanAbs()));
    }

    static int argmin(double[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] < x[best]) best = i;
        return best;
    }
}
