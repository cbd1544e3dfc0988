package come4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.Fixtures;
import come4j.io.BadInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Gemma 3's config.json in both layouts it exists in, and the variants come4j refuses (ParityTest checks the forward). */
class Gemma3Test {
    private static final Path FIXTURE = Fixtures.DIR.resolve("gemma3-f32");

    // gemma-3-1b's config.json as the Hub serves it (transformers 4.50): no layer_types, no rope_parameters.
    private static final String GEMMA3_1B = """
            {"architectures": ["Gemma3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "attn_logit_softcapping": null, "bos_token_id": 2, "cache_implementation": "hybrid", "eos_token_id": 1,
             "final_logit_softcapping": null, "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh",
             "hidden_size": 1152, "intermediate_size": 6912, "max_position_embeddings": 32768, "model_type": "gemma3_text",
             "num_attention_heads": 4, "num_hidden_layers": 26, "num_key_value_heads": 1, "pad_token_id": 0,
             "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_local_base_freq": 10000, "rope_scaling": null,
             "rope_theta": 1000000, "sliding_window": 512, "sliding_window_pattern": 6, "torch_dtype": "bfloat16",
             "use_cache": true, "vocab_size": 262144}
            """;

    private static ObjectNode fixtureConfig() throws Exception {
        return (ObjectNode) new ObjectMapper().readTree(FIXTURE.resolve("config.json").toFile());
    }

    @Test
    void hubLayoutOfTheOneBillionModel() throws Exception {
        ModelConfig c = ModelConfig.parse((ObjectNode) new ObjectMapper().readTree(GEMMA3_1B), Path.of("config.json"));
        int[] window = new int[26];
        for (int i = 0; i < 26; i++) window[i] = i % 6 == 5 ? 0 : 512; // layers 5, 11, 17, 23 global
        assertArrayEquals(window, c.slidingWindow());
        assertEquals(1e6, c.ropeTheta());
        assertEquals(RopeScaling.NONE, c.ropeScaling());
        assertEquals(new ModelConfig.Gemma(256, 10000, RopeScaling.NONE), c.layout().gemma());
        assertEquals(1 / 16.0, c.attentionScale());
        assertTrue(c.tieEmbeddings()); // Gemma3TextConfig's default
        assertEquals(256, c.headDim());
        // a merge renumbers the layers: layer_types is written, so transformers does not re-derive it from the pattern
        JsonNode types = c.withLayers(new int[] {0, 5, 6}).raw().get("layer_types");
        assertEquals("[\"sliding_attention\",\"full_attention\",\"sliding_attention\"]", types.toString());
    }

    /** The fixture's weights with its config rewritten in the Hub layout: the same model, the same logits. */
    @Test
    void hubKeysGiveTheTransformers5Model(@TempDir Path tmp) throws Exception {
        ObjectNode c = fixtureConfig();
        c.remove(java.util.List.of("rope_parameters", "layer_types", "_sliding_window_pattern"));
        c.put("rope_theta", 1e6).put("rope_local_base_freq", 10000.0).put("sliding_window_pattern", 2);
        c.putObject("rope_scaling").put("factor", 8.0).put("rope_type", "linear");
        for (String f : new String[] {"model.safetensors", "tokenizer.json"}) Files.copy(FIXTURE.resolve(f), tmp.resolve(f));
        Files.writeString(tmp.resolve("config.json"), c.toPrettyString());
        JsonNode g = Fixtures.golden("gemma3-f32");
        try (Checkpoint ckpt = Checkpoint.open(tmp)) {
            ModelConfig mc = ckpt.config();
            assertArrayEquals(new int[] {8, 0, 8}, mc.slidingWindow());
            assertEquals(new RopeScaling("linear", 8, 1, 1, 0), mc.ropeScaling());
            assertEquals(new ModelConfig.Gemma(24, 10000, RopeScaling.NONE), mc.layout().gemma());
            float[] logits = Transformer.load(ckpt).forward(Fixtures.ints(g.get("input_ids")), 1);
            double diff = Fixtures.maxAbsDiff(logits, g.get("logits_fp32"));
            assertTrue(diff < 1e-4, "max |logit - golden| = " + diff);
        }
    }

    /** The local RoPE matters: with the global base on every layer the logits move far beyond the tolerance. */
    @Test
    void slidingLayersRotateWithTheirOwnBase(@TempDir Path tmp) throws Exception {
        ObjectNode c = fixtureConfig();
        ((ObjectNode) c.get("rope_parameters")).set("sliding_attention", c.get("rope_parameters").get("full_attention").deepCopy());
        Files.copy(FIXTURE.resolve("model.safetensors"), tmp.resolve("model.safetensors"));
        Files.writeString(tmp.resolve("config.json"), c.toPrettyString());
        JsonNode g = Fixtures.golden("gemma3-f32");
        try (Checkpoint ckpt = Checkpoint.open(tmp)) {
            float[] logits = Transformer.load(ckpt).forward(Fixtures.ints(g.get("input_ids")), 1);
            assertTrue(Fixtures.maxAbsDiff(logits, g.get("logits_fp32")) > 1e-3);
        }
    }

    @Test
    void variantsComeFourJDoesNotComputeAreRefused() throws Exception {
        String[][] cases = {
            {"final_logit_softcapping", "30.0", "Gemma 3 with final_logit_softcapping is not supported"},
            {"attn_logit_softcapping", "50.0", "Gemma 3 with attn_logit_softcapping is not supported"},
            {"attention_bias", "true", "Gemma 3 with attention_bias true is not supported"},
            {"hidden_activation", "\"gelu\"", "hidden_activation 'gelu' is not supported (only gelu_pytorch_tanh)"},
        };
        for (String[] k : cases) {
            ObjectNode c = fixtureConfig();
            c.set(k[0], new ObjectMapper().readTree(k[1]));
            BadInputException e = assertThrows(BadInputException.class, () -> ModelConfig.parse(c, Path.of("config.json")));
            assertTrue(e.getMessage().contains(k[2]), e.getMessage());
        }
    }
}
