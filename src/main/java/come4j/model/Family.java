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
public record Family(String name, List<String> architectures, String layerPrefix, List<LayerTensor> layer) {

    /**
     * LLaMA-2/3, Mistral, Qwen2/2.5 and Qwen3: pre-norm RMSNorm layers with SwiGLU. Biases (Qwen2, attention_bias,
     * mlp_bias) and Qwen3's per-head q/k norms are present as the config says. Merge rules: method.md §8 (q/k/v rows,
     * and their biases, by the query heads of kept kv groups and by kv groups; o_proj columns; FFN rows and down_proj
     * columns by channel; norms the plain mean; o/down biases and q/k norms ratio-weighted).
     */
    public static final Family LLAMA = new Family("LLaMA",
            List.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM"), "model.layers.", List.of(
            //      name                             role                      kind        shape              split axis, units      merge
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

    public static final List<Family> ALL = List.of(LLAMA);

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
