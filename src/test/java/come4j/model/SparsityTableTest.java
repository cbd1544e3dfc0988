package come4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The sparsity table of method.md §11 (k = round(s * P_total / P_layer)), recomputed from the models' public Hugging
 * Face config.json files (src/test/resources/configs/NAME/config.json): parameters per decoder layer (0.1 M
 * precision), total parameters including embeddings and LM head, tied ones once (0.001 B precision), and the number
 * of layers removed at 10, 20 and 30 % sparsity.
 */
class SparsityTableTest {
    static final Path CONFIGS = Path.of("src/test/resources/configs");

    static ParameterCount count(String name) {
        return ParameterCount.of(ModelConfig.load(CONFIGS.resolve(name).resolve("config.json")));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # config folder | layers | params/layer (M) | total (B) | 10 % | 20 % | 30 %
            llama-2-7b      | 32     | 202.4            | 6.738     | 3    | 7    | 10
            llama-2-13b     | 40     | 317.2            | 13.016    | 4    | 8    | 12
            llama-3-8b      | 32     | 218.1            | 8.030     | 4    | 7    | 11
            mistral-7b      | 32     | 218.1            | 7.242     | 3    | 7    | 10
            qwen2.5-7b      | 28     | 233.1            | 7.616     | 3    | 7    | 10
            qwen3-4b        | 36     | 100.9            | 4.022     | 4    | 8    | 12
            qwen3-8b        | 36     | 192.9            | 8.191     | 4    | 8    | 13
            """)
    void matchesMethodTable(String name, int layers, double perLayerM, double totalB, int k10, int k20, int k30) {
        ModelConfig c = ModelConfig.load(CONFIGS.resolve(name).resolve("config.json"));
        assertEquals(layers, c.numLayers(), name + " layers");
        ParameterCount p = ParameterCount.of(c);
        assertEquals(perLayerM, Math.round(p.perLayer() / 1e5) / 10.0, 1e-9, name + " params per layer, M (" + p.perLayer() + ")");
        assertEquals(totalB, Math.round(p.total() / 1e6) / 1000.0, 1e-9, name + " total params, B (" + p.total() + ")");
        assertEquals(k10, p.layersToRemove(0.1), name + " layers removed at 10 %");
        assertEquals(k20, p.layersToRemove(0.2), name + " layers removed at 20 %");
        assertEquals(k30, p.layersToRemove(0.3), name + " layers removed at 30 %");
    }

    /** The achieved sparsities the table quotes in parentheses (k * P_layer / P_total, 0.1 % precision). */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            llama-2-7b | 9.0  | 21.0 | 30.0
            llama-3-8b | 10.9 | 19.0 | 29.9
            """)
    void achievedSparsityAsQuoted(String name, double s10, double s20, double s30) {
        ParameterCount p = count(name);
        double[] quoted = {s10, s20, s30};
        for (int i = 0; i < 3; i++) {
            int k = p.layersToRemove(0.1 * (i + 1));
            assertEquals(quoted[i], Math.round(1000.0 * k * p.perLayer() / p.total()) / 10.0, 1e-9, name + " k=" + k);
        }
    }

    @Test
    void llama2At30PercentKeeps22Layers() {
        assertEquals(22, 32 - count("llama-2-7b").layersToRemove(0.3));
    }

    /** Qwen2 has q/k/v biases and Qwen3 q/k norms without any config field saying so; tied embeddings count once. */
    @Test
    void architectureImpliedParameters() {
        ParameterCount qwen25 = count("qwen2.5-7b");
        long d = 3584, f = 18944, q = 28 * 128, kv = 4 * 128;
        assertEquals(2 * d * q + 2 * d * kv + 3 * d * f + 2 * d + (q + 2 * kv), qwen25.perLayer());
        ParameterCount qwen34 = count("qwen3-4b");
        long d4 = 2560, f4 = 9728, q4 = 32 * 128, kv4 = 8 * 128;
        long layer4 = 2 * d4 * q4 + 2 * d4 * kv4 + 3 * d4 * f4 + 2 * d4 + 2 * 128;
        assertEquals(layer4, qwen34.perLayer());
        assertEquals(151936 * d4 + d4 + 36 * layer4, qwen34.total(), "tied: embeddings once, plus the final norm");
    }
}
