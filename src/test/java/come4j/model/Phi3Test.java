package come4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import come4j.Fixtures;
import come4j.io.BadInputException;
import come4j.io.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Phi-3's differences from the LLaMA layer: fused tensors, LongRoPE with its per-call factor choice, partial rotary. */
class Phi3Test {
    @TempDir Path tmp;

    /** 12 tokens (all positions < original_max_position_embeddings 16) take the short factors, as transformers does. */
    @Test
    void longRopeCallWithinTheOriginalLengthUsesTheShortFactors() {
        JsonNode g = Fixtures.golden("phi3-longrope-f32");
        int[] ids = Fixtures.ints(g.get("input_ids"));
        int n = g.get("prefix_len").asInt();
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("phi3-longrope-f32"))) {
            Transformer m = Transformer.load(ckpt);
            float[] prefix = m.forward(Arrays.copyOf(ids, n), 1);
            double diff = Fixtures.maxAbsDiff(prefix, g.get("logits_fp32_prefix"));
            assertTrue(diff < 1e-4, "max |logit - transformers' 12-token call| = " + diff);
            // the same 12 positions inside the 20-token call are rotated with the long factors
            float[] full = m.forward(ids, 1);
            double moved = 0;
            for (int i = 0; i < prefix.length; i++) moved = Math.max(moved, Math.abs(full[i] - prefix[i]));
            assertTrue(moved > 1e-2, "long and short factors give different logits: " + moved);
        }
    }

    /**
     * Decoding with a KV cache as transformers' generate does it (tools/phi3_cache_reference.py): the factors are
     * chosen per call, cached keys keep their rotation. A 12-token prompt, then 8 tokens in one call and one at a time.
     */
    @Test
    void cachedDecodingChoosesTheFactorsPerCallAsTransformers() throws Exception {
        JsonNode g = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Path.of("src/test/resources/phi3-longrope-cache.json").toFile());
        int[] ids = Fixtures.ints(g.get("input_ids"));
        int prompt = g.get("prompt_len").asInt(), V = 384;
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("phi3-longrope-f32"))) {
            Transformer m = Transformer.load(ckpt);
            KVCache cache = new KVCache(m.config(), ids.length);
            m.extend(Arrays.copyOf(ids, prompt), cache);
            float[] h = m.extend(Arrays.copyOfRange(ids, prompt, ids.length), cache);
            float[] chunk = m.logits(m.finalNorm(h, 0, ids.length - prompt), ids.length - prompt);
            double diff = Fixtures.maxAbsDiff(chunk, g.get("chunk"));
            assertTrue(diff < 1e-4, "8 tokens after a cached prompt: " + diff);

            cache.rewind(prompt);
            float[] steps = new float[(ids.length - prompt) * V];
            for (int t = prompt; t < ids.length; t++) {
                float[] x = m.extend(new int[] {ids[t]}, cache);
                System.arraycopy(m.logits(m.finalNorm(x, 0, 1), 1), 0, steps, (t - prompt) * V, V);
            }
            diff = Fixtures.maxAbsDiff(steps, g.get("steps"));
            assertTrue(diff < 1e-4, "one token per call: " + diff);
        }
    }

    /** Loading splits qkv_proj into q, k, v (rows 0-63, 64-127, 128-191) and gate_up_proj into gate, up, as transformers does. */
    @Test
    void fusedTensorsSplitIntoTheirRowBlocks() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("phi3-f32"))) {
            Map<String, TensorData> layer = LayerWeights.tensors(ckpt, 2);
            float[] qkv = ckpt.tensors().get("model.layers.2.self_attn.qkv_proj.weight").toFloat();
            float[] gateUp = ckpt.tensors().get("model.layers.2.mlp.gate_up_proj.weight").toFloat();
            int d = 64;
            assertArrayEquals(Arrays.copyOfRange(qkv, 0, 64 * d), layer.get("self_attn.q_proj.weight").toFloat());
            assertArrayEquals(Arrays.copyOfRange(qkv, 64 * d, 128 * d), layer.get("self_attn.k_proj.weight").toFloat());
            assertArrayEquals(Arrays.copyOfRange(qkv, 128 * d, 192 * d), layer.get("self_attn.v_proj.weight").toFloat());
            assertArrayEquals(Arrays.copyOfRange(gateUp, 0, 128 * d), layer.get("mlp.gate_proj.weight").toFloat());
            assertArrayEquals(Arrays.copyOfRange(gateUp, 128 * d, 256 * d), layer.get("mlp.up_proj.weight").toFloat());
            assertArrayEquals(new long[] {64, 64}, layer.get("self_attn.k_proj.weight").shape());

            // stacking again: an unchanged tensor is the input's; a changed part lands on its own rows
            LayerSchema s = ckpt.config().schema();
            TensorData fused = ckpt.tensors().get("model.layers.2.self_attn.qkv_proj.weight");
            assertTrue(s.fuse("self_attn.qkv_proj.weight", fused, Map.of()) == fused);
            TensorData otherV = LayerWeights.tensors(ckpt, 0).get("self_attn.v_proj.weight");
            float[] restacked = s.fuse("self_attn.qkv_proj.weight", fused, Map.of("self_attn.v_proj.weight", otherV)).toFloat();
            assertArrayEquals(Arrays.copyOfRange(qkv, 0, 128 * d), Arrays.copyOfRange(restacked, 0, 128 * d));
            float[] qkv0 = ckpt.tensors().get("model.layers.0.self_attn.qkv_proj.weight").toFloat();
            assertArrayEquals(Arrays.copyOfRange(qkv0, 128 * d, 192 * d), Arrays.copyOfRange(restacked, 128 * d, 192 * d));
        }
    }

    /** A Phi-3 file holding a part under its own name (not stacked in qkv_proj) is refused at open, naming it. */
    @Test
    void aSeparatePartInAPhi3FileIsRefused() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("m"));
        try (Checkpoint in = Checkpoint.open(Fixtures.DIR.resolve("phi3-f32"))) {
            Files.copy(Fixtures.DIR.resolve("phi3-f32").resolve("config.json"), dir.resolve("config.json"));
            var plan = new java.util.LinkedHashMap<>(in.tensors());
            plan.put("model.layers.1.self_attn.q_proj.weight", LayerWeights.tensors(in, 1).get("self_attn.q_proj.weight"));
            var specs = plan.entrySet().stream().map(e -> new come4j.io.TensorSpec(e.getKey(), e.getValue().dtype(), e.getValue().shape())).toList();
            try (var w = new come4j.io.SafeTensorsWriter(dir, specs)) {
                for (var e : plan.entrySet()) w.write(e.getKey(), e.getValue().data());
                w.finish();
            }
        }
        var e = assertThrows(BadInputException.class, () -> Checkpoint.open(dir).close());
        assertTrue(e.getMessage().contains("tensor 'model.layers.1.self_attn.q_proj.weight' is not part of a Phi3ForCausalLM layer"), e.getMessage());
    }

    // Phi-3-mini-128k-instruct's config.json as the Hub has it (transformers 4 layout), factor lists cut to 4 pairs
    // with head_dim 8 for brevity; the old "su" type name.
    private static final String PHI3_128K = """
            {"architectures": ["Phi3ForCausalLM"], "hidden_act": "silu", "hidden_size": 32, "intermediate_size": 64,
             "max_position_embeddings": 131072, "original_max_position_embeddings": 4096, "num_attention_heads": 4,
             "num_hidden_layers": 2, "num_key_value_heads": 4, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
             "rope_scaling": {"long_factor": [1.0, 1.5, 2.0, 4.0], "short_factor": [1.0, 1.0, 1.1, 1.2], "type": "%s"},
             "sliding_window": 262144, "tie_word_embeddings": false, "vocab_size": 100 %s}
            """;

    private ModelConfig config(String type, String extra) throws Exception {
        Path f = Files.writeString(tmp.resolve("config.json"), PHI3_128K.formatted(type, extra));
        return ModelConfig.load(f);
    }

    @Test
    void hubConfigsReadAsTransformersReadsThem() throws Exception {
        for (String type : new String[] {"su", "yarn", "longrope"}) {
            ModelConfig c = config(type, "");
            RopeScaling r = c.ropeScaling();
            assertEquals("longrope", r.type(), type);
            assertEquals(4096, r.originalMaxPositions());
            // s = 131072 / 4096 = 32: sqrt(1 + ln 32 / ln 4096) = 1.1902380714238083
            assertEquals(1.1902380714238083, r.attentionFactor(), 1e-12);
            assertEquals(8, r.rotaryDims(c.headDim()));
            assertArrayEquals(new int[] {262144, 262144}, c.slidingWindow());
            assertFalse(r.usesLongFactors(4096));
            assertTrue(r.usesLongFactors(4097));
            // inv_freq_i = 1 / (factor_i * 10000^(2i/8)), pair 3: 1 / (4 * 10000^0.75) = 2.5e-4
            assertEquals(2.5e-4, r.inverseFrequencies(8, 10000, true)[3], 1e-10);
            assertEquals(1 / 1.2e3, r.inverseFrequencies(8, 10000, false)[3], 1e-9);
        }
        // Phi-4-mini: partial_rotary_factor at the top level (half of the 8 dims rotate: 2 pairs) and an explicit attention factor
        Path f = Files.writeString(tmp.resolve("config.json"), PHI3_128K.formatted("longrope", ", \"partial_rotary_factor\": 0.5")
                .replace("[1.0, 1.5, 2.0, 4.0]", "[1.0, 2.0]").replace("[1.0, 1.0, 1.1, 1.2]", "[1.0, 1.1]")
                .replace("\"type\"", "\"attention_factor\": 1.5, \"type\""));
        ModelConfig c = ModelConfig.load(f);
        assertEquals(4, c.ropeScaling().rotaryDims(c.headDim()));
        assertEquals(1.5, c.ropeScaling().attentionFactor());
    }

    @Test
    void malformedLongRopeIsRefusedWithTheField() throws Exception {
        Path f = Files.writeString(tmp.resolve("config.json"), PHI3_128K.formatted("su", "").replace("[1.0, 1.5, 2.0, 4.0]", "[1.0, 1.5]"));
        var e = assertThrows(BadInputException.class, () -> ModelConfig.load(f));
        assertTrue(e.getMessage().contains("rope field 'long_factor' must be a list of 4 numbers (one per rotating pair), not [1.0,1.5]"),
                e.getMessage());
        Path g = Files.writeString(tmp.resolve("config.json"), PHI3_128K.formatted("su", "").replace("Phi3ForCausalLM", "LlamaForCausalLM")
                .replace("\"su\"", "\"longrope\""));
        var e2 = assertThrows(BadInputException.class, () -> ModelConfig.load(g));
        assertTrue(e2.getMessage().contains("rope type 'longrope' is supported for Phi3ForCausalLM only"), e2.getMessage());
    }
}
