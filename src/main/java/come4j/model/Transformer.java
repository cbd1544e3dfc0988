package come4j.model;

import come4j.io.TensorData;
import come4j.tensor.Backend;
import come4j.tensor.Backends;
import come4j.tensor.Matrix;
import come4j.tensor.Parallel;
import come4j.tensor.VectorOps;
import java.util.ArrayList;
import java.util.List;

/**
 * A causal LM: token embeddings (OPT: projected to the hidden size and added to learned positions), a list of decoder
 * layers, the final norm and the LM head (OPT-350m: after a projection back to the embedding width). Weights stay
 * where they are (mmap'd); nothing is copied into the heap but norms and biases. Tensor names are the family's
 * ({@link Family.Ends}). Products run on the backend chosen for the run and the checkpoint's dtype
 * ({@link Backends#forModel}).
 */
public final class Transformer {
    /** OPT's learned positions: position p is row p + 2 (transformers' OPTLearnedPositionalEmbedding offset). */
    public static final int POSITION_OFFSET = 2;

    /** Everything outside the layers; null where the model has no such part. */
    private record Ends(TensorData embeddings, TensorData positions, Matrix projectIn, float[] finalNorm, float[] finalNormBias,
                        Matrix projectOut, Matrix lmHead) {}

    private final ModelConfig config;
    private final Ends ends;
    private final List<LayerWeights> layers;
    private final Ropes ropes;
    private final Backend backend;

    private Transformer(Backend backend, ModelConfig config, Ends ends, List<LayerWeights> layers) {
        this.backend = backend;
        this.config = config;
        this.ends = ends;
        this.layers = List.copyOf(layers);
        this.ropes = Ropes.of(config);
    }

    public static Transformer load(Checkpoint ckpt) {
        ModelConfig c = ckpt.config();
        ModelConfig.Layout layout = c.layout();
        Family.Ends names = c.schema().family().ends();
        int d = c.hiddenSize(), e = layout.embedDim();
        TensorData emb = ckpt.tensor(names.embeddings(), c.vocabSize(), e);
        // Tied models may still store lm_head.weight; transformers then uses the embedding matrix.
        TensorData head = c.tieEmbeddings() ? emb : ckpt.tensor(names.lmHead(), c.vocabSize(), e);
        Backend backend = Backends.forModel(ckpt.dtype());
        // A model whose fp32 weights take under a quarter of the heap keeps them in the backend's resident form:
        // converted and laid out once instead of on every product (short requests are dominated by that work).
        boolean resident = 4L * ParameterCount.of(c).total() <= Runtime.getRuntime().maxMemory() / 4;
        java.util.function.UnaryOperator<Matrix> form = resident ? backend::prepare : m -> m;
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) layers.add(LayerWeights.load(ckpt, i).withMatrices(form));
        boolean projected = e != d, finalNorm = layout.preNorm(); // post-norm OPT has no final norm
        return new Transformer(backend, c, new Ends(emb,
                layout.learnedPositions() ? ckpt.tensor(names.positions(), c.maxPositions() + POSITION_OFFSET, d) : null,
                projected ? form.apply(Matrix.of(ckpt.tensor(names.projectIn(), d, e))) : null,
                finalNorm ? ckpt.tensor(names.finalNorm(), d).toFloat() : null,
                finalNorm && names.finalNormBias() != null ? ckpt.tensor(names.finalNormBias(), d).toFloat() : null,
                projected ? form.apply(Matrix.of(ckpt.tensor(names.projectOut(), e, d))) : null,
                form.apply(Matrix.of(head))), layers);
    }

    /** The same embeddings, final norm and head with other decoder layers (a config describing them). */
    public Transformer withLayers(ModelConfig c, List<LayerWeights> newLayers) {
        if (c.numLayers() != newLayers.size()) throw new IllegalArgumentException("config and layers disagree");
        return new Transformer(backend, c, ends, newLayers);
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

    /** hs[0]: the embeddings of ids, one sequence at positions 0 .. T-1, [T x d]. */
    public float[] embed(int[] ids) {
        return embed(ids, 1, 0);
    }

    /** hs[0] of a batch of sequences (ids concatenated), each at positions pos0 .. pos0 + T - 1: [batch * T x d]. */
    public float[] embed(int[] ids, int batch, int pos0) {
        int d = config.hiddenSize(), e = config.layout().embedDim(), T = ids.length / batch;
        float[] x = new float[ids.length * e];
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] < 0 || ids[t] >= config.vocabSize())
                throw new IllegalArgumentException("token id " + ids[t] + " outside the vocabulary of " + config.vocabSize());
            ends.embeddings().toFloat((long) ids[t] * e, x, t * e, e);
        }
        if (config.layout().gemma() != null) { // Gemma: embeddings × sqrt(hidden_size), the scale in fp32 as we compute
            float scale = (float) Math.sqrt(d);
            for (int i = 0; i < x.length; i++) x[i] *= scale;
        }
        float[] h = x;
        if (ends.projectIn() != null) {
            h = new float[ids.length * d];
            backend.matmul(x, ids.length, ends.projectIn(), h);
        }
        if (ends.positions() != null) {
            float[] row = new float[d];
            for (int t = 0; t < ids.length; t++) {
                int p = pos0 + t % T;
                if (p >= config.maxPositions())
                    throw new IllegalArgumentException("position " + p + " beyond max_position_embeddings " + config.maxPositions());
                ends.positions().toFloat((long) (p + POSITION_OFFSET) * d, row, 0, d);
                for (int i = 0; i < d; i++) h[t * d + i] += row[i];
            }
        }
        return h;
    }

    /** Applies decoder layer i in place to h, a batch of sequences of T tokens ([batch * T x d]). */
    public void layer(int i, float[] h, int batch, int T, int pos0, KVCache cache, LayerHooks hooks) {
        DecoderLayer.forward(backend, config, layers.get(i), ropes.forWindow(config.slidingWindow()[i]), h, batch, T, pos0, cache, hooks, i);
    }

    /**
     * The final norm (RMSNorm, or LayerNorm with bias) of rows [row0, row0 + rows) of h, as a new array: hs[L] in the
     * Hugging Face convention (a post-norm OPT has no final norm: a copy).
     */
    public float[] finalNorm(float[] h, int row0, int rows) {
        int d = config.hiddenSize();
        float[] out = java.util.Arrays.copyOfRange(h, row0 * d, (row0 + rows) * d);
        if (ends.finalNorm() == null) return out;
        if (config.layout().layerNorm()) VectorOps.layerNorm(out, 0, rows, d, d, ends.finalNorm(), ends.finalNormBias(), config.rmsNormEps(), out);
        else VectorOps.rmsNorm(out, 0, rows, d, d, DecoderLayer.normScale(config, ends.finalNorm()), config.rmsNormEps(), out);
        return out;
    }

    /** LM head on final-normed rows (OPT-350m: projected out to the embedding width first): logits [rows x vocab]. */
    public float[] logits(float[] normed, int rows) {
        float[] x = normed;
        if (ends.projectOut() != null) {
            x = new float[rows * config.layout().embedDim()];
            backend.matmul(normed, rows, ends.projectOut(), x);
        }
        float[] out = new float[rows * config.vocabSize()];
        backend.matmul(x, rows, ends.lmHead(), out);
        return out;
    }

    /** The most logits {@link #tokenNll} holds at once (64 MB of fp32). */
    private static final int LOGIT_FLOATS = 1 << 24;

    /**
     * Rows whose logits {@link #tokenNll} computes at once: a power of two, so that its chunks split the rows where a
     * backend's own row chunks of a whole product would.
     */
    private int logitRows() {
        return Integer.highestOneBit(Math.max(1, LOGIT_FLOATS / config.vocabSize()));
    }

    /**
     * For each final-normed row r, −log softmax(logits_r)[target[r]] (log-sum-exp of the fp32 logits in double; 0
     * where target[r] < 0). The logits are computed {@link #logitRows} rows at a time, so no [rows x vocab] array is
     * held: a 2,048-token window of a 152k vocabulary would take 1.25 GB.
     */
    public double[] tokenNll(float[] normed, int rows, int[] target) {
        return tokenNll(normed, rows, target, logitRows());
    }

    /** {@link #tokenNll(float[], int, int[])} with the logits of {@code chunk} rows at a time. */
    double[] tokenNll(float[] normed, int rows, int[] target, int chunk) {
        int d = config.hiddenSize(), V = config.vocabSize(), step = Math.min(rows, chunk);
        double[] nll = new double[rows];
        for (int r0 = 0; r0 < rows; r0 += step) {
            int n = Math.min(step, rows - r0), first = r0;
            float[] z = logits(n == rows ? normed : java.util.Arrays.copyOfRange(normed, r0 * d, (r0 + n) * d), n);
            Parallel.forRows(n, 16, (a, b) -> {
                for (int r = a; r < b; r++) {
                    int t = target[first + r];
                    if (t >= 0) nll[first + r] = VectorOps.logSumExp(z, r * V, V) - z[r * V + t];
                }
            });
        }
        return nll;
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
        float[] h = embed(ids, batch, pos);
        for (int i = 0; i < layers.size(); i++) layer(i, h, batch, T, pos, cache, LayerHooks.NONE);
        cache.advance(T);
        return h;
    }

    /**
     * About the heap a pass over {@code rows} tokens holds at once: one layer's activations, and the logits if it
     * computes a loss from them ({@link #tokenNll}: a chunk of rows at a time), for how many passes run side by side
     * ({@link come4j.tensor.Parallel#together}).
     */
    public long passBytes(int rows, boolean logits) {
        ModelConfig c = config;
        return 4L * rows * (4L * c.hiddenSize() + c.qDim() + 2L * c.kvDim() + 3L * c.intermediateSize())
                + (logits ? 4L * Math.min(rows, logitRows()) * c.vocabSize() : 0);
    }

    /** Full forward pass of a batch of sequences of T tokens (ids concatenated): logits [batch * T x vocab]. */
    public float[] forward(int[] ids, int batch) {
        return logits(finalStates(ids, batch), ids.length);
    }

    /** The final-normed hidden states of a full forward pass of a batch of sequences (ids concatenated): [batch * T x d]. */
    public float[] finalStates(int[] ids, int batch) {
        int T = ids.length / batch;
        float[] h = embed(ids, batch, 0);
        for (int i = 0; i < layers.size(); i++) layer(i, h, batch, T, 0, null, LayerHooks.NONE);
        return finalNorm(h, 0, ids.length);
    }
}
