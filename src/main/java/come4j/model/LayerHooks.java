package come4j.model;

/**
 * Points inside a decoder layer where statistics are taken: channel sensitivity needs the o_proj input (concatenated
 * head outputs) and the down_proj input (SwiGLU output). Arrays are row-major [T x width], allocated by the layer for
 * the call and not written after it, so a hook may keep them (passes run side by side hand them over afterwards, in
 * window order).
 */
public interface LayerHooks {
    LayerHooks NONE = new LayerHooks() {};

    default void attentionOutput(int layer, float[] oProjInput, int tokens) {}

    default void ffnInner(int layer, float[] downProjInput, int tokens) {}
}
