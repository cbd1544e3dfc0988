package come4j.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import come4j.Fixtures;
import come4j.calib.CalibrationContext;
import come4j.calib.CalibrationSet;
import come4j.calib.Similarity;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.model.Checkpoint;
import come4j.model.LayerHooks;
import come4j.model.LayerWeights;
import come4j.model.NextTokenLoss;
import come4j.model.Tokenizer;
import come4j.model.Transformer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The removal baselines against expectations computed here independently, on a 3-layer fixture. */
class LayerRemovalTest {
    record Setup(Checkpoint ckpt, Transformer model, List<Map<String, TensorData>> tensors, CalibrationSet set) {}

    static <T> T with(String fixture, java.util.function.Function<Setup, T> body) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(fixture)); Tokenizer tok = Tokenizer.load(ckpt.tokenizerFile())) {
            List<Map<String, TensorData>> tensors = new ArrayList<>();
            for (int i = 0; i < ckpt.config().numLayers(); i++) tensors.add(LayerWeights.tensors(ckpt, i));
            CalibrationSet set = CalibrationSet.build(List.of(Fixtures.PPL_TEXT), tok, CalibrationSet.Recipe.authors(256, 32, 10, "text"));
            return body.apply(new Setup(ckpt, Transformer.load(ckpt), tensors, set));
        }
    }

    /** The plan as the method records it (come-merge.json's removed, scores, rounds). */
    static LayerRemoval.Plan plan(Setup s, LayerRemoval.Method m, int k) {
        try (CalibrationContext ctx = new CalibrationContext(s.ckpt(), s.set(), 4); ScratchTensors store = new ScratchTensors()) {
            JsonNode r = new LayerRemoval.Removal("test", m).run(new WorkingModel(ctx, store), s.model().numLayers() - k, x -> {}).record();
            List<double[]> rounds = new ArrayList<>();
            if (r.has("rounds")) for (JsonNode round : r.get("rounds")) rounds.add(doubles(round));
            return new LayerRemoval.Plan(ints(r.get("removed")), r.has("scores") ? doubles(r.get("scores")) : null, rounds);
        }
    }

    private static double[] doubles(JsonNode a) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asDouble();
        return v;
    }

    private static int[] ints(JsonNode a) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asInt();
        return v;
    }

    @Test
    void lowestScoresWithTiesAndProtectedLayers() {
        assertArrayEquals(new int[] {1, 3}, LayerRemoval.lowest(new double[] {5, 1, 4, 1, 9}, 2, 0, 5));
        assertArrayEquals(new int[] {2, 3}, LayerRemoval.lowest(new double[] {0, 0, 4, 1, 9, 0, 0}, 2, 2, 5)); // "+" keeps the ends
        assertArrayEquals(new int[] {1, 2}, LayerRemoval.lowest(new double[] {3, 2, 2, 2}, 2, 0, 4));
    }

    @Test
    void reverseRemovesTheDeepestLayers() {
        assertArrayEquals(new int[] {1, 2}, with("llama-mha-f32", s -> plan(s, LayerRemoval.Method.REVERSE, 2)).removed());
    }

    @Test
    void magnitudeRemovesTheLayerOfSmallestAbsoluteWeightSum() {
        with("qwen2-f32", s -> {
            double[] expected = new double[3];
            for (int i = 0; i < 3; i++)
                for (var e : s.tensors().get(i).entrySet())
                    if (e.getKey().endsWith("proj.weight") || e.getKey().endsWith("layernorm.weight")) // no biases, no q/k norms
                        for (float w : e.getValue().toFloat()) expected[i] += Math.abs(w);
            LayerRemoval.Plan p = plan(s, LayerRemoval.Method.MAGNITUDE, 1);
            for (int i = 0; i < 3; i++) assertEquals(expected[i], p.scores()[i], 1e-6 * expected[i]);
            assertArrayEquals(LayerRemoval.lowest(expected, 1, 0, 3), p.removed());
            return null;
        });
    }

    @Test
    void shortGptRemovesTheLayerOfLowestBlockInfluence() {
        with("mistral-f32", s -> {
            Transformer m = s.model();
            int d = m.config().hiddenSize(), L = m.numLayers();
            double[] bi = new double[L];
            for (int[] w : s.set().windows()) { // independent: whole windows layer by layer, HF boundary convention
                int T = w.length;
                float[] h = m.embed(w);
                for (int i = 0; i < L; i++) {
                    float[] in = h.clone();
                    m.layer(i, h, 1, T, 0, null, LayerHooks.NONE);
                    bi[i] += Similarity.blockInfluence(in, i == L - 1 ? m.finalNorm(h, 0, T) : h, T, d);
                }
            }
            long tokens = (long) s.set().windows().size() * s.set().seqLen();
            for (int i = 0; i < L; i++) bi[i] /= tokens; // BI is the mean over tokens
            LayerRemoval.Plan p = plan(s, LayerRemoval.Method.SHORTGPT, 1);
            for (int i = 0; i < L; i++) assertEquals(bi[i], p.scores()[i], 1e-6 * bi[i]);
            assertArrayEquals(LayerRemoval.lowest(bi, 1, 0, L), p.removed());
            return null;
        });
    }

    @Test
    void slebRemovesTheLayerWhoseAbsenceCostsLeastNll() {
        with("llama3-gqa-f32", s -> {
            Transformer m = s.model();
            double[] nll = new double[3];
            for (int j = 0; j < 3; j++) { // independent: the full model without layer j, scored window by window
                List<Integer> kept = new ArrayList<>(List.of(0, 1, 2));
                kept.remove(j);
                List<LayerWeights> w = new ArrayList<>(m.layers());
                w.remove(j);
                Transformer without = m.withLayers(m.config().withLayers(kept.stream().mapToInt(Integer::intValue).toArray()), w);
                for (int[] win : s.set().windows())
                    nll[j] += NextTokenLoss.sumOfWindowLosses(without, without.finalStates(win, 1), win, 1, win.length);
                nll[j] /= s.set().windows().size();
            }
            LayerRemoval.Plan p = plan(s, LayerRemoval.Method.SLEB, 1);
            assertArrayEquals(nll, p.rounds().getFirst(), 1e-9);
            assertArrayEquals(LayerRemoval.lowest(nll, 1, 0, 3), p.removed());
            return null;
        });
    }
}
