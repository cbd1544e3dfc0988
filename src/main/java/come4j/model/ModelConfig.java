package come4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.BadInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything the forward pass needs to know about an architecture, read from config.json. The supported families
 * differ only in these fields: biases (Qwen2, attention_bias), q/k norms (Qwen3), RoPE scaling (Llama-3.1), sliding
 * windows (Mistral, Qwen layer_types), tied embeddings.
 */
public record ModelConfig(
        String architecture,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        double rmsNormEps,
        int maxPositions,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean qkvBias,
        boolean oBias,
        boolean mlpBias,
        boolean qkNorm,
        boolean tieEmbeddings,
        int[] slidingWindow,
        int bosTokenId,
        int eosTokenId,
        ObjectNode raw) {

    public static final List<String> SUPPORTED =
            List.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM");

    public int nRep() {
        return numHeads / numKvHeads;
    }

    public int qDim() {
        return numHeads * headDim;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    /**
     * The config of a model whose layer j takes the per-layer settings of original layer source[j]: num_hidden_layers,
     * layer_types and the sliding windows follow the renumbering (method.md §9).
     */
    public ModelConfig withLayers(int[] source) {
        ObjectNode r = raw.deepCopy();
        r.put("num_hidden_layers", source.length);
        int[] window = new int[source.length];
        for (int j = 0; j < source.length; j++) window[j] = slidingWindow[source[j]];
        JsonNode types = raw.get("layer_types");
        boolean mixed = java.util.Arrays.stream(window).distinct().count() > 1;
        if (types != null && types.isArray() || mixed) {
            var list = r.putArray("layer_types");
            for (int j = 0; j < source.length; j++)
                list.add(types != null && types.isArray() ? types.get(source[j]).asText()
                        : window[j] > 0 ? "sliding_attention" : "full_attention");
        }
        if (r.path("max_window_layers").isInt())
            r.put("max_window_layers", Math.min(r.get("max_window_layers").asInt(), source.length));
        return new ModelConfig(architecture, hiddenSize, intermediateSize, source.length, numHeads, numKvHeads, headDim,
                vocabSize, rmsNormEps, maxPositions, ropeTheta, ropeScaling, qkvBias, oBias, mlpBias, qkNorm,
                tieEmbeddings, window, bosTokenId, eosTokenId, r);
    }

    public static ModelConfig load(Path file) {
        if (!Files.isRegularFile(file)) throw new BadInputException(file, "missing (every checkpoint needs a config.json)");
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new BadInputException(file, "malformed JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (!(root instanceof ObjectNode obj)) throw new BadInputException(file, "is not a JSON object");
        return parse(obj, file);
    }

    static ModelConfig parse(ObjectNode c, Path file) {
        Fields f = new Fields(c, file);
        JsonNode archs = c.get("architectures");
        String arch = archs != null && archs.isArray() && !archs.isEmpty() ? archs.get(0).asText() : null;
        if (arch == null) throw new BadInputException(file, "missing field 'architectures' (supported: " + String.join(", ", SUPPORTED) + ")");
        if (!SUPPORTED.contains(arch))
            throw new BadInputException(file, "architecture " + arch + " is not supported (supported: " + String.join(", ", SUPPORTED) + ")");
        String act = c.path("hidden_act").asText("silu");
        if (!act.equals("silu")) throw new BadInputException(file, "hidden_act '" + act + "' is not supported (only silu)");

        int hidden = f.positive("hidden_size");
        int heads = f.positive("num_attention_heads");
        int kvHeads = c.hasNonNull("num_key_value_heads") ? f.positive("num_key_value_heads") : heads;
        int headDim = c.hasNonNull("head_dim") ? f.positive("head_dim") : hidden / heads;
        int layers = f.positive("num_hidden_layers");
        if (heads % kvHeads != 0)
            throw new BadInputException(file, "num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        if (headDim % 2 != 0) throw new BadInputException(file, "head_dim " + headDim + " must be even for RoPE");

        boolean qwen2 = arch.equals("Qwen2ForCausalLM"), qwen3 = arch.equals("Qwen3ForCausalLM");
        boolean attnBias = c.path("attention_bias").asBoolean(false);

        // transformers 5 writes rope_parameters; older files have rope_theta and rope_scaling.
        JsonNode rope = c.hasNonNull("rope_parameters") ? c.get("rope_parameters") : c.path("rope_scaling");
        double theta = rope.hasNonNull("rope_theta") ? rope.get("rope_theta").asDouble() : c.path("rope_theta").asDouble(10000.0);
        String ropeType = rope.path("rope_type").asText(rope.path("type").asText("default"));
        RopeScaling scaling = switch (ropeType) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> new RopeScaling("linear", f.num(rope, "factor"), 1, 1, 0);
            case "llama3" -> new RopeScaling("llama3", f.num(rope, "factor"), f.num(rope, "low_freq_factor"),
                    f.num(rope, "high_freq_factor"), (int) f.num(rope, "original_max_position_embeddings"));
            default -> throw new BadInputException(file, "rope type '" + ropeType + "' is not supported (default, linear, llama3)");
        };

        int[] window = slidingWindows(c, arch, layers, file);
        return new ModelConfig(arch, hidden, f.positive("intermediate_size"), layers, heads, kvHeads, headDim,
                f.positive("vocab_size"), c.path("rms_norm_eps").asDouble(1e-6),
                c.path("max_position_embeddings").asInt(2048), theta, scaling,
                qwen2 || attnBias, !qwen2 && attnBias, c.path("mlp_bias").asBoolean(false), qwen3,
                c.path("tie_word_embeddings").asBoolean(false), window,
                c.path("bos_token_id").asInt(-1), firstInt(c.path("eos_token_id")), c);
    }

    /** Per layer: 0 for full attention, else the sliding-window length (as transformers decides it). */
    private static int[] slidingWindows(ObjectNode c, String arch, int layers, Path file) {
        int[] w = new int[layers];
        JsonNode sw = c.get("sliding_window");
        int size = sw != null && sw.isNumber() ? sw.asInt() : 0;
        JsonNode types = c.get("layer_types");
        boolean qwen = arch.startsWith("Qwen");
        if (qwen && !c.path("use_sliding_window").asBoolean(false)) size = 0;
        if (types != null && types.isArray()) {
            if (types.size() != layers)
                throw new BadInputException(file, "layer_types has " + types.size() + " entries but num_hidden_layers is " + layers);
            for (int i = 0; i < layers; i++) w[i] = types.get(i).asText().equals("sliding_attention") ? size : 0;
        } else if (qwen) {
            int from = c.path("max_window_layers").asInt(layers);
            for (int i = from; i < layers; i++) w[i] = size;
        } else if (arch.equals("MistralForCausalLM")) {
            java.util.Arrays.fill(w, size); // Llama has no sliding window, whatever stray key its config carries
        }
        return w;
    }

    private static int firstInt(JsonNode n) {
        if (n.isArray()) return n.isEmpty() ? -1 : n.get(0).asInt();
        return n.asInt(-1);
    }

    /** Field access that names the file and field when something is missing or malformed. */
    private record Fields(ObjectNode c, Path file) {
        int positive(String name) {
            JsonNode n = c.get(name);
            if (n == null || n.isNull()) throw new BadInputException(file, "missing field '" + name + "'");
            if (!n.canConvertToInt() || n.asInt() <= 0 || !n.isIntegralNumber())
                throw new BadInputException(file, "field '" + name + "' must be a positive integer, not " + n);
            return n.asInt();
        }

        double num(JsonNode parent, String name) {
            JsonNode n = parent.get(name);
            if (n == null || !n.isNumber()) throw new BadInputException(file, "rope scaling lacks numeric field '" + name + "'");
            return n.asDouble();
        }
    }
}
