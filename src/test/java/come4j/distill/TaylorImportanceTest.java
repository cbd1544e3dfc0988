package come4j.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.Fixtures;
import come4j.calib.CalibrationSet;
import come4j.model.Checkpoint;
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
    @ValueSource(strings = {"llama3-gqa-f32", "qwen2-f32", "opt-f32", "opt350-f32"})
    void scoresMatchTorch(String fixture) throws Exception {
        check(fixture, fixture.startsWith("opt") ? fixture : "tensors"); // OPT's entries carry their own tensor names
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

    /**
     * Phi-3: torch's per-tensor sums are over the fused qkv_proj and gate_up_proj; come4j scores their parts (q, k, v,
     * gate, up), whose sums add up to the fused ones. Expected per layer: the sum over the reference's weight tensors.
     */
    @ParameterizedTest
    @ValueSource(strings = {"phi3-f32"})
    void fusedTensorsScoreAsTheirParts(String fixture) throws Exception {
        JsonNode ref = new ObjectMapper().readTree(Path.of("src/test/resources/distill/taylor.json").toFile()).get(fixture);
        List<int[]> windows = new ArrayList<>();
        ref.get("windows").forEach(w -> windows.add(Fixtures.ints(w)));
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(fixture))) {
            CalibrationSet set = new CalibrationSet(windows, windows.size(), (long) windows.size() * windows.getFirst().length);
            List<String> scored = come4j.merge.LayerRemoval.scoredTensors(ckpt.config());
            assertEquals(List.of("self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
                    "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight", "input_layernorm.weight",
                    "post_attention_layernorm.weight"), scored);
            double[] scores = TaylorImportance.scores(Transformer.load(ckpt), Loss.Head.of(ckpt), set, 2, scored);
            for (int l = 0; l < scores.length; l++) {
                double expected = 0;
                for (JsonNode t : ref.get("tensors")) expected += ref.get("per_tensor").get(l).get(t.asText()).asDouble();
                assertEquals(expected, scores[l], 1e-4 * expected, fixture + " layer " + l);
            }
        }
    }
}
