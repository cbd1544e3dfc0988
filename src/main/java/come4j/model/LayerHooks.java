package come4j.model;

/**
 * Points inside a decoder layer where statistics are taken: channel sensitivity needs the o_proj input (concatenated
 * head outputs) and the down_proj input (SwiGLU output). Arrays are row-major [T x width] and valid only during the call.
 */
public interface LayerHooks {
    LayerHooks NONE = new LayerHooks() {};

    /** The normed input of q/k/v_proj (issue 16's next-layer correction). */
    default void attentionInput(int layer, float[] normed, int tokens) {}

    /** The normed input of gate/up_proj. */
    default void ffnInput(int layer, float[] normed, int tokens) {}

    default void attentionOutput(int layer, float[] oProjInput, int tokens) {}

    default void ffnInner(int layer, float[] downProjInput, int tokens) {}
}
