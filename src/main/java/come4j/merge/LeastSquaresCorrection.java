package come4j.merge;

import come4j.calib.CalibrationPass;
import come4j.io.BadInputException;
import come4j.io.DType;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.model.LayerHooks;
import come4j.model.LayerWeights;
import come4j.model.Role;
import come4j.model.Transformer;
import come4j.tensor.Matrix;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CoMe-LS (issue 16): a closed-form correction of a freshly merged layer. On the calibration windows, with the layer's
 * input fixed (the current model's boundary entering it, i.e. what the layer will really see), its output is fitted to
 * the original model's output of the block it replaces (the cached original boundary leaving the block) by refitting
 * o_proj and then down_proj with ridge-regularised least squares.
 *
 * <p>Why this order and these targets: the layer computes out = h + o(A) + f(h + o(A)), A the attention heads' output
 * and f the FFN's residual update. A does not depend on o_proj, so with the FFN's update held at its current value the
 * best o_proj is a linear problem: Δo minimising |A Δoᵀ − E|², E = target − out. That holds the FFN fixed although it
 * reads o's output, so the o step is only accepted if it lowers the true layer error (measured by running the layer)
 * on held-out windows. Then, with the refitted attention path fixed, down_proj's input Z (the SwiGLU output) is fixed
 * and out is exactly linear in down_proj: the same ridge problem, now exact. Each update is ridge-shrunk towards the
 * merged weights, so a large λ means "keep the merge".
 *
 * <p>λ = α · trace(G)/K with α from {@link #GRID}, chosen on the last 1/8 of the windows (held out) after fitting on the
 * rest, then refitted on all windows. A projection whose every candidate is worse on the held-out windows is kept.
 * If the corrected layer's error on all windows (as stored, in the checkpoint's dtype) exceeds the merge's, the
 * correction is dropped, so the calibration error never increases.
 *
 * <p>Memory: per projection the K × K Gram XᵀX and its Cholesky factor, plus XᵀE and Δ (K × d each), all fp64
 * ({@link Ridge#peakBytes}): for a 7B down_proj (K = 11008, d = 4096) 2 × 0.97 GB + 2 × 0.36 GB. The Grams are accumulated in fp64 from fp32
 * products of one block of at most {@link #BLOCK_ROWS} tokens (the kernels' GEMM), so no more than one block of activations is ever held.
 */
public final class LeastSquaresCorrection {
    /** Ridge strengths relative to trace(G)/K, tried on the held-out windows. */
    static final double[] GRID = {1e-4, 1e-3, 1e-2, 1e-1, 1};
    /** Tokens per Gram block (whole windows). */
    static final int BLOCK_ROWS = 1024;

    /** One projection's fit: α chosen (NaN: kept as merged) and the held-out mean squared error before and after. */
    public record Fit(String projection, double alpha, double heldBefore, double heldAfter) {}

    /** The corrected tensors and what the correction measured (errors: mean squared error per hidden element). */
    public record Result(Map<String, TensorData> tensors, List<Fit> fits, double before, double after, boolean reverted,
                         int windows, int held, long gramBytes, double seconds) {
        /** come-merge.json's "ls_correction" (an α of NaN, the projection kept as merged, is written null). */
        public MergeStep.LsCorrection record() {
            return new MergeStep.LsCorrection(windows, held, fits.stream().map(f -> new MergeStep.Projection(f.projection(),
                    Double.isNaN(f.alpha()) ? null : f.alpha(), f.heldBefore(), f.heldAfter())).toList(), before, after, reverted, gramBytes, seconds, null);
        }
    }

    /** The refitted projections, by role: o_proj and down_proj (OPT's out_proj and fc2). */
    private enum Projection {
        O(Role.O), DOWN(Role.DOWN);

        final Role role;

        Projection(Role role) {
            this.role = role;
        }
    }

    private final Transformer model;
    private final int a, target, T, d, windows, held, block;
    private final CalibrationPass student, teacher;
    private long gramBytes;

    private LeastSquaresCorrection(Transformer model, int a, int target, CalibrationPass student, CalibrationPass teacher) {
        this.model = model;
        this.a = a;
        this.target = target;
        this.student = student;
        this.teacher = teacher;
        this.T = student.tokensPerWindow();
        this.d = model.config().hiddenSize();
        this.windows = student.windowCount();
        this.held = Math.max(1, windows / 8);
        this.block = Math.max(1, BLOCK_ROWS / T);
    }

    /**
     * Corrects layer {@code a} of {@code model} (whose tensors are {@code tensors}): inputs are boundary a of
     * {@code student}, targets boundary {@code target} of {@code teacher}. Needs at least two windows (one held out).
     */
    public static Result correct(Transformer model, int a, int target, Map<String, TensorData> tensors, CalibrationPass student,
                                 CalibrationPass teacher, ScratchTensors store, DType dtype) {
        if (student.windowCount() < 2) throw new IllegalArgumentException("the least-squares correction needs at least two calibration windows");
        if (!model.config().layout().preNorm()) // a post-norm block's output is not linear in o_proj and down_proj
            throw new BadInputException(null, "the least-squares correction (come-ls, come-p-ls) needs a pre-norm model; "
                    + model.config().architecture() + " with do_layer_norm_before false is post-norm");
        if (model.config().schema().find(Role.ATTENTION_OUTPUT_NORM) != null) // Gemma 3: the same, by its output norms
            throw new BadInputException(null, "the least-squares correction (come-ls, come-p-ls) needs layers whose output is linear in "
                    + "o_proj and down_proj; " + model.config().architecture() + " norms both sublayer outputs before the residual adds");
        long t0 = System.nanoTime();
        LeastSquaresCorrection ls = new LeastSquaresCorrection(model, a, target, student, teacher);
        LayerWeights w = model.layers().get(a);
        double before = ls.error(w, 0, ls.windows);
        List<Fit> fits = new ArrayList<>();
        List<ScratchTensors.Values> changed = new ArrayList<>();
        for (Projection p : Projection.values()) {
            String name = model.config().schema().find(p.role).name();
            float[] refit = ls.refit(w, p, tensors.get(name), fits);
            if (refit == null) continue;
            changed.add(new ScratchTensors.Values(name, tensors.get(name).shape(), refit));
            w = with(w, p, Matrix.of(refit, 0, ls.d, refit.length / ls.d, refit.length / ls.d, 1));
        }
        Map<String, TensorData> out = tensors;
        double after = before;
        if (!changed.isEmpty()) {
            out = new LinkedHashMap<>(tensors);
            out.putAll(store.store(changed, dtype));
            after = ls.error(LayerWeights.of(model.config(), out), 0, ls.windows);
        }
        boolean reverted = after > before;
        return new Result(reverted ? tensors : out, fits, before, after, reverted, ls.windows, ls.held, ls.gramBytes,
                (System.nanoTime() - t0) / 1e9);
    }

    /** The refitted weights of projection p (null: kept), its fit appended to {@code fits}. */
    private float[] refit(LayerWeights w, Projection p, TensorData current, List<Fit> fits) {
        int K = current.cols(), train = windows - held;
        double[] G = new double[K * K], B = new double[K * d];
        gramBytes = Math.max(gramBytes, Ridge.peakBytes(K, d));
        accumulate(w, p, 0, train, G, B);
        float[] w0 = current.toFloat();
        double heldBefore = error(w, train, windows), best = heldBefore, alpha = Double.NaN;
        double scale = Ridge.meanDiagonal(G, K);
        for (double x : GRID) {
            float[] cand = update(w0, Ridge.solve(G, B, K, d, x * scale), K);
            double e = error(with(w, p, Matrix.of(cand, 0, d, K, K, 1)), train, windows);
            if (e < best) {
                best = e;
                alpha = x;
            }
        }
        fits.add(new Fit(p.name().toLowerCase(java.util.Locale.ROOT) + "_proj", alpha, heldBefore, best));
        if (Double.isNaN(alpha)) return null;
        accumulate(w, p, train, windows, G, B); // then refit on every window
        return update(w0, Ridge.solve(G, B, K, d, alpha * Ridge.meanDiagonal(G, K)), K);
    }

    /** W0 + Δᵀ: W0 is d × K row-major, Δ is K × d. */
    private float[] update(float[] w0, double[] delta, int K) {
        float[] w = new float[w0.length];
        for (int r = 0; r < d; r++) for (int k = 0; k < K; k++) w[r * K + k] = (float) (w0[r * K + k] + delta[k * d + r]);
        return w;
    }

    /** G += XᵀX, B += XᵀE over windows [w0, w1), X the projection's input, E = target − layer output. */
    private void accumulate(LayerWeights w, Projection p, int w0, int w1, double[] G, double[] B) {
        for (int s = w0; s < w1; s += block) {
            int b = Math.min(block, w1 - s);
            float[][] x = new float[1][];
            float[] e = residual(w, p, s, b, x);
            Ridge.accumulate(x[0], e, b * T, d, G, B);
        }
    }

    /** Target − output of the layer with weights w on windows [s, s + b), [b*T x d]; x[0] gets p's input. */
    private float[] residual(LayerWeights w, Projection p, int s, int b, float[][] x) {
        float[] h = rows(student, a, s, b);
        LayerHooks hooks = x == null ? LayerHooks.NONE : p == Projection.O ? new LayerHooks() {
            public void attentionOutput(int layer, float[] v, int n) { x[0] = v.clone(); }
        } : new LayerHooks() {
            public void ffnInner(int layer, float[] v, int n) { x[0] = v.clone(); }
        };
        withLayer(w).layer(a, h, b, T, 0, null, hooks);
        float[] y = rows(teacher, target, s, b);
        for (int i = 0; i < y.length; i++) y[i] -= h[i];
        return y;
    }

    /** Mean squared error per hidden element of the layer with weights w on windows [w0, w1). */
    private double error(LayerWeights w, int w0, int w1) {
        double sum = 0;
        for (int s = w0; s < w1; s += block) {
            int b = Math.min(block, w1 - s);
            for (float v : residual(w, null, s, b, null)) sum += (double) v * v;
        }
        return sum / ((double) (w1 - w0) * T * d);
    }

    private float[] rows(CalibrationPass pass, int boundary, int s, int b) {
        float[] h = new float[b * T * d];
        for (int k = 0; k < b; k++) System.arraycopy(pass.rows(boundary, s + k, 0, T, d), 0, h, k * T * d, T * d);
        return h;
    }

    private Transformer withLayer(LayerWeights w) {
        List<LayerWeights> layers = new ArrayList<>(model.layers());
        layers.set(a, w);
        return model.withLayers(model.config(), layers);
    }

    private static LayerWeights with(LayerWeights w, Projection p, Matrix m) {
        return w.with(p.role, m);
    }
}
