package come4j.distill;

import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.calib.ActivationCache;
import come4j.calib.CalibrationContext;
import come4j.calib.CalibrationPass;
import come4j.io.Progress;
import come4j.merge.Compression;
import come4j.merge.CompressionMethod;
import come4j.merge.WorkingModel;
import come4j.model.ModelConfig;
import java.util.function.Consumer;

/**
 * LLM-Streamline (method.md §19.8): the contiguous span of n = L − L* + 1 layers whose input and output hidden states
 * are the most similar (cosine per token, averaged over tokens and calibration windows) is replaced by one layer,
 * initialised from the span's first layer and trained to map the span's input to its output (MSE by default), on the
 * calibration windows (as LLM-Streamline trains on its calibration samples), whose boundaries the run already holds.
 * The replacement stands for the whole span in the tree, so `come distill` can train it further.
 */
public record Streamline(HierarchicalDistiller.Settings train) implements CompressionMethod {
    /** MSE, 200 steps of 4 windows, AdamW at 1e-3 with the usual warm-up and cosine. */
    public static Streamline defaults() {
        return new Streamline(new HierarchicalDistiller.Settings(Loss.MSE, 1, 200, 4, AdamW.Settings.defaults(1e-3, 200), HierarchicalDistiller.SAVE_EVERY, 1));
    }

    @Override
    public String name() {
        return "streamline";
    }

    /** The name the replacement is committed under ({@link WorkingModel#steps}). */
    private static final String BY = "streamline";

    /**
     * One committed step, the span replaced by the trained layer: a rerun after it computes nothing; one killed while
     * training trains again from the start.
     */
    @Override
    public Compression run(WorkingModel work, int targetLayers, Consumer<String> log) {
        var settings = new come4j.report.RunSettings.MethodSettings.Streamline(
                new come4j.report.DistillSettings.Streamline(train.record(), "calibration windows"));
        if (work.steps(BY).isEmpty()) replace(work, targetLayers, log);
        return work.toCompression(settings, (ObjectNode) work.records(BY).getFirst());
    }

    private void replace(WorkingModel work, int targetLayers, Consumer<String> log) {
        CalibrationContext ctx = work.context();
        ctx.firstPass();
        ModelConfig c0 = ctx.model().config();
        int L = c0.numLayers(), n = L - targetLayers + 1, d = c0.hiddenSize();
        try (ActivationCache cache = ctx.workingCache()) {
            double[] sim = similarity(ctx.pass(cache), L, n, d);
            int first = 0;
            for (int i = 1; i < sim.length; i++) if (sim[i] > sim[first]) first = i;
            log.accept(String.format("streamline: replacing original layers %d..%d (input/output cosine %.4f) by one trained layer",
                    first, first + n - 1, sim[first]));
            ModelConfig c = work.candidate(new WorkingModel.Collapse(first, first + n - 1, ctx.tensors().get(first))).config();
            TrainingWindows windows = new TrainingWindows(ctx.set().windows(), 0, ctx.set().windows().size(), 0);
            var block = new HierarchicalDistiller.Block(first, first, first + n - 1);
            var distiller = new HierarchicalDistiller(c, null, TeacherBoundaries.of(cache, windows.seqLen(), d), windows, train, work.trainingStates(BY), log);
            HierarchicalDistiller.Trained t;
            try (Progress bar = Progress.start("streamline", (long) train.steps() * train.batch() * windows.seqLen(), "tok")) {
                t = distiller.train(block, ctx.model().layers().get(first), bar);
            }
            work.collapse(first, first + n - 1, t.params().store(work.store(), ctx.checkpoint().dtype()));
            work.commit(BY, new come4j.merge.MethodRecord.StreamlineSpan(new int[] {first, first + n - 1}, sim, t.record()).json());
        }
    }

    /** For each start i, the mean over windows and tokens of cos(boundary i, boundary i + n). */
    static double[] similarity(CalibrationPass pass, int L, int n, int d) {
        int windows = pass.windowCount(), T = pass.tokensPerWindow();
        double[] sim = new double[L - n + 1];
        for (int i = 0; i < sim.length; i++) {
            for (int w = 0; w < windows; w++) {
                float[] in = pass.rows(i, w, 0, T, d), out = pass.rows(i + n, w, 0, T, d);
                for (int t = 0; t < T; t++) sim[i] += come4j.calib.Similarity.clampedCosine(in, t * d, out, t * d, d);
            }
            sim[i] /= (double) windows * T;
        }
        return sim;
    }
}
