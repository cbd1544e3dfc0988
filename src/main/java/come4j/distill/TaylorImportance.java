package come4j.distill;

import come4j.calib.ActivationCache;
import come4j.calib.CalibrationPass;
import come4j.calib.CalibrationSet;
import come4j.io.Progress;
import come4j.model.ModelConfig;
import come4j.model.Transformer;
import java.util.ArrayList;
import java.util.List;

/**
 * Taylor importance of each layer (method.md §19.5, Shortened LLaMA): Σ |θ ⊙ G| over the layer's projections and norms,
 * with G the gradient of the LM loss summed over the calibration batches before the absolute value is taken. The
 * windows' boundaries (a calibration pass's cache) and their gradients live in mmap'd temp files; one layer's
 * parameters are in memory at a time.
 */
public final class TaylorImportance {
    private TaylorImportance() {}

    /**
     * Taylor scores of a run's model on its calibration windows (method.md §19.5: the magnitude tensors), from the
     * boundaries the run's first pass already holds.
     */
    public static double[] of(come4j.calib.CalibrationContext ctx) {
        ctx.firstPass();
        try (ActivationCache acts = ctx.workingCache()) {
            return scores(ctx.model(), Loss.Head.of(ctx.checkpoint()), ctx.set(), ctx.batch(), come4j.merge.LayerRemoval.scoredTensors(ctx.model().config()), acts);
        }
    }

    /** One score per layer of the model, from the calibration windows in batches of {@code batch}. */
    public static double[] scores(Transformer model, Loss.Head head, CalibrationSet set, int batch, List<String> tensors) {
        try (ActivationCache acts = new ActivationCache(set.windows().size(), set.seqLen(), model.config().hiddenSize())) {
            CalibrationPass pass = new CalibrationPass(set, acts, batch);
            pass.embed(model);
            pass.run(model, 0);
            return scores(model, head, set, batch, tensors, acts);
        }
    }

    /** The same from {@code acts}, which holds every boundary 0 … L of the windows. */
    private static double[] scores(Transformer model, Loss.Head head, CalibrationSet set, int batch, List<String> tensors,
                                   ActivationCache acts) {
        ModelConfig c = model.config();
        int L = c.numLayers(), T = set.seqLen(), d = c.hiddenSize(), n = set.windows().size();
        List<int[]> batches = new ArrayList<>();
        for (int w0 = 0; w0 < n; w0 += batch) {
            int b = Math.min(batch, n - w0);
            int[] ids = new int[b * T];
            for (int k = 0; k < b; k++) System.arraycopy(set.windows().get(w0 + k), 0, ids, k * T, T);
            batches.add(ids);
        }
        double[] score = new double[L];
        try (ActivationCache grads = new ActivationCache(n, T, d); Progress bar = Progress.start("taylor", (long) L * n, "window-layers")) {
            ModelGradient.run(c, l -> LayerParams.of(c, model.layers().get(l), Arr::f32), head, batches, T,
                    boundaries(acts, batch, n, T, d), boundaries(grads, batch, n, T, d), (l, p, grad) -> {
                        for (String t : tensors) {
                            Arr w = p.get(t), gr = grad.get(t);
                            for (int i = 0; i < w.length(); i++) score[l] += Math.abs(w.get(i) * gr.get(i));
                        }
                        bar.step(n);
                    });
        }
        return score;
    }

    private static ModelGradient.Boundaries boundaries(ActivationCache cache, int batch, int windows, int T, int d) {
        return new ModelGradient.Boundaries() {
            public Arr get(int k, int b) {
                int n = Math.min(batch, windows - b * batch);
                float[] out = new float[n * T * d];
                for (int i = 0; i < n; i++) cache.get(k, b * batch + i, out, i * T * d);
                return Arr.of(out);
            }

            public void put(int k, int b, Arr value) {
                float[] v = ((Arr.F32) value).array();
                for (int i = 0; i < v.length / (T * d); i++) cache.put(k, b * batch + i, v, i * T * d);
            }
        };
    }
}
