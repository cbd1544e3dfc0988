package come4j.distill;

import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.Fixtures;
import come4j.model.Checkpoint;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Rope;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Whole-model gradients of the LM loss (summed over two batches) against central finite differences in fp64. */
class ModelGradientTest {
    private static final int T = 7;

    @ParameterizedTest
    @ValueSource(strings = {"llama3-gqa-f32", "qwen3-f32"})
    void gradientsMatchFiniteDifferences(String fixture) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(fixture))) {
            ModelConfig c = ckpt.config();
            List<LayerParams> layers = new ArrayList<>();
            for (int l = 0; l < c.numLayers(); l++) layers.add(LayerParams.of(c, LayerWeights.load(ckpt, l), Arr::f64));
            Loss.Head f32 = Loss.Head.of(ckpt);
            Loss.Head head = new Loss.Head(f64(f32.norm()), f64(f32.lmHead()), f32.vocab(), f32.eps());
            Random rnd = new Random(4);
            List<int[]> batches = new ArrayList<>();
            List<Arr> embeddings = new ArrayList<>();
            for (int b = 0; b < 2; b++) {
                int[] ids = new int[2 * T];
                for (int i = 0; i < ids.length; i++) ids[i] = rnd.nextInt(c.vocabSize());
                batches.add(ids);
                Arr e = Arr.f64(ids.length * c.hiddenSize());
                for (int i = 0; i < e.length(); i++) e.set(i, rnd.nextGaussian());
                embeddings.add(e);
            }
            Map<String, Arr> acts = new HashMap<>(), grads = new HashMap<>();
            ModelGradient.Boundaries actStore = store(acts), gradStore = store(grads);
            forward(c, layers, embeddings, actStore);
            Map<Integer, LayerParams> gradients = new HashMap<>();
            ModelGradient.run(c, layers::get, head, batches, T, actStore, gradStore, (l, p, g) -> gradients.put(l, g));

            Random pick = new Random(9);
            for (int l = 0; l < c.numLayers(); l++)
                for (var e : layers.get(l).tensors().entrySet()) {
                    Arr param = e.getValue(), analytic = gradients.get(l).get(e.getKey());
                    double diff = 0, norm = 0;
                    for (int k = 0; k < 6; k++) {
                        int i = pick.nextInt(param.length());
                        double old = param.get(i), h = 1e-5;
                        param.set(i, old + h);
                        double up = loss(c, layers, head, batches, embeddings);
                        param.set(i, old - h);
                        double down = loss(c, layers, head, batches, embeddings);
                        param.set(i, old);
                        double numeric = (up - down) / (2 * h);
                        diff += Math.pow(analytic.get(i) - numeric, 2);
                        norm += numeric * numeric;
                    }
                    double rel = Math.sqrt(diff / norm);
                    assertTrue(rel < 1e-6, fixture + " layer " + l + " " + e.getKey() + ": relative error " + rel);
                }
        }
    }

    @org.junit.jupiter.api.Test
    void crossEntropyEqualsThePerplexityLoss() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama3-gqa-f32"))) {
            ModelConfig c = ckpt.config();
            come4j.model.Transformer m = come4j.model.Transformer.load(ckpt);
            int batch = 3, n = 20, d = c.hiddenSize();
            int[] ids = new int[batch * n];
            Random rnd = new Random(6);
            for (int i = 0; i < ids.length; i++) ids[i] = rnd.nextInt(c.vocabSize());
            float[] h = m.embed(ids);
            for (int l = 0; l < c.numLayers(); l++) m.layer(l, h, batch, n, 0, null, come4j.model.LayerHooks.NONE);
            double expected = come4j.model.NextTokenLoss.sumOfWindowLosses(m, m.finalNorm(h, 0, ids.length), ids, batch, n) / batch;
            double actual = Loss.crossEntropy(Arr.of(h), ids, n, Loss.Head.of(ckpt), d, Arr.f32(h.length));
            assertTrue(Math.abs(actual - expected) < 1e-5 * expected, actual + " vs " + expected);
        }
    }

    private static Arr f64(Arr a) {
        Arr out = Arr.f64(a.length());
        out.copyFrom(a, 0, 0, a.length());
        return out;
    }

    private static ModelGradient.Boundaries store(Map<String, Arr> m) {
        return new ModelGradient.Boundaries() {
            public Arr get(int k, int batch) { return m.get(k + "/" + batch); }
            public void put(int k, int batch, Arr value) { m.put(k + "/" + batch, value); }
        };
    }

    private static void forward(ModelConfig c, List<LayerParams> layers, List<Arr> embeddings, ModelGradient.Boundaries acts) {
        Rope rope = new Rope(c);
        for (int b = 0; b < embeddings.size(); b++) {
            Arr h = embeddings.get(b);
            acts.put(0, b, h);
            for (int l = 0; l < layers.size(); l++) {
                h = LayerBackprop.forward(c, rope, c.slidingWindow()[l], layers.get(l), h, h.length() / c.hiddenSize() / T, T).out;
                acts.put(l + 1, b, h);
            }
        }
    }

    private static double loss(ModelConfig c, List<LayerParams> layers, Loss.Head head, List<int[]> batches, List<Arr> embeddings) {
        Map<String, Arr> acts = new HashMap<>();
        ModelGradient.Boundaries store = store(acts);
        forward(c, layers, embeddings, store);
        double sum = 0;
        for (int b = 0; b < batches.size(); b++) {
            Arr h = store.get(c.numLayers(), b);
            sum += Loss.crossEntropy(h, batches.get(b), T, head, c.hiddenSize(), h.zeros(h.length()));
        }
        return sum;
    }
}
