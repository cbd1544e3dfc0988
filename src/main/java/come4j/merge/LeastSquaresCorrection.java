package come4j.merge;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
        public ObjectNode json() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("windows", windows).put("held_out_windows", held);
            var p = o.putArray("projections");
            for (Fit f : fits) {
                ObjectNode j = p.addObject().put("name", f.projection());
                if (Double.isNaN(f.alpha())) j.putNull("alpha"); else j.put("alpha", f.alpha());
                j.put("held_out_mse_before", f.heldBefore()).put("held_out_mse_after", f.heldAfter());
            }
            return o.put("calib_mse_before", before).put("calib_mse_after", after).put("reverted", reverted)
                    .put("gram_bytes", gramBytes).put("seconds", seconds);
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

    /** The next layer's input projections, refitted through one map of their shared normed input. */
    private enum Inputs {
        ATTENTION(List.of(Role.Q, Role.K, Role.V)), FFN(List.of(Role.GATE, Role.UP));

        final List<Role> roles;

        Inputs(List<Role> roles) {
            this.roles = roles;
        }

        /** The group's projections this config's layers have (OPT has no gate), by role, with their tensor names. */
        Map<Role, String> names(come4j.model.ModelConfig c) {
            Map<Role, String> out = new java.util.EnumMap<>(Role.class);
            for (Role r : roles) if (c.schema().find(r) != null) out.put(r, c.schema().find(r).name());
            return out;
        }
    }

    private final Transformer model;
    private final int from, a, target, T, d, windows, held, block;
    private final CalibrationPass student, teacher;
    private long gramBytes;

    /** Layer a of model, fed by layers [from, a) from the student's boundary {@code from}. */
    private LeastSquaresCorrection(Transformer model, int from, int a, int target, CalibrationPass student, CalibrationPass teacher) {
        this.model = model;
        this.from = from;
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
        LeastSquaresCorrection ls = new LeastSquaresCorrection(model, a, a, target, student, teacher);
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

    /**
     * The next-layer variant (issue 16, {@code come-ls-next}): layer n of model follows a freshly merged (and corrected)
     * layer n − 1. Its input projections are refitted so that what they read from the student's stream matches what
     * they would read from the original boundary {@code teacherIn} (layer n as it is, run there): a ridge map S with
     * X_s (I + S) ≈ X_t on the normed inputs, one for q/k/v, then one for gate/up (with the refitted attention), and
     * W ← W (I + Sᵀ). Each map is kept only if layer n's held-out error against the original boundary
     * {@code teacherOut} drops, the whole only if its error on all windows does not rise. Memory: d × d statistics.
     */
    public static Result correctInputs(Transformer model, int n, int teacherIn, int teacherOut, Map<String, TensorData> tensors,
                                       CalibrationPass student, CalibrationPass teacher, ScratchTensors store, DType dtype) {
        if (student.windowCount() < 2) throw new IllegalArgumentException("the least-squares correction needs at least two calibration windows");
        long t0 = System.nanoTime();
        LeastSquaresCorrection ls = new LeastSquaresCorrection(model, n - 1, n, teacherOut, student, teacher);
        LayerWeights original = model.layers().get(n), w = original;
        double before = ls.error(w, 0, ls.windows);
        List<Fit> fits = new ArrayList<>();
        Map<String, float[]> changed = new LinkedHashMap<>();
        for (Inputs g : Inputs.values()) {
            Map<String, float[]> refit = ls.refitInputs(original, w, g, teacherIn, tensors, fits);
            if (refit == null) continue;
            changed.putAll(refit);
            w = ls.withInputs(w, g, refit, ls.d);
        }
        Map<String, TensorData> out = tensors;
        double after = before;
        if (!changed.isEmpty()) {
            List<ScratchTensors.Values> values = new ArrayList<>();
            changed.forEach((name, v) -> values.add(new ScratchTensors.Values(name, tensors.get(name).shape(), v)));
            out = new LinkedHashMap<>(tensors);
            out.putAll(store.store(values, dtype));
            after = ls.error(LayerWeights.of(model.config(), out), 0, ls.windows);
        }
        boolean reverted = after > before;
        return new Result(reverted ? tensors : out, fits, before, after, reverted, ls.windows, ls.held, ls.gramBytes,
                (System.nanoTime() - t0) / 1e9);
    }

    /** Group g's projections refitted through the input map S (null: kept), w the layer so far, its fit appended. */
    private Map<String, float[]> refitInputs(LayerWeights original, LayerWeights w, Inputs g, int teacherIn,
                                             Map<String, TensorData> tensors, List<Fit> fits) {
        int train = windows - held;
        double[] G = new double[d * d], M = new double[d * d];
        gramBytes = Math.max(gramBytes, Ridge.peakBytes(d, d));
        accumulateInputs(original, w, g, teacherIn, 0, train, G, M);
        double heldBefore = error(w, train, windows), best = heldBefore, alpha = Double.NaN;
        double scale = Ridge.meanDiagonal(G, d);
        for (double x : GRID) {
            double e = error(withInputs(w, g, mapped(g.names(model.config()).values(), tensors, Ridge.solve(G, M, d, d, x * scale)), d), train, windows);
            if (e < best) {
                best = e;
                alpha = x;
            }
        }
        fits.add(new Fit(g == Inputs.ATTENTION ? "qkv_proj" : "gate_up_proj", alpha, heldBefore, best));
        if (Double.isNaN(alpha)) return null;
        accumulateInputs(original, w, g, teacherIn, train, windows, G, M);
        return mapped(g.names(model.config()).values(), tensors, Ridge.solve(G, M, d, d, alpha * Ridge.meanDiagonal(G, d)));
    }

    /** G += X_sᵀX_s, M += X_sᵀ(X_t − X_s) over windows [w0, w1): group g's normed input, student and original. */
    private void accumulateInputs(LayerWeights original, LayerWeights w, Inputs g, int teacherIn, int w0, int w1,
                                  double[] G, double[] M) {
        for (int s = w0; s < w1; s += block) {
            int b = Math.min(block, w1 - s);
            float[] xs = normedInput(withLayer(w), input(s, b), b, g);
            float[] xt = normedInput(withLayer(original), rows(teacher, teacherIn, s, b), b, g);
            for (int i = 0; i < xt.length; i++) xt[i] -= xs[i];
            Ridge.accumulate(xs, xt, b * T, d, G, M);
        }
    }

    /** Group g's normed input when layer a of m runs on h (b windows). */
    private float[] normedInput(Transformer m, float[] h, int b, Inputs g) {
        float[][] x = new float[1][];
        m.layer(a, h, b, T, 0, null, g == Inputs.ATTENTION ? new LayerHooks() {
            public void attentionInput(int layer, float[] v, int n) { x[0] = v.clone(); }
        } : new LayerHooks() {
            public void ffnInput(int layer, float[] v, int n) { x[0] = v.clone(); }
        });
        return x[0];
    }

    /** W (I + Sᵀ) for each of g's projections W [rows × d], S [d × d] row-major: W'[r][i] = W[r][i] + Σ_j W[r][j] S[i][j]. */
    private static Map<String, float[]> mapped(java.util.Collection<String> names, Map<String, TensorData> tensors, double[] S) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (String name : names) {
            float[] w = tensors.get(name).toFloat();
            int d = (int) Math.round(Math.sqrt(S.length)), rows = w.length / d;
            float[] r = new float[w.length];
            come4j.tensor.Parallel.forRows(rows, 16, (r0, r1) -> {
                for (int row = r0; row < r1; row++)
                    for (int i = 0; i < d; i++) {
                        double v = w[row * d + i];
                        for (int j = 0; j < d; j++) v += (double) w[row * d + j] * S[i * d + j];
                        r[row * d + i] = (float) v;
                    }
            });
            out.put(name, r);
        }
        return out;
    }

    private LayerWeights withInputs(LayerWeights w, Inputs g, Map<String, float[]> m, int d) {
        for (var e : g.names(model.config()).entrySet()) {
            float[] v = m.get(e.getValue());
            w = w.with(e.getKey(), Matrix.of(v, 0, v.length / d, d, d, 1));
        }
        return w;
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
        float[] h = input(s, b);
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

    /** The student's input of layer a on windows [s, s + b): boundary {@code from} run through layers [from, a). */
    private float[] input(int s, int b) {
        float[] h = rows(student, from, s, b);
        for (int i = from; i < a; i++) model.layer(i, h, b, T, 0, null, LayerHooks.NONE);
        return h;
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
