package come4j.distill;

import come4j.model.ModelConfig;
import come4j.model.Ropes;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Gradients of the language-modelling loss with respect to every decoder layer's weights, summed over batches (each
 * batch's loss is its mean next-token cross-entropy), computed one layer at a time from the top: only one layer's
 * parameters and gradients are in memory; the hidden states entering each layer and the gradients leaving it are
 * read from and written to {@link Boundaries} (disk-backed in production). Taylor importance needs exactly this.
 */
public final class ModelGradient {
    /** Hidden states (or their gradients) at boundary k (0 = embeddings, L = the un-normed last output) of a batch. */
    public interface Boundaries {
        Arr get(int k, int batch);

        void put(int k, int batch, Arr value);
    }

    /** Receives each layer's parameters and summed gradient, top layer first. */
    public interface Sink {
        void layer(int layer, LayerParams params, LayerParams gradient);
    }

    private ModelGradient() {}

    /**
     * Backpropagates the loss of every batch (token ids of batch·T tokens) through the head and layers L−1 … 0;
     * {@code acts} must hold boundaries 0 … L of every batch; {@code grads} receives the gradients at boundaries.
     * Returns the summed batch losses.
     */
    public static double run(ModelConfig c, IntFunction<LayerParams> params, Loss.Head head, List<int[]> batches, int T,
                             Boundaries acts, Boundaries grads, Sink sink) {
        int L = c.numLayers(), d = c.hiddenSize();
        Ropes ropes = Ropes.of(c);
        double loss = 0;
        for (int b = 0; b < batches.size(); b++) {
            Arr h = acts.get(L, b), dh = h.zeros(h.length());
            loss += Loss.crossEntropy(h, batches.get(b), T, head, d, dh);
            grads.put(L, b, dh);
        }
        for (int l = L - 1; l >= 0; l--) {
            LayerParams p = params.apply(l), g = p.zeros();
            int window = c.slidingWindow()[l];
            for (int b = 0; b < batches.size(); b++) {
                int n = batches.get(b).length / T;
                LayerBackprop.Tape tape = LayerBackprop.forward(c, ropes.forWindow(window), window, p, acts.get(l, b), n, T);
                grads.put(l, b, LayerBackprop.backward(c, ropes.forWindow(window), window, p, tape, grads.get(l + 1, b), g));
            }
            sink.layer(l, p, g);
        }
        return loss;
    }
}
