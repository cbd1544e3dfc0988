package come4j.model;

import static come4j.model.LayerTensor.Axis.INPUT;
import static come4j.model.LayerTensor.Axis.OUTPUT;
import static come4j.model.LayerTensor.Dim.FFN;
import static come4j.model.LayerTensor.Dim.HEAD;
import static come4j.model.LayerTensor.Dim.HIDDEN;
import static come4j.model.LayerTensor.Dim.KV;
import static come4j.model.LayerTensor.Kind.BIAS;
import static come4j.model.LayerTensor.Kind.NORM;
import static come4j.model.LayerTensor.Kind.PROJECTION;
import static come4j.model.LayerTensor.Merge.CONCAT;
import static come4j.model.LayerTensor.Merge.MEAN;
import static come4j.model.LayerTensor.Merge.RATIO;
import static come4j.model.LayerTensor.Unit.FFN_CHANNELS;
import static come4j.model.LayerTensor.Unit.KV_HEADS;
import static come4j.model.LayerTensor.Unit.QUERY_HEADS;
import static come4j.model.LayerTensor.buffer;
import static come4j.model.LayerTensor.tensor;
import static come4j.model.LayerTensor.shape;

import come4j.model.LayerTensor.Axis;
import come4j.model.LayerTensor.Dim;
import come4j.model.LayerTensor.Unit;
import java.util.List;

/**
 * A family of architectures that share one decoder-layer table: the architectures (config.json's "architectures"),
 * where the layers' tensors live, and every tensor of a layer ({@link LayerTensor}). Adding a family is a table here
 * plus its forward-pass differences in {@link DecoderLayer}; loading, parameter counting, channel sensitivity, the
 * merges, training and the writer read the table.
 */
public record Family(String name, List<String> architectures, Ends ends, String layerPrefix, List<LayerTensor> layer) {

    /**
     * The model's tensors outside its layers: token embeddings, learned positions, the projections into and out of a
     * narrower embedding width, the final norm (weight, bias) and the LM head; null where the family has none.
     */
    public record Ends(String embeddings, String positions, String projectIn, String finalNorm, String finalNormBias,
                       String projectOut, String lmHead) {}

    /**
     * LLaMA-2/3, Mistral, Qwen2/2.5 and Qwen3: pre-norm RMSNorm layers with SwiGLU. Biases (Qwen2, attention_bias,
     * mlp_bias) and Qwen3's per-head q/k norms are present as the config says. Merge rules: method.md §8 (q/k/v rows,
     * and their biases, by the query heads of kept kv groups and by kv groups; o_proj columns; FFN rows and down_proj
     * columns by channel; norms the plain mean; o/down biases and q/k norms ratio-weighted).
     */
    public static final Family LLAMA = new Family("LLaMA",
            List.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM"),
            new Ends("model.embed_tokens.weight", null, null, "model.norm.weight", null, null, "lm_head.weight"), "model.layers.", List.of(
            //     name                             role                      kind        shape              split axis, units      merge
            tensor("input_layernorm.weight",          Role.INPUT_NORM,          NORM,       shape(HIDDEN),     Axis.NONE, Unit.NONE,     MEAN),
            tensor("self_attn.q_proj.weight",         Role.Q,                   PROJECTION, shape(Dim.Q, HIDDEN), OUTPUT, QUERY_HEADS,   CONCAT),
            tensor("self_attn.k_proj.weight",         Role.K,                   PROJECTION, shape(KV, HIDDEN), OUTPUT,    KV_HEADS,      CONCAT),
            tensor("self_attn.v_proj.weight",         Role.V,                   PROJECTION, shape(KV, HIDDEN), OUTPUT,    KV_HEADS,      CONCAT),
            tensor("self_attn.o_proj.weight",         Role.O,                   PROJECTION, shape(HIDDEN, Dim.Q), INPUT,  QUERY_HEADS,   CONCAT),
            tensor("post_attention_layernorm.weight", Role.POST_ATTENTION_NORM, NORM,       shape(HIDDEN),     Axis.NONE, Unit.NONE,     MEAN),
            tensor("mlp.gate_proj.weight",            Role.GATE,                PROJECTION, shape(FFN, HIDDEN), OUTPUT,   FFN_CHANNELS,  CONCAT),
            tensor("mlp.up_proj.weight",              Role.UP,                  PROJECTION, shape(FFN, HIDDEN), OUTPUT,   FFN_CHANNELS,  CONCAT),
            tensor("mlp.down_proj.weight",            Role.DOWN,                PROJECTION, shape(HIDDEN, FFN), INPUT,    FFN_CHANNELS,  CONCAT),
            tensor("self_attn.q_norm.weight",         Role.Q_NORM,              NORM,       shape(HEAD),       Axis.NONE, Unit.NONE,     RATIO).when(ModelConfig::qkNorm),
            tensor("self_attn.k_norm.weight",         Role.K_NORM,              NORM,       shape(HEAD),       Axis.NONE, Unit.NONE,     RATIO).when(ModelConfig::qkNorm),
            tensor("self_attn.q_proj.bias",           Role.Q_BIAS,              BIAS,       shape(Dim.Q),      OUTPUT,    QUERY_HEADS,   CONCAT).when(ModelConfig::qkvBias),
            tensor("self_attn.k_proj.bias",           Role.K_BIAS,              BIAS,       shape(KV),         OUTPUT,    KV_HEADS,      CONCAT).when(ModelConfig::qkvBias),
            tensor("self_attn.v_proj.bias",           Role.V_BIAS,              BIAS,       shape(KV),         OUTPUT,    KV_HEADS,      CONCAT).when(ModelConfig::qkvBias),
            tensor("self_attn.o_proj.bias",           Role.O_BIAS,              BIAS,       shape(HIDDEN),     Axis.NONE, Unit.NONE,     RATIO).when(ModelConfig::oBias),
            tensor("mlp.gate_proj.bias",              Role.GATE_BIAS,           BIAS,       shape(FFN),        OUTPUT,    FFN_CHANNELS,  CONCAT).when(ModelConfig::mlpBias),
            tensor("mlp.up_proj.bias",                Role.UP_BIAS,             BIAS,       shape(FFN),        OUTPUT,    FFN_CHANNELS,  CONCAT).when(ModelConfig::mlpBias),
            tensor("mlp.down_proj.bias",              Role.DOWN_BIAS,           BIAS,       shape(HIDDEN),     Axis.NONE, Unit.NONE,     RATIO).when(ModelConfig::mlpBias),
            buffer("self_attn.rotary_emb.inv_freq"))); // older checkpoints store RoPE's frequencies; transformers ignores them

    /**
     * OPT (the authors' models_unit/opt): LayerNorm with weight and bias around attention and a ReLU FFN (fc1, fc2),
     * biases on every projection. CoMe's rules as for LLaMA (fc1 is up_proj, fc2 down_proj); both LayerNorms, weight and
     * bias, the plain mean (method.md §8.3, the authors' OPT rule).
     */
    public static final Family OPT = new Family("OPT", List.of("OPTForCausalLM"),
            new Ends("model.decoder.embed_tokens.weight", "model.decoder.embed_positions.weight", "model.decoder.project_in.weight",
                    "model.decoder.final_layer_norm.weight", "model.decoder.final_layer_norm.bias", "model.decoder.project_out.weight",
                    "lm_head.weight"),
            "model.decoder.layers.", List.of(
            //     name                          role                           kind        shape                    axis       units          merge
            tensor("self_attn.k_proj.weight",    Role.K,                        PROJECTION, shape(KV, HIDDEN),       OUTPUT,    KV_HEADS,      CONCAT),
            tensor("self_attn.k_proj.bias",      Role.K_BIAS,                   BIAS,       shape(KV),               OUTPUT,    KV_HEADS,      CONCAT),
            tensor("self_attn.v_proj.weight",    Role.V,                        PROJECTION, shape(KV, HIDDEN),       OUTPUT,    KV_HEADS,      CONCAT),
            tensor("self_attn.v_proj.bias",      Role.V_BIAS,                   BIAS,       shape(KV),               OUTPUT,    KV_HEADS,      CONCAT),
            tensor("self_attn.q_proj.weight",    Role.Q,                        PROJECTION, shape(Dim.Q, HIDDEN),    OUTPUT,    QUERY_HEADS,   CONCAT),
            tensor("self_attn.q_proj.bias",      Role.Q_BIAS,                   BIAS,       shape(Dim.Q),            OUTPUT,    QUERY_HEADS,   CONCAT),
            tensor("self_attn.out_proj.weight",  Role.O,                        PROJECTION, shape(HIDDEN, Dim.Q),    INPUT,     QUERY_HEADS,   CONCAT),
            tensor("self_attn.out_proj.bias",    Role.O_BIAS,                   BIAS,       shape(HIDDEN),           Axis.NONE, Unit.NONE,     RATIO),
            tensor("self_attn_layer_norm.weight", Role.INPUT_NORM,              NORM,       shape(HIDDEN),           Axis.NONE, Unit.NONE,     MEAN),
            tensor("self_attn_layer_norm.bias",  Role.INPUT_NORM_BIAS,          BIAS,       shape(HIDDEN),           Axis.NONE, Unit.NONE,     MEAN),
            tensor("fc1.weight",                 Role.UP,                       PROJECTION, shape(FFN, HIDDEN),      OUTPUT,    FFN_CHANNELS,  CONCAT),
            tensor("fc1.bias",                   Role.UP_BIAS,                  BIAS,       shape(FFN),              OUTPUT,    FFN_CHANNELS,  CONCAT),
            tensor("fc2.weight",                 Role.DOWN,                     PROJECTION, shape(HIDDEN, FFN),      INPUT,     FFN_CHANNELS,  CONCAT),
            tensor("fc2.bias",                   Role.DOWN_BIAS,                BIAS,       shape(HIDDEN),           Axis.NONE, Unit.NONE,     RATIO),
            tensor("final_layer_norm.weight",    Role.POST_ATTENTION_NORM,      NORM,       shape(HIDDEN),           Axis.NONE, Unit.NONE,     MEAN),
            tensor("final_layer_norm.bias",      Role.POST_ATTENTION_NORM_BIAS, BIAS,       shape(HIDDEN),           Axis.NONE, Unit.NONE,     MEAN)));

    /**
     * Phi-3 (Phi-3/3.5-mini, Phi-4-mini): a LLaMA layer whose q, k, v are stored stacked in one qkv_proj and gate, up in
     * one gate_up_proj. Declared as those parts (named as LLaMA's separate projections), so loading splits the fused
     * tensors into row views, every method sees q, k, v, gate and up with LLaMA's rules, and the writer stacks the
     * parts again (docs/architectures.md, Phi-3).
     */
    public static final Family PHI3 = new Family("Phi-3", List.of("Phi3ForCausalLM"),
            new Ends("model.embed_tokens.weight", null, null, "model.norm.weight", null, null, "lm_head.weight"), "model.layers.", List.of(
            //     name                             role                      kind        shape                 split axis, units     merge
            tensor("input_layernorm.weight",          Role.INPUT_NORM,          NORM,       shape(HIDDEN),        Axis.NONE, Unit.NONE,    MEAN),
            tensor("self_attn.q_proj.weight",         Role.Q,                   PROJECTION, shape(Dim.Q, HIDDEN), OUTPUT,    QUERY_HEADS,  CONCAT).in("self_attn.qkv_proj.weight"),
            tensor("self_attn.k_proj.weight",         Role.K,                   PROJECTION, shape(KV, HIDDEN),    OUTPUT,    KV_HEADS,     CONCAT).in("self_attn.qkv_proj.weight"),
            tensor("self_attn.v_proj.weight",         Role.V,                   PROJECTION, shape(KV, HIDDEN),    OUTPUT,    KV_HEADS,     CONCAT).in("self_attn.qkv_proj.weight"),
            tensor("self_attn.o_proj.weight",         Role.O,                   PROJECTION, shape(HIDDEN, Dim.Q), INPUT,     QUERY_HEADS,  CONCAT),
            tensor("post_attention_layernorm.weight", Role.POST_ATTENTION_NORM, NORM,       shape(HIDDEN),        Axis.NONE, Unit.NONE,    MEAN),
            tensor("mlp.gate_proj.weight",            Role.GATE,                PROJECTION, shape(FFN, HIDDEN),   OUTPUT,    FFN_CHANNELS, CONCAT).in("mlp.gate_up_proj.weight"),
            tensor("mlp.up_proj.weight",              Role.UP,                  PROJECTION, shape(FFN, HIDDEN),   OUTPUT,    FFN_CHANNELS, CONCAT).in("mlp.gate_up_proj.weight"),
            tensor("mlp.down_proj.weight",            Role.DOWN,                PROJECTION, shape(HIDDEN, FFN),   INPUT,     FFN_CHANNELS, CONCAT)));

    /**
     * Gemma 3 text (Gemma3ForCausalLM): four RMSNorms per layer, scaling by (1 + w) — input and pre_feedforward before
     * the sublayers (the LLaMA roles), post_attention and post_feedforward on the sublayer outputs before each residual
     * add — per-head q/k norms, GeGLU. Note the names: Gemma's post_attention_layernorm is an output norm, its
     * pre_feedforward_layernorm plays LLaMA's post_attention_layernorm. Merge rules (docs/architectures.md): as LLaMA's,
     * the two output norms the plain mean like every layer norm, q/k norms ratio-weighted as Qwen3's.
     */
    public static final Family GEMMA3 = new Family("Gemma 3", List.of("Gemma3ForCausalLM"),
            new Ends("model.embed_tokens.weight", null, null, "model.norm.weight", null, null, "lm_head.weight"), "model.layers.", List.of(
            //     name                              role                        kind        shape                 axis       units          merge
            tensor("input_layernorm.weight",           Role.INPUT_NORM,            NORM,       shape(HIDDEN),        Axis.NONE, Unit.NONE,     MEAN),
            tensor("self_attn.q_proj.weight",          Role.Q,                     PROJECTION, shape(Dim.Q, HIDDEN), OUTPUT,    QUERY_HEADS,   CONCAT),
            tensor("self_attn.k_proj.weight",          Role.K,                     PROJECTION, shape(KV, HIDDEN),    OUTPUT,    KV_HEADS,      CONCAT),
            tensor("self_attn.v_proj.weight",          Role.V,                     PROJECTION, shape(KV, HIDDEN),    OUTPUT,    KV_HEADS,      CONCAT),
            tensor("self_attn.q_norm.weight",          Role.Q_NORM,                NORM,       shape(HEAD),          Axis.NONE, Unit.NONE,     RATIO),
            tensor("self_attn.k_norm.weight",          Role.K_NORM,                NORM,       shape(HEAD),          Axis.NONE, Unit.NONE,     RATIO),
            tensor("self_attn.o_proj.weight",          Role.O,                     PROJECTION, shape(HIDDEN, Dim.Q), INPUT,     QUERY_HEADS,   CONCAT),
            tensor("post_attention_layernorm.weight",  Role.ATTENTION_OUTPUT_NORM, NORM,       shape(HIDDEN),        Axis.NONE, Unit.NONE,     MEAN),
            tensor("pre_feedforward_layernorm.weight", Role.POST_ATTENTION_NORM,   NORM,       shape(HIDDEN),        Axis.NONE, Unit.NONE,     MEAN),
            tensor("mlp.gate_proj.weight",             Role.GATE,                  PROJECTION, shape(FFN, HIDDEN),   OUTPUT,    FFN_CHANNELS,  CONCAT),
            tensor("mlp.up_proj.weight",               Role.UP,                    PROJECTION, shape(FFN, HIDDEN),   OUTPUT,    FFN_CHANNELS,  CONCAT),
            tensor("mlp.down_proj.weight",             Role.DOWN,                  PROJECTION, shape(HIDDEN, FFN),   INPUT,     FFN_CHANNELS,  CONCAT),
            tensor("post_feedforward_layernorm.weight", Role.FFN_OUTPUT_NORM,      NORM,       shape(HIDDEN),        Axis.NONE, Unit.NONE,     MEAN)));

    public static final List<Family> ALL = List.of(LLAMA, OPT, GEMMA3, PHI3);

    /** The family of an architecture, or null when none supports it. */
    public static Family of(String architecture) {
        for (Family f : ALL) if (f.architectures.contains(architecture)) return f;
        return null;
    }

    /** Every supported architecture, in the order of the families. */
    public static List<String> supported() {
        return ALL.stream().flatMap(f -> f.architectures.stream()).toList();
    }
}
