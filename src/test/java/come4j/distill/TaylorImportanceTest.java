package come4j.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.Fixtures;
import come4j.calib.CalibrationSet;
import come4j.io.Checkpoint;
import come4j.model.Transformer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Taylor importance per layer equals torch autograd's Σ |θ ⊙ G| (tools/taylor_reference.py). */
class TaylorImportanceTest {
    @ParameterizedTest
    @ValueSource(strings = {"llama3-gqa-f32", "qwen2-f32"})
    void scoresMatchTorch(String fixture) throws Exception {
        check(fixture, "tensors");
    }

    /** Gemma 3 over all 13 tensors of its layer (the reference's own list: q/k norms and all four norms too). */
    @Test
    void gemma3ScoresMatchTorch() throws Exception {
        check("gemma3-f32", "gemma3-f32");
    }

    /** {@code tensorsOf}: the entry of taylor.json whose "tensors" the scores sum over. */
    private static void check(String fixture, String tensorsOf) throws Exception {
        JsonNode ref = new ObjectMapper().readTree(Path.of("src/test/resources/distill/taylor.json").toFile());
        List<int[]> windows = new ArrayList<>();
        ref.get(fixture).get("windows").forEach(w -> windows.add(Fixtures.ints(w)));
        List<String> tensors = new ArrayList<>();
        (tensorsOf.equals("tensors") ? ref.get("tensors") : ref.get(tensorsOf).get("tensors")).forEach(t -> tensors.add(t.asText()));
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(fixture))) {
            CalibrationSet set = new CalibrationSet(windows, windows.size(), (long) windows.size() * windows.getFirst().length);
            double[] scores = TaylorImportance.scores(Transformer.load(ckpt), Loss.Head.of(ckpt), set, ref.get("batch").asInt(), tensors);
            JsonNode expected = ref.get(fixture).get("scores");
            assertEquals(expected.size(), scores.length);
            for (int l = 0; l < scores.length; l++)
                assertEquals(expected.get(l).asDouble(), scores[l], 1e-4 * expected.get(l).asDouble(), fixture + " layer " + l);
        }
    }
}
