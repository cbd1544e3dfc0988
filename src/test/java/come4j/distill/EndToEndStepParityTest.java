package come4j.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.Fixtures;
import come4j.model.Checkpoint;
import come4j.io.SafeTensorsFile;
import come4j.io.TensorData;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Ropes;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One step of the end-to-end stage (every layer forward, KL to the teacher's logits, backward through the frozen layer
 * between the trained ones, one clipping norm over both, AdamW) equals the same step done by torch with Hugging Face's
 * decoder layers (tools/e2e_step_reference.py): llama3-gqa, layers 0 and 2 trained, layer 1 frozen.
 */
class EndToEndStepParityTest {
    private static final Path DIR = Path.of("src/test/resources/distill");

    @Test
    void oneStepMatchesTorch() throws Exception {
        var mapper = new ObjectMapper();
        JsonNode s = mapper.readTree(DIR.resolve("settings.json").toFile()), expected = mapper.readTree(DIR.resolve("e2e-llama3-gqa-f32.json").toFile());
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama3-gqa-f32")); Arena arena = Arena.ofConfined()) {
            Map<String, TensorData> ref = SafeTensorsFile.open(DIR.resolve("e2e-llama3-gqa-f32.safetensors"), arena);
            ModelConfig c = ckpt.config();
            int B = s.get("batch").asInt(), T = s.get("seq_len").asInt();
            int[] trained = {0, 2};
            List<LayerParams> layers = new ArrayList<>();
            for (int l = 0; l < c.numLayers(); l++) layers.add(LayerParams.of(c, LayerWeights.load(ckpt, l), Arr::f32));
            LayerParams p = LayerParams.joint(List.of(layers.get(0), layers.get(2))), g = p.zeros();
            double value = EndToEnd.loss(c, Ropes.of(c), layers, trained, Loss.Head.of(ckpt), Arr.of(ref.get("x").toFloat()),
                    Arr.of(ref.get("y").toFloat()), B, T, List.of(g.part(0), g.part(1)));
            var adam = new AdamW.Settings(s.get("lr").asDouble(), s.get("beta1").asDouble(), s.get("beta2").asDouble(),
                    s.get("eps").asDouble(), s.get("weight_decay").asDouble(), s.get("clip").asDouble(), s.get("warmup").asInt(),
                    s.get("steps").asInt(), s.get("min_lr_ratio").asDouble());
            double norm = new AdamW(adam, p).update(p, g);

            assertEquals(expected.get("loss").asDouble(), value, 1e-6 * value, "loss");
            assertEquals(expected.get("grad_norm").asDouble(), norm, 1e-4 * norm, "gradient norm before clipping");
            assertTrue(norm > adam.clip(), "the step exercises clipping");
            double worst = 0;
            int checked = 0;
            for (int k = 0; k < trained.length; k++)
                for (var e : p.part(k).tensors().entrySet()) {
                    float[] want = ref.get("after." + trained[k] + "." + e.getKey()).toFloat();
                    assertEquals(want.length, e.getValue().length(), e.getKey());
                    for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(e.getValue().get(i) - want[i]));
                    checked += want.length;
                }
            assertEquals(2 * c.schema().parameterCount(), checked, "every trained parameter compared");
            assertTrue(worst < 1e-5, "largest parameter difference after the step " + worst);
        }
    }
}
