package come4j.merge;

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
                       List<double[]> candidates, double nllBefore, double nllAfter, double seconds, MergeStep.LsCorrection correction) {}

    public record Result(ModelConfig config, List<Map<String, TensorData>> layers, MergeTree tree, List<Step> steps,
                         double nllBefore) {}

    /** The name this method's steps are committed under ({@link WorkingModel#steps}). */
    private static final String BY = "progressive";

    private ProgressiveMerger() {}

    /** CoMe, CoMe-P or WeightSum as a {@link CompressionMethod}. */
    public record Progressive(String name, Method method, boolean officialGqaTiling, int granularity, Ls ls) implements CompressionMethod {
        public Progressive(String name, Method method, boolean officialGqaTiling, int granularity) {
            this(name, method, officialGqaTiling, granularity, Ls.OFF);
        }

        @Override
        public boolean remeasures() {
            return true;
        }

        @Override
        public Compression run(WorkingModel work, int targetLayers, Consumer<String> log) {
            Result r = ProgressiveMerger.run(work, new Settings(method, targetLayers, officialGqaTiling, granularity, ls), log);
            var settings = new MethodSettings.Progressive(officialGqaTiling, granularity, method == Method.COME_P ? "all" : "last", "argmin_all",
                    ls.correct() ? new MethodSettings.LsCorrection("last 1/8 of the windows", ls.pairCandidates(),
                            java.util.Arrays.stream(LeastSquaresCorrection.GRID).boxed().toList()) : null);
            return work.toCompression(settings, MergeRecord.steps(r));
        }
    }

    /**
     * Continues after the steps {@code work} replayed (their merges are not recomputed), committing each new one.
     * Merging and measuring are deterministic, so a resumed run ends exactly as an uninterrupted one.
     */
    public static Result run(WorkingModel work, Settings s, Consumer<String> log) {
        CalibrationContext ctx = work.context();
        CalibrationContext.FirstPass first = ctx.firstPass();
        // the correction's targets: a view of the original boundaries that nothing writes
        try (ActivationCache cache = ctx.workingCache(); ActivationCache original = s.ls().correct() ? ctx.workingCache() : null) {
            CalibrationPass teacher = original == null ? null : ctx.pass(original);
            return run(work, first, ctx.pass(cache), teacher, s, ctx.checkpoint().dtype(), log);
        }
    }

    private static Result run(WorkingModel work, CalibrationContext.FirstPass first, CalibrationPass pass, CalibrationPass teacher,
                              Settings s, DType dtype, Consumer<String> log) {
        List<LayerStats> stats = new ArrayList<>(first.stats());
        double nll = first.nll(), nll0 = nll;
        List<Step> steps = new ArrayList<>();
        for (WorkingModel.Step done : work.steps(BY)) // replayed: the merged layer is the step's first edit
            steps.add(MergeRecord.parseStep(done.record(), ((WorkingModel.Collapse) done.edits().getFirst()).tensors()));
        if (!steps.isEmpty()) {
            nll = steps.getLast().nllAfter();
            if (work.size() > s.targetLayers()) stats = new ArrayList<>(pass.run(work.model(), 0));
        }
        while (work.size() > s.targetLayers()) {
            long t0 = System.nanoTime();
            int L = work.size();
            MergeTree tree = work.tree();
            double[] raw = pass.sbi(work.model(), s.method() != Method.COME_P), sbi = raw.clone();
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
            List<MergeStep.PairCandidate> pairs = null;
            if (s.ls().correct() && s.ls().pairCandidates() > 1) { // issue 16: the pair by its corrected calibration NLL
                pairs = new ArrayList<>();
                double bestNll = Double.POSITIVE_INFINITY;
                for (int p : smallest(sbi, s.ls().pairCandidates())) {
                    try (ScratchTensors tmp = new ScratchTensors()) {
                        Candidate m = mergeAt(p, work, stats, pass, teacher, s, tmp, dtype, new ArrayList<>(), x -> {});
                        double n = pass.nllFrom(m.after().model(), p);
                        pairs.add(new MergeStep.PairCandidate(p, sbi[p], n));
                        if (n < bestNll) {
                            bestNll = n;
                            a = p;
                        }
                    }
                }
            }
            List<double[]> candidates = new ArrayList<>();
            Candidate m = mergeAt(a, work, stats, pass, teacher, s, work.store(), dtype, candidates, log);
            MergedLayer merged = m.merged();
            MergeStep.LsCorrection correction = pairs == null ? m.correction() : m.correction().withPairCandidates(pairs);
            List<Integer> origA = tree.get(a), origB = tree.get(a + 1);
            work.merge(a, merged.tensors());
            double ra = m.ra(), rb = m.rb();
            stats.subList(a, stats.size()).clear();
            stats.addAll(pass.run(work.model(), a));
            double after = pass.nll(work.model());
            double seconds = (System.nanoTime() - t0) / 1e9;
            steps.add(new Step(L, a, origA, origB, sbi, bi, ra, rb, fallback, merged, candidates, nll, after, seconds, correction));
            work.commit(BY, MergeRecord.step(steps.size(), steps.getLast()));
            log.accept(String.format("step %d: merged layers %d+%d (original %s + %s), ratio %.3f/%.3f, calibration NLL %.4f -> %.4f (%.1f s)",
                    steps.size(), a, a + 1, origA, origB, ra, rb, nll, after, seconds));
            nll = after;
        }
        return new Result(work.config(), work.tensors(), work.tree(), steps, nll0);
    }

    /** A merge of pair (a, a + 1) before it is applied: the merged layer and the model after. */
    private record Candidate(MergedLayer merged, double ra, double rb, MergeStep.LsCorrection correction, WorkingModel.State after) {}

    /** Merges pair (a, a + 1) (CoMe-P: ratio search into {@code candidates}) and corrects it as {@code s.ls()} says. */
    private static Candidate mergeAt(int a, WorkingModel work, List<LayerStats> stats, CalibrationPass pass, CalibrationPass teacher,
                                     Settings s, ScratchTensors store, DType dtype, List<double[]> candidates, Consumer<String> log) {
        ModelConfig c0 = work.context().model().config();
        Transformer model = work.model();
        List<Map<String, TensorData>> tensors = work.tensors();
        ConcatMerge.Scores sa = scores(model.config(), model.layers().get(a), stats.get(a));
        ConcatMerge.Scores sb = scores(model.config(), model.layers().get(a + 1), stats.get(a + 1));
        // from the sums (the means' ratio up to rounding), so that every merge stays bit-identical to format 1's
        double biA = stats.get(a).biSum(), biB = stats.get(a + 1).biSum();
        double ra = biA / (biA + biB), rb = biB / (biA + biB);
        if (s.method() == Method.COME_P) {
            ra = search(work, a, sa, sb, pass, s, dtype, candidates);
            rb = 1 - ra;
        }
        MergedLayer merged = s.method() == Method.WEIGHTSUM
                ? WeightSumMerge.merge(c0, tensors.get(a), tensors.get(a + 1), ra, rb, store, dtype)
                : ConcatMerge.merge(c0, tensors.get(a), tensors.get(a + 1), sa, sb, ra, rb, s.officialGqaTiling(), store, dtype);
        WorkingModel.State after = work.candidate(new WorkingModel.Collapse(a, a + 1, merged.tensors()));
        MergeStep.LsCorrection correction = null;
        if (s.ls().correct()) {
            int end = work.tree().get(a + 1).getLast() + 1; // the original boundary leaving the block
            var ls = LeastSquaresCorrection.correct(after.model(), a, end, merged.tensors(), pass, teacher, store, dtype);
            merged = new MergedLayer(ls.tensors(), merged.headsA(), merged.headsB(), merged.channelsA(), merged.channelsB());
            after = work.candidate(new WorkingModel.Collapse(a, a + 1, merged.tensors()));
            correction = ls.record();
            log.accept(String.format("  least-squares correction: layer MSE %.4g -> %.4g on the calibration windows%s (%.1f s)",
                    ls.before(), ls.after(), ls.reverted() ? ", worse: dropped" : "", ls.seconds()));
        }
        return new Candidate(merged, ra, rb, correction, after);
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
    private static double search(WorkingModel work, int a, ConcatMerge.Scores sa, ConcatMerge.Scores sb, CalibrationPass pass,
                                 Settings s, DType dtype, List<double[]> candidates) {
        ModelConfig c0 = work.context().model().config();
        List<Map<String, TensorData>> tensors = work.tensors();
        double best = 0, bestNll = Double.POSITIVE_INFINITY;
        long windowLayers = (s.granularity() + 1) * pass.nllWork(work.size() - 1, a);
        try (Progress bar = Progress.start("CoMe-P ratios for " + a + "+" + (a + 1), windowLayers, "window-layers")) {
            for (int i = 0; i <= s.granularity(); i++) {
                double r = (double) i / s.granularity();
                try (ScratchTensors tmp = new ScratchTensors()) {
                    MergedLayer m = ConcatMerge.merge(c0, tensors.get(a), tensors.get(a + 1), sa, sb, r, 1 - r, s.officialGqaTiling(), tmp, dtype);
                    double nll = pass.nllFrom(work.candidate(new WorkingModel.Collapse(a, a + 1, m.tensors())).model(), a, bar);
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
