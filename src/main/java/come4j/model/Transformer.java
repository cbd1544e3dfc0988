package come4j.model;

import come4j.io.Checkpoint;
import come4j.io.TensorData;
import come4j.tensor.Backend;
import come4j.tensor.Backends;
import come4j.tensor.Matrix;
import come4j.tensor.VectorOps;
import java.util.ArrayList;
import java.util.List;

/**
 * A causal LM of the LLaMA family: token embeddings, a list of decoder layers, final RMSNorm and LM head. Weights stay
 * where they are (mmap'd); nothing is copied into the heap but norms and biases. Products run on the backend chosen
 * for the run and the checkpoint's dtype ({@link Backends#forModel}).
 */
public final class Transformer {
    private final ModelConfig config;
    private final TensorData embeddings;
    private final float[] finalNorm;
    private final Matrix lmHead;
    private final List<LayerWeights> layers;
    private final Rope rope;
    private final Backend backend;

    public Transformer(Backend backend, ModelConfig config, TensorData embeddings, float[] finalNorm, Matrix lmHead,
                       List<LayerWeights> layers) {
        this.backend = backend;
        this.config = config;
        this.embeddings = embeddings;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        this.layers = List.copyOf(layers);
        this.rope = new Rope(config);
    }

    public static Transformer load(Checkpoint ckpt) {
        ModelConfig c = ckpt.config();
        TensorData emb = ckpt.tensor("model.embed_tokens.weight", c.vocabSize(), c.hiddenSize());
        // Tied models may still store lm_head.weight; transformers then uses the embedding matrix.
        TensorData head = c.tieEmbeddings() ? emb : ckpt.tensor("lm_head.weight", c.vocabSize(), c.hiddenSize());
        Backend backend = Backends.forModel(ckpt.dtype());
        // A model whose fp32 weights take under a quarter of the heap keeps them in the backend's resident form:
        // converted and laid out once instead of on every product (short requests are dominated by that work).
        boolean resident = 4L * ParameterCount.of(c).total() <= Runtime.getRuntime().maxMemory() / 4;
        java.util.function.UnaryOperator<Matrix> form = resident ? backend::prepare : m -> m;
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) layers.add(LayerWeights.load(ckpt, i).withMatrices(form));
        return new Transformer(backend, c, emb, ckpt.tensor("model.norm.weight", c.hiddenSize()).toFloat(), form.apply(Matrix.of(head)), layers);
    }

    /** The same embeddings, final norm and head with other decoder layers (a config describing them). */
    public Transformer withLayers(ModelConfig c, List<LayerWeights> newLayers) {
        if (c.numLayers() != newLayers.size()) throw new IllegalArgumentException("config and layers disagree");
        return new Transformer(backend, c, embeddings, finalNorm, lmHead, newLayers);
    }

    /** The backend the products run on. */
    public Backend backend() {
        return backend;
    }

    public ModelConfig config() {
        return config;
    }

    public List<LayerWeights> layers() {
        return layers;
    }

    public int numLayers() {
        return layers.size();
    }

    /** hs[0]: the embeddings of ids, [T x d]. */
    public float[] embed(int[] ids) {
        int d = config.hiddenSize();
        float[] h = new float[ids.length * d];
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] < 0 || ids[t] >= config.vocabSize())
                throw new IllegalArgumentException("token id " + ids[t] + " outside the vocabulary of " + config.vocabSize());
            embeddings.toFloat((long) ids[t] * d, h, t * d, d);
        }
        return h;
    }

    /** Applies decoder layer i in place to h, a batch of sequences of T tokens ([batch * T x d]). */
    public void layer(int i, float[] h, int batch, int T, int pos0, KVCache cache, LayerHooks hooks) {
        DecoderLayer.forward(backend, config, layers.get(i), rope, h, batch, T, pos0, cache, hooks, i);
    }

    /** The final RMSNorm of rows [row0, row0 + rows) of h, as a new array (hs[L] in the Hugging Face convention). */
    public float[] finalNorm(float[] h, int row0, int rows) {
        int d = config.hiddenSize();
        float[] out = new float[rows * d];
        float[] src = java.util.Arrays.copyOfRange(h, row0 * d, (row0 + rows) * d);
        VectorOps.rmsNorm(src, 0, rows, d, d, finalNorm, config.rmsNormEps(), out);
        return out;
    }

    /** LM head on final-normed rows: logits [rows x vocab]. */
    public float[] logits(float[] normed, int rows) {
        float[] out = new float[rows * config.vocabSize()];
        backend.matmul(normed, rows, lmHead, out);
        return out;
    }

    /** Appends tokens to a cached sequence (positions from cache.length()); returns their hidden states [T x d]. */
    public float[] extend(int[] ids, KVCache cache) {
        return extend(ids, 1, cache);
    }

    /**
     * Appends T = ids.length / batch tokens to each of the cache's sequences (ids concatenated sequence by sequence;
     * positions from cache.length()); returns their hidden states [batch * T x d].
     */
    public float[] extend(int[] ids, int batch, KVCache cache) {
        int pos = cache.length(), T = ids.length / batch;
        float[] h = embed(ids);
        for (int i = 0; i < layers.size(); i++) layer(i, h, batch, T, pos, cache, LayerHooks.NONE);
        cache.advance(T);
        return h;
    }

    /** Full forward pass of a batch of sequences of T tokens (ids concatenated): logits [batch * T x vocab]. */
    public float[] forward(int[] ids, int batch) {
        int T = ids.length / batch;
        float[] h = embed(ids);
        for (int i = 0; i < layers.size(); i++) layer(i, h, batch, T, 0, null, LayerHooks.NONE);
        return logits(finalNorm(h, 0, ids.length), ids.length);
    }
}
