package come4j.model;

/**
 * Parameter accounting for the sparsity rule of method.md §11: k = round(s * P_total / P_layer) layers go, because
 * each merge removes exactly one decoder layer's parameters.
 */
public record ParameterCount(long perLayer, long total) {

    public static ParameterCount of(ModelConfig c) {
        long d = c.hiddenSize(), layer = c.schema().parameterCount();
        long embeddings = (long) c.vocabSize() * d * (c.tieEmbeddings() ? 1 : 2);
        return new ParameterCount(layer, embeddings + d + layer * c.numLayers());
    }

    /** Number of layers removed to reach parameter sparsity s. */
    public int layersToRemove(double sparsity) {
        return (int) Math.round(sparsity * total / perLayer);
    }
}
