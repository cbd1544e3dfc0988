package come4j.distill;

import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.Fixtures;
import come4j.model.Checkpoint;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Role;
import come4j.model.Rope;
import come4j.model.Ropes;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every backward pass against central finite differences, in fp64 on the tiny fixtures: GQA attention with the causal
 * mask (and Mistral's sliding window, shorter than the sequence here), llama3 RoPE scaling, Qwen2 biases, Qwen3 q/k
 * norms, OPT's LayerNorms with bias, ReLU and learned positions, pre- and post-norm (opt350). Relative error = ‖analytic − numeric‖ / ‖numeric‖ over the checked elements of each tensor.
 */
class GradientCheckTest {
    private static final double H = 1e-5, TOL = 1e-6;
    private static final int BATCH = 2;

    private record Setup(ModelConfig c, Rope rope, int window, LayerParams p, Arr x, Arr r, int T) {
        /** The scalar checked: Σ out ⊙ r for a fixed random r (every output element gets a distinct weight). */
        double objective() {
            Arr out = LayerBackprop.forward(c, rope, window, p, x, BATCH, T).out;
            double s = 0;
            for (int i = 0; i < out.length(); i++) s += out.get(i) * r.get(i);
            return s;
        }
    }

    private static Setup setup(String fixture, int layer, int T) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(fixture))) {
            ModelConfig c = ckpt.config();
            LayerParams p = LayerParams.of(c, LayerWeights.load(ckpt, layer), Arr::f64);
            Random rnd = new Random(7);
            Arr x = random(rnd, BATCH * T * c.hiddenSize()), r = random(rnd, BATCH * T * c.hiddenSize());
            return new Setup(c, Ropes.of(c).forWindow(c.slidingWindow()[layer]), c.slidingWindow()[layer], p, x, r, T);
        }
    }

    private static Arr random(Random rnd, int n) {
        Arr a = Arr.f64(n);
        for (int i = 0; i < n; i++) a.set(i, rnd.nextGaussian());
        return a;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-mha-f32", "llama3-gqa-f32", "mistral-f32", "qwen2-f32", "qwen3-f32", "opt-f32", "opt350-f32"})
    void layerGradientsMatchFiniteDifferences(String fixture) {
        // T = 11 > Mistral's window of 8; qwen3's layer 1 is a sliding_attention layer
        checkLayer(setup(fixture, fixture.startsWith("qwen3") ? 1 : 0, 11), 24);
    }

    /**
     * Phi-3: the parts of its fused qkv_proj and gate_up_proj, the window (T = 11 > 8); LongRoPE with partial rotary
     * (12 of 16 dims) and its attention factor, with the short factors (T = 11 <= 16) and the long ones (T = 20 > 16).
     */
    @ParameterizedTest
    @CsvSource({"phi3-f32,11", "phi3-longrope-f32,11", "phi3-longrope-f32,20"})
    void phi3GradientsMatchFiniteDifferences(String fixture, int T) {
        checkLayer(setup(fixture, 0, T), 24);
    }

    /**
     * Gemma 3: (1 + w) norms, output norms before the residual adds, GeGLU, query_pre_attn_scalar; layer 0 slides (window
     * 8 < T, local RoPE base), layer 1 is global (linear-scaled RoPE).
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void gemma3LayerGradientsMatchFiniteDifferences(int layer) {
        checkLayer(setup("gemma3-f32", layer, 11), 24);
    }

    /** Sequences longer than the attention's query block (64): blocks that see only part of the keys. */
    @ParameterizedTest
    @ValueSource(strings = {"llama-mha-f32", "mistral-f32"})
    void gradientsAcrossQueryBlocks(String fixture) {
        checkLayer(setup(fixture, 0, 70), 6);
    }

    private static void checkLayer(Setup s, int perTensor) {
        LayerBackprop.Tape tape = LayerBackprop.forward(s.c, s.rope, s.window, s.p, s.x, BATCH, s.T);
        LayerParams g = s.p.zeros();
        Arr dx = LayerBackprop.backward(s.c, s.rope, s.window, s.p, tape, s.r, g);
        Random pick = new Random(3);
        String what = s.c.architecture() + " T=" + s.T + " ";
        String keyBias = s.c.qkvBias() ? s.c.schema().find(Role.K_BIAS).name() : null;
        s.p.tensors().forEach((name, param) -> {
            // without RoPE a key bias adds the same q·b to all of a query's scores, which softmax ignores: its gradient is 0
            if (s.c.layout().learnedPositions() && name.equals(keyBias)) assertZero(what + name, param, g.get(name), s::objective);
            else check(what + name, param, g.get(name), s::objective, pick, perTensor);
        });
        check(what + "input", s.x, dx, s::objective, pick, perTensor);
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    void lossGradientsMatchFiniteDifferences(Loss loss) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama3-gqa-f32"))) {
            ModelConfig c = ckpt.config();
            int rows = 6, d = c.hiddenSize();
            Arr norm = Arr.f64(d), head = Arr.f64(c.vocabSize() * d);
            float[] n = ckpt.tensor("model.norm.weight", d).toFloat(), w = ckpt.tensor("lm_head.weight", c.vocabSize(), d).toFloat();
            for (int i = 0; i < n.length; i++) norm.set(i, n[i]);
            for (int i = 0; i < w.length; i++) head.set(i, w[i]);
            Loss.Head h = new Loss.Head(norm, head, c.vocabSize(), c.rmsNormEps());
            Random rnd = new Random(11);
            Arr ys = random(rnd, rows * d), yt = random(rnd, rows * d), grad = Arr.f64(rows * d);
            double tau = 1.7;
            loss.apply(ys, yt, rows, d, tau, h, grad);
            check(loss.id, ys, grad, () -> loss.apply(ys, yt, rows, d, tau, h, Arr.f64(rows * d)), new Random(5), 24);
        }
    }

    /** The logit-lens loss through OPT's heads: final LayerNorm with bias (opt), none but project_out (opt350). */
    @ParameterizedTest
    @ValueSource(strings = {"opt-f32", "opt350-f32"})
    void optHeadGradientsMatchFiniteDifferences(String fixture) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(fixture))) {
            ModelConfig c = ckpt.config();
            Loss.Head h32 = Loss.Head.of(ckpt);
            Loss.Head h = new Loss.Head(f64(h32.norm()), f64(h32.normBias()), f64(h32.projectOut()), f64(h32.lmHead()), h32.vocab(), h32.eps());
            int rows = 6, d = c.hiddenSize();
            Random rnd = new Random(11);
            Arr ys = random(rnd, rows * d), yt = random(rnd, rows * d), grad = Arr.f64(rows * d);
            Loss.LOGIT_LENS_KL.apply(ys, yt, rows, d, 1.7, h, grad);
            check(fixture + " logit_lens_kl", ys, grad, () -> Loss.LOGIT_LENS_KL.apply(ys, yt, rows, d, 1.7, h, Arr.f64(rows * d)), new Random(5), 24);
        }
    }

    /**
     * The end-to-end loss (KL to the teacher's logits after every layer) against central differences, with respect to
     * the trained layers' weights: trained 0 and 2 (layer 0's gradient comes back through trained layer 2 and frozen
     * layer 1), and trained 1 alone (frozen layer 0 only runs forward, frozen layer 2 is backpropagated through).
     */
    @ParameterizedTest
    @ValueSource(strings = {"0,2", "1"})
    void endToEndGradientsMatchFiniteDifferences(String trainedLayers) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama3-gqa-f32"))) {
            ModelConfig c = ckpt.config();
            Loss.Head h32 = Loss.Head.of(ckpt);
            Loss.Head head = new Loss.Head(f64(h32.norm()), f64(h32.lmHead()), h32.vocab(), h32.eps());
            java.util.List<LayerParams> layers = new java.util.ArrayList<>();
            for (int l = 0; l < c.numLayers(); l++) layers.add(LayerParams.of(c, LayerWeights.load(ckpt, l), Arr::f64));
            int[] trained = java.util.Arrays.stream(trainedLayers.split(",")).mapToInt(Integer::parseInt).toArray();
            int T = 11, rows = BATCH * T, d = c.hiddenSize();
            Random rnd = new Random(13);
            Arr x = random(rnd, rows * d), yt = random(rnd, rows * d);
            Ropes ropes = Ropes.of(c);
            java.util.List<LayerParams> grads = java.util.Arrays.stream(trained).mapToObj(l -> layers.get(l).zeros()).toList();
            EndToEnd.loss(c, ropes, layers, trained, head, x, yt, BATCH, T, grads);
            Supplier<Double> f = () -> EndToEnd.loss(c, ropes, layers, trained, head, x, yt, BATCH, T, null);
            Random pick = new Random(3);
            for (int k = 0; k < trained.length; k++) {
                LayerParams p = layers.get(trained[k]), g = grads.get(k);
                String what = "end-to-end, layers " + trainedLayers + " trained, layer " + trained[k] + " ";
                p.tensors().forEach((name, param) -> check(what + name, param, g.get(name), f, pick, 12));
            }
        }
    }

    private static Arr f64(Arr a) {
        if (a == null) return null;
        Arr b = Arr.f64(a.length());
        for (int i = 0; i < a.length(); i++) b.set(i, a.get(i));
        return b;
    }

    /** Every analytic gradient entry and its central difference are zero (up to fp64 rounding). */
    private static void assertZero(String what, Arr param, Arr analytic, Supplier<Double> f) {
        for (int i = 0; i < param.length(); i++) {
            double old = param.get(i);
            param.set(i, old + H);
            double up = f.get();
            param.set(i, old - H);
            double down = f.get();
            param.set(i, old);
            assertTrue(Math.abs(analytic.get(i)) < 1e-12 && Math.abs((up - down) / (2 * H)) < 1e-7,
                    what + "[" + i + "]: " + analytic.get(i) + ", numeric " + (up - down) / (2 * H));
        }
    }

    /** Compares analytic gradient entries of {@code param} with central differences (up to {@code max} entries). */
    private static void check(String what, Arr param, Arr analytic, Supplier<Double> f, Random pick, int max) {
        int n = param.length(), count = Math.min(n, max);
        double diff = 0, norm = 0;
        for (int c = 0; c < count; c++) {
            int i = n <= max ? c : pick.nextInt(n);
            double old = param.get(i);
            param.set(i, old + H);
            double up = f.get();
            param.set(i, old - H);
            double down = f.get();
            param.set(i, old);
            double numeric = (up - down) / (2 * H);
            diff += Math.pow(analytic.get(i) - numeric, 2);
            norm += numeric * numeric;
        }
        double rel = Math.sqrt(diff / norm);
        assertTrue(rel < TOL && norm > 0, what + ": relative error " + rel + " (|numeric| " + Math.sqrt(norm) + ")");
    }
}
