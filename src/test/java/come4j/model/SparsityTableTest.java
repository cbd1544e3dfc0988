package come4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** method.md §11's table: parameters per layer and in total, and the layers 10/20/30 % sparsity remove. */
class SparsityTableTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            LLaMA-2-7b  | LlamaForCausalLM | 4096 | 11008 | 32 | 32 | 32 | 128 | 32000  | false | 202.4 | 6.738  | 3 | 7 | 10
            LLaMA-2-13b | LlamaForCausalLM | 5120 | 13824 | 40 | 40 | 40 | 128 | 32000  | false | 317.2 | 13.016 | 4 | 8 | 12
            LLaMA-3-8B  | LlamaForCausalLM | 4096 | 14336 | 32 | 32 | 8  | 128 | 128256 | false | 218.1 | 8.030  | 4 | 7 | 11
            Mistral-7B  | MistralForCausalLM | 4096 | 14336 | 32 | 32 | 8 | 128 | 32000 | false | 218.1 | 7.242  | 3 | 7 | 10
            Qwen2.5-7B  | Qwen2ForCausalLM | 3584 | 18944 | 28 | 28 | 4  | 128 | 152064 | false | 233.1 | 7.616  | 3 | 7 | 10
            Qwen3-4B    | Qwen3ForCausalLM | 2560 | 9728  | 36 | 32 | 8  | 128 | 151936 | true  | 100.9 | 4.022  | 4 | 8 | 12
            Qwen3-8B    | Qwen3ForCausalLM | 4096 | 12288 | 36 | 32 | 8  | 128 | 151936 | false | 192.9 | 8.191  | 4 | 8 | 13
            """)
    void matchesTheTable(String model, String arch, int hidden, int inter, int layers, int heads, int kv, int headDim, int vocab,
                         boolean tied, double perLayerM, double totalB, int k10, int k20, int k30) {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.putArray("architectures").add(arch);
        c.put("hidden_size", hidden).put("intermediate_size", inter).put("num_hidden_layers", layers)
                .put("num_attention_heads", heads).put("num_key_value_heads", kv).put("head_dim", headDim)
                .put("vocab_size", vocab).put("tie_word_embeddings", tied);
        ParameterCount p = ParameterCount.of(ModelConfig.parse(c, null));
        assertEquals(perLayerM, p.perLayer() / 1e6, 0.05, model + " parameters per layer (M)");
        assertEquals(totalB, p.total() / 1e9, 0.0005, model + " total parameters (B)");
        assertEquals(k10, p.layersToRemove(0.1), model + " at 10%");
        assertEquals(k20, p.layersToRemove(0.2), model + " at 20%");
        assertEquals(k30, p.layersToRemove(0.3), model + " at 30%");
    }
}
