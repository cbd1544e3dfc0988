package come4j.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.Fixtures;
import come4j.calib.CalibrationContext;
import come4j.calib.CalibrationSet;
import come4j.io.ScratchTensors;
import come4j.merge.Compression;
import come4j.merge.Laco;
import come4j.model.Checkpoint;
import come4j.model.LayerHooks;
import come4j.model.Transformer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The baselines that need gradients or training: Taylor(+) and LLM-Streamline, on a fixture. */
class GradientBaselinesTest {
    private static final Methods.Options OPTIONS = new Methods.Options(false, 20, new Laco.Settings(4, 1, 0), List.of(), null);

    private static CalibrationSet windows(JsonNode ref) {
        List<int[]> w = new ArrayList<>();
        ref.get("windows").forEach(x -> w.add(Fixtures.ints(x)));
        return new CalibrationSet(w, w.size(), (long) w.size() * w.getFirst().length);
    }

    @Test
    void taylorRemovesTheLayerOfLowestTorchScore() throws Exception {
        JsonNode ref = new ObjectMapper().readTree(Path.of("src/test/resources/distill/taylor.json").toFile()).get("llama3-gqa-f32");
        double[] torch = new double[ref.get("scores").size()];
        for (int i = 0; i < torch.length; i++) torch[i] = ref.get("scores").get(i).asDouble();
        int lowest = IntStream.range(0, torch.length).boxed().min((a, b) -> Double.compare(torch[a], torch[b])).orElseThrow();
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama3-gqa-f32"));
             CalibrationContext ctx = new CalibrationContext(ckpt, windows(ref), 2); ScratchTensors store = new ScratchTensors()) {
            Compression c = Methods.create("taylor", OPTIONS).run(new come4j.merge.WorkingModel(ctx, store), 2, s -> {});
            List<List<Integer>> kept = c.tree().entries();
            assertEquals(2, kept.size());
            assertTrue(kept.stream().noneMatch(e -> e.contains(lowest)), "removed " + lowest + ", kept " + kept);
            JsonNode scores = c.record().get("scores");
            for (int i = 0; i < torch.length; i++) assertEquals(torch[i], scores.get(i).asDouble(), 1e-4 * torch[i]);
        }
    }

    @Test
    void streamlineReplacesTheMostSimilarSpanByOneTrainedLayer() throws Exception {
        JsonNode ref = new ObjectMapper().readTree(Path.of("src/test/resources/distill/taylor.json").toFile()).get("llama3-gqa-f32");
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama3-gqa-f32"));
             CalibrationContext ctx = new CalibrationContext(ckpt, windows(ref), 2); ScratchTensors store = new ScratchTensors()) {
            // independent reference: the span of 2 layers whose input and output are most similar, by a plain forward pass
            Transformer m = Transformer.load(ckpt);
            CalibrationSet set = ctx.set();
            int d = ckpt.config().hiddenSize(), T = set.seqLen();
            double[] sim = new double[2];
            for (int[] w : set.windows()) {
                List<float[]> hs = new ArrayList<>();
                float[] h = m.embed(w);
                hs.add(h.clone());
                for (int l = 0; l < 3; l++) {
                    m.layer(l, h, 1, T, 0, null, LayerHooks.NONE);
                    hs.add(h.clone());
                }
                for (int i = 0; i < 2; i++)
                    for (int t = 0; t < T; t++) sim[i] += come4j.calib.Similarity.clampedCosine(hs.get(i), t * d, hs.get(i + 2), t * d, d);
            }
            int span = sim[1] > sim[0] ? 1 : 0;
            Compression c = Methods.create("streamline", OPTIONS).run(new come4j.merge.WorkingModel(ctx, store), 2, s -> {});
            assertEquals(List.of(span, span + 1), c.tree().get(span), "tree " + c.tree().entries());
            assertArrayEquals(new int[] {span, span + 1}, new int[] {c.record().get("span").get(0).asInt(), c.record().get("span").get(1).asInt()});
            JsonNode loss = c.record().get("replacement");
            assertTrue(loss.get("loss_last").asDouble() < 0.5 * loss.get("loss_first").asDouble(), loss.toString());
            int other = span == 0 ? 1 : 0; // the layer outside the span is the original, untouched
            assertTrue(Arrays.equals(ckpt.tensor("model.layers." + (span == 0 ? 2 : 0) + ".mlp.up_proj.weight").toFloat(),
                    c.layers().get(other).get("mlp.up_proj.weight").toFloat()));
        }
    }
}
