package come4j.merge;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.calib.ActivationCache;
import come4j.calib.CalibrationContext;
import come4j.calib.CalibrationPass;
import come4j.calib.CalibrationPass.LayerStats;
import come4j.calib.ChannelSensitivity;
import come4j.io.DType;
import come4j.io.Progress;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Transformer;
import come4j.report.RunSettings.MethodSettings;
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

    /**
     * Issue 16's switches (docs/results.md): {@code correct}: each merged layer gets the least-squares correction
     * ({@link LeastSquaresCorrection}); {@code pairCandidates}: the pair is the one, among this many smallest-SBI
     * pairs, whose merged and corrected model has the lowest calibration NLL (1: SBI alone).
     */
    public record Ls(boolean correct, int pairCandidates) {
        public static final Ls OFF = new Ls(false, 1), ON = new Ls(true, 1);
    }

    public record Settings(Method method, int targetLayers, boolean officialGqaTiling, int granularity, Ls ls) {
        public Settings(Method method, int targetLayers, boolean officialGqaTiling, int granularity, boolean lsCorrect) {
            this(method, targetLayers, officialGqaTiling, granularity, lsCorrect ? Ls.ON : Ls.OFF);
        }

        public Settings(Method method, int targetLayers, boolean officialGqaTiling, int granularity) {
            this(method, targetLayers, officialGqaTiling, granularity, Ls.OFF);
        }
    }

    /**
     * One merge: what was measured, what was chosen, what it cost in calibration NLL, and its wall time; with the
     * least-squares correction, {@code merged} holds the corrected layer and {@code correction} what the fit measured
     * (come-merge.json's "ls_correction"; null without it).
     */
    public record Step(int layersBefore, int a, List<Integer> originalA, List<Integer> originalB, double[] sbi,
                       double[] bi, double ra, double rb, boolean fallback, MergedLayer merged,
                       List<double[]> candidates, double nllBefore, double nllAfter, double seconds, ObjectNode correction) {}

    public record Result(ModelConfig config, List<Map<String, TensorData>> layers, MergeTree tree, List<Step> steps,
                         double nllBefore) {}

    /**
     * What happens to a merged layer before the next statistics pass (schedule mp: distil it against the block of
     * original layers it stands for); returns the layer's tensors to continue with.
     */
    public interface Refine {
        Refine NONE = (config, position, originals, tensors) -> tensors;

        Map<String, TensorData> apply(ModelConfig config, int position, List<Integer> originals, Map<String, TensorData> tensors);
    }

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

    /** CoMe, CoMe-P or WeightSum as a {@link CompressionMethod}, each merged layer refined before the next step. */
    public record Progressive(String name, Method method, boolean officialGqaTiling, int granularity, Ls ls,
                              Refine refine, StepStore saved) implements CompressionMethod {
        public Progressive(String name, Method method, boolean officialGqaTiling, int granularity, Ls ls) {
            this(name, method, officialGqaTiling, granularity, ls, Refine.NONE, StepStore.NONE);
        }

        public Progressive(String name, Method method, boolean officialGqaTiling, int granularity) {
            this(name, method, officialGqaTiling, granularity, Ls.OFF);
        }

        /** The same method with each merged layer refined (schedule mp). */
        public Progressive refined(Refine r) {
            return new Progressive(name, method, officialGqaTiling, granularity, ls, r, saved);
        }

        /** The same method saving each step to, and resuming from, {@code store}. */
        public Progressive saving(StepStore store) {
            return new Progressive(name, method, officialGqaTiling, granularity, ls, refine, store);
        }

        @Override
        public Compression run(CalibrationContext ctx, int targetLayers, ScratchTensors store, Consumer<String> log) {
            Result r = ProgressiveMerger.run(ctx, new Settings(method, targetLayers, officialGqaTiling, granularity, ls), refine, saved, store, log);
            var settings = new MethodSettings.Progressive(officialGqaTiling, granularity, method == Method.COME_P ? "all" : "last", "argmin_all",
                    ls.correct() ? new MethodSettings.LsCorrection("last 1/8 of the windows", ls.pairCandidates(),
                            java.util.Arrays.stream(LeastSquaresCorrection.GRID).boxed().toList()) : null);
            return new Compression(r.config(), r.tree(), r.layers(), settings, MergeRecord.steps(r));
        }
    }

    public static Result run(CalibrationContext ctx, Settings s, ScratchTensors store, Consumer<String> log) {
        return run(ctx, s, Refine.NONE, StepStore.NONE, store, log);
    }

    /**
     * First replays the steps {@code saved} holds (their merges are not recomputed), then saves each new one. Merging
     * and measuring are deterministic, so a resumed run ends exactly as an uninterrupted one.
     */
    public static Result run(CalibrationContext ctx, Settings s, Refine refine, StepStore saved, ScratchTensors store,
                             Consumer<String> log) {
        CalibrationContext.FirstPass first = ctx.firstPass();
        // the correction's targets: a view of the original boundaries that nothing writes
        try (ActivationCache cache = ctx.workingCache(); ActivationCache original = s.ls().correct() ? ctx.workingCache() : null) {
            CalibrationPass teacher = original == null ? null : ctx.pass(original);
            return run(ctx.model(), ctx.tensors(), first, ctx.pass(cache), teacher, s, refine, saved, store, ctx.checkpoint().dtype(), log);
        }
    }

    private static Result run(Transformer base, List<Map<String, TensorData>> layerTensors, CalibrationContext.FirstPass first,
                              CalibrationPass pass, CalibrationPass teacher, Settings s, Refine refine, StepStore saved, ScratchTensors store, DType dtype,
                              Consumer<String> log) {
        ModelConfig c0 = base.config();
        MergeTree tree = new MergeTree(c0.numLayers());
        List<Map<String, TensorData>> tensors = new ArrayList<>(layerTensors);
        List<LayerWeights> weights = new ArrayList<>(base.layers());
        Transformer model = base;
        List<LayerStats> stats = new ArrayList<>(first.stats());
        double nll = first.nll(), nll0 = nll;
        List<Step> steps = new ArrayList<>(saved.finished());
        for (Step done : steps) { // replay: the saved merged layers, no measuring
            tree.merge(done.a());
            ModelConfig c = c0.withLayers(tree.firstOriginals());
            tensors.set(done.a(), done.merged().tensors());
            tensors.remove(done.a() + 1);
            weights.set(done.a(), LayerWeights.of(c, done.merged().tensors()));
            weights.remove(done.a() + 1);
            model = base.withLayers(c, weights);
        }
        if (!steps.isEmpty()) {
            log.accept("resuming after step " + steps.size() + " (saved by an interrupted run)");
            stats = new ArrayList<>(pass.run(model, 0));
            nll = steps.getLast().nllAfter();
        }
        while (model.numLayers() > s.targetLayers()) {
            long t0 = System.nanoTime();
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
            ObjectNode pairs = null;
            if (s.ls().correct() && s.ls().pairCandidates() > 1) { // issue 16: the pair by its corrected calibration NLL
                pairs = JsonNodeFactory.instance.objectNode();
                var list = pairs.putArray("pair_candidates");
                double bestNll = Double.POSITIVE_INFINITY;
                for (int p : smallest(sbi, s.ls().pairCandidates())) {
                    try (ScratchTensors tmp = new ScratchTensors()) {
                        Candidate m = mergeAt(p, base, tree, tensors, weights, stats, pass, teacher, s, tmp, dtype, new ArrayList<>(), x -> {});
                        double n = pass.nllFrom(base.withLayers(m.config(), m.weights()), p);
                        list.addObject().put("a", p).put("sbi", sbi[p]).put("nll", n);
                        if (n < bestNll) {
                            bestNll = n;
                            a = p;
                        }
                    }
                }
            }
            List<double[]> candidates = new ArrayList<>();
            Candidate m = mergeAt(a, base, tree, tensors, weights, stats, pass, teacher, s, store, dtype, candidates, log);
            MergedLayer merged = m.merged();
            ObjectNode correction = m.correction();
            if (pairs != null) correction.setAll(pairs);
            List<Integer> origA = tree.get(a), origB = tree.get(a + 1);
            tree.merge(a);
            ModelConfig c = m.config();
            Map<String, TensorData> layer = refine.apply(c, a, tree.get(a), merged.tensors());
            tensors.set(a, layer);
            tensors.remove(a + 1);
            weights.clear();
            weights.addAll(m.weights());
            weights.set(a, LayerWeights.of(c, layer));
            model = base.withLayers(c, weights);
            double ra = m.ra(), rb = m.rb();
            stats.subList(a, stats.size()).clear();
            stats.addAll(pass.run(model, a));
            double after = pass.nll(model);
            double seconds = (System.nanoTime() - t0) / 1e9;
            steps.add(new Step(L, a, origA, origB, sbi, bi, ra, rb, fallback, merged, candidates, nll, after, seconds, correction));
            saved.saved(steps);
            log.accept(String.format("step %d: merged layers %d+%d (original %s + %s), ratio %.3f/%.3f, calibration NLL %.4f -> %.4f (%.1f s)",
                    steps.size(), a, a + 1, origA, origB, ra, rb, nll, after, seconds));
            nll = after;
        }
        return new Result(model.config(), tensors, tree, steps, nll0);
    }

    /** A merge of pair (a, a + 1) before it is applied: the merged layer and the weights after. */
    private record Candidate(MergedLayer merged, double ra, double rb, ObjectNode correction, ModelConfig config,
                             List<LayerWeights> weights) {}

    /** Merges pair (a, a + 1) (CoMe-P: ratio search into {@code candidates}) and corrects it as {@code s.ls()} says. */
    private static Candidate mergeAt(int a, Transformer base, MergeTree tree, List<Map<String, TensorData>> tensors,
                                     List<LayerWeights> weights, List<LayerStats> stats, CalibrationPass pass, CalibrationPass teacher,
                                     Settings s, ScratchTensors store, DType dtype, List<double[]> candidates, Consumer<String> log) {
        ModelConfig c0 = base.config();
        Transformer model = base.withLayers(c0.withLayers(tree.firstOriginals()), weights);
        ConcatMerge.Scores sa = scores(model.config(), weights.get(a), stats.get(a));
        ConcatMerge.Scores sb = scores(model.config(), weights.get(a + 1), stats.get(a + 1));
        // from the sums (the means' ratio up to rounding), so that every merge stays bit-identical to format 1's
        double biA = stats.get(a).biSum(), biB = stats.get(a + 1).biSum();
        double ra = biA / (biA + biB), rb = biB / (biA + biB);
        if (s.method() == Method.COME_P) {
            ra = search(base, model, tree, tensors, weights, a, sa, sb, pass, s, dtype, candidates);
            rb = 1 - ra;
        }
        MergedLayer merged = s.method() == Method.WEIGHTSUM
                ? WeightSumMerge.merge(c0, tensors.get(a), tensors.get(a + 1), ra, rb, store, dtype)
                : ConcatMerge.merge(c0, tensors.get(a), tensors.get(a + 1), sa, sb, ra, rb, s.officialGqaTiling(), store, dtype);
        ModelConfig c = c0.withLayers(firstOriginalsAfter(tree, a));
        List<LayerWeights> w = new ArrayList<>(weights);
        w.set(a, LayerWeights.of(c, merged.tensors()));
        w.remove(a + 1);
        ObjectNode correction = null;
        if (s.ls().correct()) {
            int end = tree.get(a + 1).getLast() + 1; // the original boundary leaving the block
            var ls = LeastSquaresCorrection.correct(base.withLayers(c, w), a, end, merged.tensors(), pass, teacher, store, dtype);
            merged = new MergedLayer(ls.tensors(), merged.headsA(), merged.headsB(), merged.channelsA(), merged.channelsB());
            w.set(a, LayerWeights.of(c, merged.tensors()));
            correction = ls.json();
            log.accept(String.format("  least-squares correction: layer MSE %.4g -> %.4g on the calibration windows%s (%.1f s)",
                    ls.before(), ls.after(), ls.reverted() ? ", worse: dropped" : "", ls.seconds()));
        }
        return new Candidate(merged, ra, rb, correction, c, w);
    }

    /** The first original layer of each layer once pair (a, a + 1) is merged (b gone, a keeps its own settings). */
    private static int[] firstOriginalsAfter(MergeTree tree, int a) {
        int[] first = tree.firstOriginals();
        int[] kept = new int[first.length - 1];
        for (int j = 0, k = 0; j < first.length; j++) if (j != a + 1) kept[k++] = first[j];
        return kept;
    }

    /** Indices of the k smallest finite values (ascending, first on ties); at least the argmin. */
    private static int[] smallest(double[] x, int k) {
        Integer[] idx = new Integer[x.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        java.util.Arrays.sort(idx, (i, j) -> Double.compare(x[i], x[j]));
        int n = 1;
        while (n < Math.min(k, x.length) && Double.isFinite(x[idx[n]])) n++;
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = idx[i];
        return out;
    }

    /** CoMe-P: r_a on the grid 0, 1/g, ..., 1 minimising the calibration NLL (first minimum); candidates recorded. */
    private static double search(Transformer base, Transformer model, MergeTree tree, List<Map<String, TensorData>> tensors,
                                 List<LayerWeights> weights, int a, ConcatMerge.Scores sa, ConcatMerge.Scores sb,
                                 CalibrationPass pass, Settings s, DType dtype, List<double[]> candidates) {
        ModelConfig c0 = base.config();
        ModelConfig c = c0.withLayers(firstOriginalsAfter(tree, a));
        double best = 0, bestNll = Double.POSITIVE_INFINITY;
        long work = (s.granularity() + 1) * pass.nllWork(model.numLayers() - 1, a);
        try (Progress bar = Progress.start("CoMe-P ratios for " + a + "+" + (a + 1), work, "window-layers")) {
            for (int i = 0; i <= s.granularity(); i++) {
                double r = (double) i / s.granularity();
                try (ScratchTensors tmp = new ScratchTensors()) {
                    MergedLayer m = ConcatMerge.merge(c0, tensors.get(a), tensors.get(a + 1), sa, sb, r, 1 - r, s.officialGqaTiling(), tmp, dtype);
                    List<LayerWeights> w = new ArrayList<>(weights);
                    w.set(a, LayerWeights.of(c, m.tensors()));
                    w.remove(a + 1);
                    double nll = pass.nllFrom(model.withLayers(c, w), a, bar);
                    candidates.add(new double[] {r, nll});
                    if (nll < bestNll) {
                        bestNll = nll;
                        best = r;
                    }
                }
            }
        }
        return best;
    }

    /** §6's unit scores. */
    private static ConcatMerge.Scores scores(ModelConfig c, LayerWeights w, LayerStats st) {
        return new ConcatMerge.Scores(ChannelSensitivity.attention(c, w, st.attentionMeanAbs()),
                ChannelSensitivity.ffn(c, w, st.ffnMeanAbs()));
    }

    static int argmin(double[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] < x[best]) best = i;
        return best;
    }
}
