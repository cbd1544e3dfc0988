package come4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.BadInputException;
import come4j.io.UntrustedJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything the forward pass needs to know about an architecture, read from config.json. The supported families
 * differ only in these fields: biases (Qwen2, attention_bias), q/k norms (Qwen3), RoPE scaling (Llama-3.1; Phi-3's
 * LongRoPE and partial rotary), sliding windows (Mistral, Qwen layer_types, Phi-3), tied embeddings.
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
        Layout layout,
        int bosTokenId,
        int eosTokenId,
        ObjectNode raw) {

    /**
     * How a family wires its layers and the ends of the model beyond what its tensors say: LayerNorm (with bias) or
     * RMSNorm, norms before the sublayers (pre-norm) or after the residual adds (OPT's do_layer_norm_before false), RoPE
     * or learned positions, and the width of the token embeddings (OPT's word_embed_proj_dim, projected to and from the
     * hidden size). The FFN is SwiGLU when the schema has a gate projection, else ReLU (OPT).
     */
    public record Layout(boolean layerNorm, boolean preNorm, boolean learnedPositions, int embedDim, Gemma gemma) {
        public Layout(boolean layerNorm, boolean preNorm, boolean learnedPositions, int embedDim) {
            this(layerNorm, preNorm, learnedPositions, embedDim, null);
        }
    }

    /**
     * Gemma 3's differences (null for every other family): RMSNorms scale by (1 + w), the attention and FFN outputs are
     * normed before the residual adds (the schema's output norms), GeGLU with gelu_pytorch_tanh, embeddings times
     * sqrt(hidden_size), scores times query_pre_attn_scalar^-0.5 instead of head_dim^-0.5, and sliding-window layers
     * rotate with their own RoPE base and scaling ({@code localRopeTheta}, {@code localRopeScaling}).
     */
    public record Gemma(double queryPreAttnScalar, double localRopeTheta, RopeScaling localRopeScaling) {}

    /** The multiplier of attention scores: head_dim^-0.5, Gemma's query_pre_attn_scalar^-0.5. */
    public double attentionScale() {
        return 1.0 / Math.sqrt(layout.gemma() != null ? layout.gemma().queryPreAttnScalar() : headDim);
    }

    /** Far above any released model, low enough that no derived size overflows an int. */
    private static final int MAX_WIDTH = 1 << 20, MAX_HEADS = 1 << 12, MAX_LAYERS = 1 << 12, MAX_VOCAB = 1 << 24;
    private static final long MAX_FILE_BYTES = 16L << 20;

    public static final List<String> SUPPORTED = Family.supported();

    /** The tensors of this model's decoder layers (its family's table under this config). */
    public LayerSchema schema() {
        return new LayerSchema(this, Family.of(architecture));
    }

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
        if (types != null && types.isArray() || mixed || r.has("sliding_window_pattern")) { // a pattern would renumber them
            var list = r.putArray("layer_types");
            for (int j = 0; j < source.length; j++)
                list.add(types != null && types.isArray() ? types.get(source[j]).asText()
                        : window[j] > 0 ? "sliding_attention" : "full_attention");
        }
        if (r.path("max_window_layers").isInt())
            r.put("max_window_layers", Math.min(r.get("max_window_layers").asInt(), source.length));
        return new ModelConfig(architecture, hiddenSize, intermediateSize, source.length, numHeads, numKvHeads, headDim,
                vocabSize, rmsNormEps, maxPositions, ropeTheta, ropeScaling, qkvBias, oBias, mlpBias, qkNorm,
                tieEmbeddings, window, layout, bosTokenId, eosTokenId, r);
    }

    public static ModelConfig load(Path file) {
        if (!Files.isRegularFile(file)) throw new BadInputException(file, "missing (every checkpoint needs a config.json)");
        return parse((ObjectNode) UntrustedJson.readObject(file, MAX_FILE_BYTES), file);
    }

    static ModelConfig parse(ObjectNode c, Path file) {
        Fields f = new Fields(c, file);
        JsonNode archs = c.get("architectures");
        String arch = archs != null && archs.isArray() && !archs.isEmpty() ? archs.get(0).asText() : null;
        if (arch == null) throw new BadInputException(file, "missing field 'architectures' (supported: " + String.join(", ", SUPPORTED) + ")");
        if (!SUPPORTED.contains(arch))
            throw new BadInputException(file, "architecture " + arch + " is not supported (supported: " + String.join(", ", SUPPORTED) + ")");
        if (Family.of(arch) == Family.OPT) return parseOpt(c, arch, f);
        boolean gemma = Family.of(arch) == Family.GEMMA3;
        if (gemma) refuseGemmaVariants(c, f);
        // Gemma's config names its activation hidden_activation (hidden_act is a deprecated alias it still reads)
        String act = gemma ? c.path("hidden_activation").asText(c.path("hidden_act").asText("gelu_pytorch_tanh")) : c.path("hidden_act").asText("silu");
        String only = gemma ? "gelu_pytorch_tanh" : "silu";
        if (!act.equals(only)) throw new BadInputException(file, (gemma ? "hidden_activation '" : "hidden_act '") + act + "' is not supported (only " + only + ")");

        int hidden = f.positive("hidden_size", MAX_WIDTH);
        int heads = f.positive("num_attention_heads", MAX_HEADS);
        int kvHeads = c.hasNonNull("num_key_value_heads") ? f.positive("num_key_value_heads", MAX_HEADS) : heads;
        if (!c.hasNonNull("head_dim") && hidden % heads != 0)
            throw new BadInputException(file, "hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads + " (and no head_dim is given)");
        int headDim = c.hasNonNull("head_dim") ? f.positive("head_dim", MAX_HEADS) : hidden / heads;
        int layers = f.positive("num_hidden_layers", MAX_LAYERS);
        if (heads % kvHeads != 0)
            throw new BadInputException(file, "num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        if (headDim % 2 != 0) throw new BadInputException(file, "head_dim " + headDim + " must be even for RoPE");

        boolean qwen2 = arch.equals("Qwen2ForCausalLM"), qwen3 = arch.equals("Qwen3ForCausalLM");
        boolean attnBias = c.path("attention_bias").asBoolean(false);

        // transformers 5 writes rope_parameters; older files have rope_theta and rope_scaling.
        JsonNode rope = c.hasNonNull("rope_parameters") ? c.get("rope_parameters") : c.path("rope_scaling");
        boolean phi3 = arch.equals("Phi3ForCausalLM");
        Layout layout = new Layout(false, true, false, hidden);
        if (gemma) {
            // transformers 5: rope_parameters keyed by layer type; Hub files: rope_theta and rope_scaling for the full
            // layers, rope_local_base_freq for the sliding ones (Gemma3TextConfig's defaults: 1e6 and 1e4)
            boolean byType = c.path("rope_parameters").has("full_attention");
            JsonNode local = byType ? c.get("rope_parameters").path("sliding_attention") : MissingNode.getInstance();
            if (byType) rope = c.get("rope_parameters").path("full_attention");
            double localTheta = f.positiveNumber(byType ? local : c, byType ? "rope_theta" : "rope_local_base_freq", 10000.0);
            layout = new Layout(false, true, false, hidden, new Gemma(f.positiveNumber(c, "query_pre_attn_scalar", 256.0),
                    localTheta, ropeScaling(c, local, f, headDim, false)));
        }
        double theta = f.positiveNumber(rope.hasNonNull("rope_theta") ? rope : c, "rope_theta", gemma ? 1e6 : 10000.0);
        RopeScaling scaling = ropeScaling(c, rope, f, headDim, phi3);
        if (phi3) scaling = scaling.withRotaryFraction(rotaryFraction(c, rope, f, headDim));

        int[] window = slidingWindows(c, arch, layers, file);
        return new ModelConfig(arch, hidden, f.positive("intermediate_size", MAX_WIDTH), layers, heads, kvHeads, headDim,
                f.positive("vocab_size", MAX_VOCAB), f.positiveNumber(c, "rms_norm_eps", 1e-6),
                c.hasNonNull("max_position_embeddings") ? f.positive("max_position_embeddings", Integer.MAX_VALUE) : 2048, theta, scaling,
                !phi3 && (qwen2 || attnBias), !qwen2 && !phi3 && attnBias, !phi3 && c.path("mlp_bias").asBoolean(false), qwen3 || gemma,
                c.path("tie_word_embeddings").asBoolean(gemma), window, layout,
                c.path("bos_token_id").asInt(-1), firstInt(c.path("eos_token_id")), c);
    }

    private static RopeScaling ropeScaling(ObjectNode c, JsonNode rope, Fields f, int headDim, boolean phi3) {
        String ropeType = rope.path("rope_type").asText(rope.path("type").asText("default"));
        if (phi3 && (ropeType.equals("su") || ropeType.equals("yarn"))) ropeType = "longrope"; // as Phi3Config reads them
        return switch (ropeType) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> new RopeScaling("linear", f.positiveNumber(rope, "factor", null), 1, 1, 0);
            case "llama3" -> new RopeScaling("llama3", f.positiveNumber(rope, "factor", null), f.positiveNumber(rope, "low_freq_factor", null),
                    f.positiveNumber(rope, "high_freq_factor", null), f.positive(rope, "original_max_position_embeddings", Integer.MAX_VALUE));
            case "longrope" -> {
                if (!phi3) throw new BadInputException(f.file(), "rope type 'longrope' is supported for Phi3ForCausalLM only");
                yield longRope(c, rope, f, headDim);
            }
            default -> throw new BadInputException(f.file(), "rope type '" + ropeType + "' is not supported (default, linear, llama3, longrope)");
        };
    }

    /** Gemma 3 options its released text models leave off; come4j computes none of them, so they are refused. */
    private static void refuseGemmaVariants(ObjectNode c, Fields f) {
        for (String cap : List.of("attn_logit_softcapping", "final_logit_softcapping"))
            if (c.hasNonNull(cap)) throw new BadInputException(f.file(), "Gemma 3 with " + cap + " is not supported (Gemma 3 has none; it must be null)");
        for (String flag : List.of("attention_bias", "use_bidirectional_attention"))
            if (c.path(flag).asBoolean(false)) throw new BadInputException(f.file(), "Gemma 3 with " + flag + " true is not supported");
    }

    /**
     * OPT's config.json as transformers' OPTConfig reads it: ffn_dim, word_embed_proj_dim (default hidden_size),
     * do_layer_norm_before (default true), no RoPE and no GQA, LayerNorm eps 1e-5 (nn.LayerNorm's default; not in the
     * file), tied embeddings by default. Variants the authors' OPT models do not use are refused.
     */
    private static ModelConfig parseOpt(ObjectNode c, String arch, Fields f) {
        String act = c.path("activation_function").asText("relu");
        if (!act.equals("relu")) throw new BadInputException(f.file(), "activation_function '" + act + "' is not supported (only relu)");
        if (!c.path("enable_bias").asBoolean(true) || !c.path("layer_norm_elementwise_affine").asBoolean(true)
                || c.path("_remove_final_layer_norm").asBoolean(false))
            throw new BadInputException(f.file(), "OPT without biases, without LayerNorm weights or without its final layer norm is not supported");
        int hidden = f.positive("hidden_size", MAX_WIDTH), heads = f.positive("num_attention_heads", MAX_HEADS);
        if (hidden % heads != 0)
            throw new BadInputException(f.file(), "hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
        int layers = f.positive("num_hidden_layers", MAX_LAYERS);
        int embedDim = c.hasNonNull("word_embed_proj_dim") ? f.positive("word_embed_proj_dim", MAX_WIDTH) : hidden;
        Layout layout = new Layout(true, c.path("do_layer_norm_before").asBoolean(true), true, embedDim);
        return new ModelConfig(arch, hidden, f.positive("ffn_dim", MAX_WIDTH), layers, heads, heads, hidden / heads,
                f.positive("vocab_size", MAX_VOCAB), 1e-5,
                c.hasNonNull("max_position_embeddings") ? f.positive("max_position_embeddings", Integer.MAX_VALUE) : 2048, 10000.0,
                RopeScaling.NONE, true, true, true, false, c.path("tie_word_embeddings").asBoolean(true), new int[layers], layout,
                c.path("bos_token_id").asInt(-1), firstInt(c.path("eos_token_id")), c);
    }

    /**
     * LongRoPE as transformers 5 reads it (modeling_rope_utils._compute_longrope_parameters): short_factor and
     * long_factor, one per rotating pair; original_max_position_embeddings from the top level of config.json when
     * present (Phi-3 keeps it there and transformers gives it priority), else from the rope parameters, else
     * max_position_embeddings; attention_factor when given, else sqrt(1 + ln(s) / ln(original)) with s = factor or
     * max_position_embeddings / original (1 when s <= 1).
     */
    private static RopeScaling longRope(ObjectNode c, JsonNode rope, Fields f, int headDim) {
        int max = c.hasNonNull("max_position_embeddings") ? f.positive("max_position_embeddings", Integer.MAX_VALUE) : 2048;
        int original = c.hasNonNull("original_max_position_embeddings") ? f.positive("original_max_position_embeddings", Integer.MAX_VALUE)
                : rope.hasNonNull("original_max_position_embeddings") ? f.positive(rope, "original_max_position_embeddings", Integer.MAX_VALUE) : max;
        int pairs = (int) (headDim * rotaryFraction(c, rope, f, headDim)) / 2;
        double s = rope.hasNonNull("factor") ? f.positiveNumber(rope, "factor", null) : (double) max / original;
        double attention = rope.hasNonNull("attention_factor") ? f.positiveNumber(rope, "attention_factor", null)
                : s <= 1 ? 1 : Math.sqrt(1 + Math.log(s) / Math.log(original));
        if (!Double.isFinite(attention)) // original_max_position_embeddings 1 with a longer context
            throw new BadInputException(f.file(), "LongRoPE's attention factor is not finite with original_max_position_embeddings " + original);
        return new RopeScaling("longrope", s, 1, 1, original, 1,
                new RopeScaling.LongRope(factors(rope, "short_factor", pairs, f), factors(rope, "long_factor", pairs, f), attention));
    }

    /** A LongRoPE factor list: one positive number per rotating pair of a head. */
    private static double[] factors(JsonNode rope, String name, int pairs, Fields f) {
        JsonNode list = rope.get(name);
        if (list == null || !list.isArray() || list.size() != pairs)
            throw new BadInputException(f.file(), "rope field '" + name + "' must be a list of " + pairs + " numbers (one per rotating pair), not " + list);
        double[] out = new double[pairs];
        for (int i = 0; i < pairs; i++) {
            JsonNode n = list.get(i);
            if (!n.isNumber() || !(n.asDouble() > 0) || Double.isInfinite(n.asDouble()))
                throw new BadInputException(f.file(), "rope field '" + name + "' must hold positive numbers, not " + n);
            out[i] = n.asDouble();
        }
        return out;
    }

    /**
     * Phi-3's partial_rotary_factor (rope parameters, else the top level as older files have it; default 1): the share of
     * each head that rotates; int(head_dim * factor) must be even and at least 2.
     */
    private static double rotaryFraction(ObjectNode c, JsonNode rope, Fields f, int headDim) {
        double fraction = f.positiveNumber(rope.hasNonNull("partial_rotary_factor") ? rope : c, "partial_rotary_factor", 1.0);
        int dims = (int) (headDim * fraction);
        if (fraction > 1 || dims < 2 || dims % 2 != 0)
            throw new BadInputException(f.file(), "partial_rotary_factor " + fraction + " gives " + dims + " rotary dims of head_dim " + headDim
                    + " (must be even, at least 2, at most head_dim)");
        return fraction;
    }

    /** Per layer: 0 for full attention, else the sliding-window length (as transformers decides it). */
    private static int[] slidingWindows(ObjectNode c, String arch, int layers, Path file) {
        int[] w = new int[layers];
        JsonNode sw = c.get("sliding_window");
        Fields f = new Fields(c, file);
        boolean gemma = Family.of(arch) == Family.GEMMA3;
        int size = sw != null && sw.isNumber() ? f.positive("sliding_window", Integer.MAX_VALUE) : gemma ? 4096 : 0;
        JsonNode types = c.get("layer_types");
        boolean qwen = arch.startsWith("Qwen");
        if (qwen && !c.path("use_sliding_window").asBoolean(false)) size = 0;
        if (types != null && types.isArray()) {
            if (types.size() != layers)
                throw new BadInputException(file, "layer_types has " + types.size() + " entries but num_hidden_layers is " + layers);
            for (int i = 0; i < layers; i++) {
                String type = types.get(i).asText();
                if (!type.equals("sliding_attention") && !type.equals("full_attention"))
                    throw new BadInputException(file, "layer_types[" + i + "] is " + types.get(i) + ", not \"full_attention\" or \"sliding_attention\"");
                w[i] = type.equals("sliding_attention") ? size : 0;
            }
        } else if (qwen) {
            // an int field: 21474836471 must not wrap to -9 (found by fuzzing)
            int from = c.hasNonNull("max_window_layers") ? Math.min(f.count("max_window_layers"), layers) : layers;
            for (int i = from; i < layers; i++) w[i] = size;
        } else if (gemma) {
            // Gemma3TextConfig without layer_types: every sliding_window_pattern-th layer is global (Hub files say 6)
            int pattern = c.hasNonNull("sliding_window_pattern") ? f.positive("sliding_window_pattern", Integer.MAX_VALUE) : 6;
            for (int i = 0; i < layers; i++) w[i] = (i + 1) % pattern != 0 ? size : 0;
        } else if (arch.equals("MistralForCausalLM") || arch.equals("Phi3ForCausalLM")) {
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
        int positive(String name, int max) {
            return positive(c, name, max);
        }

        /** A required integer in 1..max (the caps keep products such as heads * head_dim far from int overflow). */
        int positive(JsonNode parent, String name, int max) {
            JsonNode n = parent.get(name);
            if (n == null || n.isNull()) throw new BadInputException(file, "missing field '" + name + "'");
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() <= 0 || n.asInt() > max)
                throw new BadInputException(file, "field '" + name + "' must be a positive integer" + (max < Integer.MAX_VALUE ? " up to " + max : "")
                        + ", not " + n);
            return n.asInt();
        }

        /** A non-negative integer that fits an int (the caller checks that the field is present). */
        int count(String name) {
            JsonNode n = c.get(name);
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 0)
                throw new BadInputException(file, "field '" + name + "' must be a non-negative integer, not " + n);
            return n.asInt();
        }

        /** A finite positive number; {@code fallback} when absent (null: required). */
        double positiveNumber(JsonNode parent, String name, Double fallback) {
            JsonNode n = parent.get(name);
            if ((n == null || n.isNull()) && fallback != null) return fallback;
            if (n == null || !n.isNumber() || !(n.asDouble() > 0) || Double.isInfinite(n.asDouble()))
                throw new BadInputException(file, "field '" + name + "' must be a positive number, not " + n);
            return n.asDouble();
        }
    }
}
