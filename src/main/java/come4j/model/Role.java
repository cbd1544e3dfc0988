package come4j.model;

/**
 * What a tensor of a decoder layer is to the forward pass, whatever a family calls it: the forward pass, the
 * channel sensitivity and the training code ask a layer for a role, the family's {@link LayerTensor} table maps it
 * to the checkpoint's name.
 */
public enum Role {
    Q, K, V, O, GATE, UP, DOWN,
    INPUT_NORM, POST_ATTENTION_NORM, Q_NORM, K_NORM, INPUT_NORM_BIAS, POST_ATTENTION_NORM_BIAS,
    Q_BIAS, K_BIAS, V_BIAS, O_BIAS, GATE_BIAS, UP_BIAS, DOWN_BIAS,
    /** Gemma 3's norms of the attention and FFN outputs, applied before each residual add. */
    ATTENTION_OUTPUT_NORM, FFN_OUTPUT_NORM
}
