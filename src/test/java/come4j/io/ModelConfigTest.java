package come4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.model.ModelConfig;
import come4j.model.RopeScaling;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {
    @TempDir Path tmp;

    // Llama-3.1-8B as transformers 4 saved it: rope_theta beside rope_scaling.
    private static final String LLAMA31_OLD = """
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 128000,
             "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu", "hidden_size": 4096,
             "intermediate_size": 14336, "max_position_embeddings": 131072, "mlp_bias": false,
             "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
             "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"},
             "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "vocab_size": 128256}
            """;

    // The same model as transformers 5 saves it: everything about RoPE in rope_parameters.
    private static final String LLAMA31_NEW = """
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 128000, "dtype": "bfloat16",
             "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu", "hidden_size": 4096,
             "intermediate_size": 14336, "max_position_embeddings": 131072, "mlp_bias": false,
             "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
             "rope_parameters": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                                 "original_max_position_embeddings": 8192, "rope_theta": 500000.0, "rope_type": "llama3"},
             "tie_word_embeddings": false, "vocab_size": 128256}
            """;

    private ModelConfig load(String json) throws IOException {
        return ModelConfig.load(Files.writeString(Files.createTempFile(tmp, "config", ".json"), json));
    }

    @Test
    void llama31OldAndNewRopeKeysAgree() throws IOException {
        RopeScaling llama3 = new RopeScaling("llama3", 8, 1, 4, 8192);
        for (String json : new String[] {LLAMA31_OLD, LLAMA31_NEW}) {
            ModelConfig c = load(json);
            assertEquals("LlamaForCausalLM", c.architecture());
            assertEquals(500000.0, c.ropeTheta());
            assertEquals(llama3, c.ropeScaling());
            assertEquals(4096, c.hiddenSize());
            assertEquals(14336, c.intermediateSize());
            assertEquals(32, c.numLayers());
            assertEquals(8, c.numKvHeads());
            assertEquals(128, c.headDim());
            assertEquals(4, c.nRep());
            assertEquals(1e-5, c.rmsNormEps());
            assertEquals(131072, c.maxPositions());
            assertEquals(128000, c.bosTokenId());
            assertEquals(128001, c.eosTokenId());
            assertFalse(c.qkvBias() || c.oBias() || c.mlpBias() || c.qkNorm() || c.tieEmbeddings());
            assertArrayEquals(new int[32], c.slidingWindow());
        }
    }

    @Test
    void llamaIgnoresAStraySlidingWindow() throws IOException {
        ModelConfig c = load(LLAMA31_OLD.replace("\"mlp_bias\": false,", "\"mlp_bias\": false, \"sliding_window\": 4096,"));
        assertArrayEquals(new int[32], c.slidingWindow());
    }

    @Test
    void qwen2HasQkvBiasAndNoWindowUnlessEnabled() throws IOException {
        String qwen25 = """
                {"architectures": ["Qwen2ForCausalLM"], "hidden_act": "silu", "hidden_size": 896,
                 "intermediate_size": 4864, "max_window_layers": 2, "num_attention_heads": 14, "num_hidden_layers": 4,
                 "num_key_value_heads": 2, "rope_theta": 1000000.0, "sliding_window": 32768,
                 "tie_word_embeddings": true, "use_sliding_window": false, "vocab_size": 151936}
                """;
        ModelConfig c = load(qwen25);
        assertTrue(c.qkvBias());
        assertFalse(c.oBias());
        assertFalse(c.qkNorm());
        assertTrue(c.tieEmbeddings());
        assertEquals(64, c.headDim());
        assertEquals(1_000_000.0, c.ropeTheta());
        assertEquals(RopeScaling.NONE, c.ropeScaling());
        assertArrayEquals(new int[4], c.slidingWindow());
        // enabled, the window applies from max_window_layers on
        assertArrayEquals(new int[] {0, 0, 32768, 32768},
                load(qwen25.replace("\"use_sliding_window\": false", "\"use_sliding_window\": true")).slidingWindow());
        // beyond the layer count: no sliding layer; beyond an int (it wrapped to -9 and crashed, found by fuzzing): refused
        String enabled = qwen25.replace("\"use_sliding_window\": false", "\"use_sliding_window\": true");
        assertArrayEquals(new int[4], load(enabled.replace("\"max_window_layers\": 2", "\"max_window_layers\": 70")).slidingWindow());
        BadInputException e = assertThrows(BadInputException.class,
                () -> load(enabled.replace("\"max_window_layers\": 2", "\"max_window_layers\": 21474836471")));
        assertTrue(e.getMessage().contains("field 'max_window_layers' must be a non-negative integer, not 21474836471"), e.getMessage());
    }

    @Test
    void qwen3HasQkNormAndExplicitHeadDim() throws IOException {
        ModelConfig c = load("""
                {"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "head_dim": 128, "hidden_size": 1024,
                 "intermediate_size": 3072, "num_attention_heads": 16, "num_hidden_layers": 2, "num_key_value_heads": 8,
                 "rope_theta": 1000000, "sliding_window": null, "use_sliding_window": false, "vocab_size": 151936}
                """);
        assertTrue(c.qkNorm());
        assertFalse(c.qkvBias());
        assertEquals(128, c.headDim()); // not hidden_size / heads = 64
        assertEquals(2048, c.qDim());
        assertEquals(1024, c.kvDim());
    }

    @Test
    void mistralSlidingWindowCoversEveryLayer() throws IOException {
        ModelConfig c = load("""
                {"architectures": ["MistralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
                 "num_attention_heads": 32, "num_hidden_layers": 3, "num_key_value_heads": 8, "rope_theta": 10000.0,
                 "sliding_window": 4096, "vocab_size": 32000}
                """);
        assertArrayEquals(new int[] {4096, 4096, 4096}, c.slidingWindow());
        assertFalse(c.qkvBias());
    }

    @Test
    void layerTypesChooseTheSlidingLayers() throws IOException {
        ModelConfig c = load("""
                {"architectures": ["Qwen3ForCausalLM"], "head_dim": 64, "hidden_size": 256, "intermediate_size": 512,
                 "num_attention_heads": 4, "num_hidden_layers": 4, "num_key_value_heads": 2, "vocab_size": 1000,
                 "use_sliding_window": true, "sliding_window": 8, "max_window_layers": 0,
                 "layer_types": ["full_attention", "sliding_attention", "full_attention", "sliding_attention"]}
                """);
        assertArrayEquals(new int[] {0, 8, 0, 8}, c.slidingWindow());
    }

    @Test
    void llama3InverseFrequencies() {
        double[] inv = new RopeScaling("llama3", 8, 1, 4, 8192).inverseFrequencies(128, 500000);
        assertEquals(64, inv.length);
        // Wavelengths below 8192 / 4 = 2048 keep their frequency, above 8192 / 1 they are divided by 8,
        // in between they blend the two by smooth = (8192 / wavelength - 1) / (4 - 1).
        assertEquals(1.0, inv[0]); // 500000^0
        double f28 = Math.pow(500000, -28 / 64.0), w28 = 2 * Math.PI / f28;
        assertTrue(w28 < 2048, "index 28 is high-frequency");
        assertEquals(f28, inv[28], f28 * 1e-6);
        double f30 = Math.pow(500000, -30 / 64.0), w30 = 2 * Math.PI / f30;
        assertTrue(w30 > 2048 && w30 < 8192, "index 30 is in the blended band");
        double smooth = (8192 / w30 - 1) / 3;
        assertEquals((1 - smooth) * f30 / 8 + smooth * f30, inv[30], f30 * 1e-6);
        for (int i : new int[] {35, 63}) {
            double f = Math.pow(500000, -i / 64.0);
            assertTrue(2 * Math.PI / f > 8192, "index " + i + " is low-frequency");
            assertEquals(f / 8, inv[i], f / 8 * 1e-6);
        }
    }
}
