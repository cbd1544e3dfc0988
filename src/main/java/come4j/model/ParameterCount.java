package come4j.model;

/**
 * Parameter accounting for the sparsity rule of method.md §11: k = round(s * P_total / P_layer) layers go, because
 * each merge removes exactly one decoder layer's parameters.
 */
public record ParameterCount(long perLayer, long total) {

    public static ParameterCount of(ModelConfig c) {
        ModelConfig.Layout layout = c.layout();
        long d = c.hiddenSize(), e = layout.embedDim(), layer = c.schema().parameterCount();
        long ends = (long) c.vocabSize() * e * (c.tieEmbeddings() ? 1 : 2); // embeddings and LM head
        if (layout.learnedPositions()) ends += (c.maxPositions() + (long) Transformer.POSITION_OFFSET) * d;
        if (e != d) ends += 2 * d * e; // OPT's project_in and project_out
        if (layout.preNorm()) ends += layout.layerNorm() ? 2 * d : d; // the final norm (weight, bias)
        return new ParameterCount(layer, ends + layer * c.numLayers());
    }

    /** Number of layers removed to reach parameter sparsity s. */
    public int layersToRemove(double sparsity) {
        return (int) Math.round(sparsity * total / perLayer);
    }
}
