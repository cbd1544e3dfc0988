package come4j.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.Fixtures;
import come4j.io.SafeTensorsFile;
import come4j.io.TensorData;
import come4j.model.Checkpoint;
import come4j.model.LayerSchema;
import come4j.model.LayerTensor;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Rope;
import come4j.model.Ropes;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One training step (forward, loss, backward, clipping, AdamW) equals the same step done by torch with Hugging Face's
 * decoder layer (tools/distill_step_reference.py): same initial layer, same teacher states, same settings.
 */
class DistillStepParityTest {
    private static final Path DIR = Path.of("src/test/resources/distill");

    @ParameterizedTest
    @CsvSource({"llama3-gqa-f32,kl_hidden", "llama3-gqa-f32,mse", "llama3-gqa-f32,logit_lens_kl", "mistral-f32,kl_hidden",
            "mistral-f32,mse", "qwen2-f32,kl_hidden", "qwen2-f32,logit_lens_kl", "qwen3-f32,kl_hidden", "qwen3-f32,mse",
            "qwen3-f32,logit_lens_kl", "opt-f32,kl_hidden", "opt-f32,mse", "opt350-f32,kl_hidden", "phi3-f32,kl_hidden", "phi3-f32,mse",
            "phi3-longrope-f32,kl_hidden", "gemma3-f32,kl_hidden", "gemma3-f32,mse"})
    void oneStepMatchesTorch(String fixture, String lossId) throws Exception {
        JsonNode s = new ObjectMapper().readTree(DIR.resolve("settings.json").toFile());
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(fixture)); Arena arena = Arena.ofConfined()) {
            Map<String, TensorData> ref = SafeTensorsFile.open(DIR.resolve(fixture + "-" + lossId + ".safetensors"), arena);
            ModelConfig c = ckpt.config();
            int B = s.get("batch").asInt(), T = s.get("seq_len").asInt(), d = c.hiddenSize();
            LayerParams p = LayerParams.of(c, LayerWeights.load(ckpt, 0), Arr::f32);
            Loss loss = Loss.of(lossId);
            Loss.Head head = lossId.equals("logit_lens_kl") ? Loss.Head.of(ckpt) : null;
            Arr x = Arr.of(ref.get("x").toFloat()), y = Arr.of(ref.get("y").toFloat());
            int window = c.slidingWindow()[0];
            Rope rope = Ropes.of(c).forWindow(window);
            LayerBackprop.Tape tape = LayerBackprop.forward(c, rope, window, p, x, B, T);
            Arr dOut = Arr.f32(B * T * d);
            double value = loss.apply(tape.out, y, B * T, d, s.get("tau").asDouble(), head, dOut);
            LayerParams g = p.zeros();
            LayerBackprop.backward(c, rope, window, p, tape, dOut, g);
            var adam = new AdamW.Settings(s.get("lr").asDouble(), s.get("beta1").asDouble(), s.get("beta2").asDouble(),
                    s.get("eps").asDouble(), s.get("weight_decay").asDouble(), s.get("clip").asDouble(), s.get("warmup").asInt(),
                    s.get("steps").asInt(), s.get("min_lr_ratio").asDouble());
            double norm = new AdamW(adam, p).update(p, g);

            JsonNode expected = new ObjectMapper().readTree(DIR.resolve("expected.json").toFile()).get(fixture + "-" + lossId);
            assertEquals(expected.get("loss").asDouble(), value, 1e-6 * Math.max(1, Math.abs(value)), "loss");
            assertEquals(expected.get("grad_norm").asDouble(), norm, 1e-4 * norm, "gradient norm before clipping");
            assertTrue(norm > adam.clip(), "the step exercises clipping");
            double worst = 0;
            int checked = 0;
            for (var e : ref.entrySet()) {
                if (!e.getKey().startsWith("after.")) continue;
                float[] want = e.getValue().toFloat();
                float[] actual = stored(p, c.schema(), e.getKey().substring("after.".length()));
                assertEquals(want.length, actual.length, e.getKey());
                for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(actual[i] - want[i]));
                checked += want.length;
            }
            assertEquals(c.schema().parameterCount(), checked, "every parameter compared");
            assertTrue(worst < 1e-5, "largest parameter difference after the step " + worst);
        }
    }

    /** A tensor as the checkpoint stores it: a fused one (Phi-3's qkv_proj, gate_up_proj) is its parts' rows stacked. */
    private static float[] stored(LayerParams p, LayerSchema s, String name) {
        List<LayerTensor> parts = s.parts(name).isEmpty() ? List.of(s.find(name)) : s.parts(name);
        int n = 0;
        for (LayerTensor t : parts) n += p.get(t.name()).length();
        float[] out = new float[n];
        int at = 0;
        for (LayerTensor t : parts)
            for (int i = 0; i < p.get(t.name()).length(); i++) out[at++] = (float) p.get(t.name()).get(i);
        return out;
    }
}
