package come4j.model;

import java.util.List;

/**
 * Calibration windows flowing through a model one layer at a time: after {@link #advance} has run k layers, the
 * hidden states of every window at boundary k are available, and hooks see each layer's o_proj and down_proj inputs
 * as it runs. Memory: the windows' activations plus one layer's working buffers for {@code batch} windows.
 */
public final class LayerStream {
    private final Transformer model;
    private final float[][] hidden; // per window, [T x d]
    private final int T, batch;
    private int position;

    public LayerStream(Transformer model, List<int[]> windows, int batch) {
        this.model = model;
        this.T = windows.get(0).length;
        this.batch = batch;
        this.hidden = new float[windows.size()][];
        for (int w = 0; w < hidden.length; w++) {
            if (windows.get(w).length != T) throw new IllegalArgumentException("windows must have equal lengths");
            hidden[w] = model.embed(windows.get(w));
        }
    }

    /** Layers applied so far: the current hidden states are boundary hs[position]. */
    public int position() {
        return position;
    }

    public int windows() {
        return hidden.length;
    }

    public int tokensPerWindow() {
        return T;
    }

    /** The residual stream of window w at the current boundary, [T x d] (do not modify). */
    public float[] hidden(int w) {
        return hidden[w];
    }

    /**
     * Window w at the current boundary in the Hugging Face hidden_states convention: after the last layer that is the
     * final-normed output, otherwise the residual stream.
     */
    public float[] boundary(int w) {
        return position == model.numLayers() ? model.finalNorm(hidden[w], 0, T) : hidden[w];
    }

    /** Runs layer {@link #position()} over all windows, batch by batch; hooks receive [rows x width] per batch. */
    public void advance(LayerHooks hooks) {
        if (position >= model.numLayers()) throw new IllegalStateException("every layer has run");
        int d = model.config().hiddenSize();
        for (int w0 = 0; w0 < hidden.length; w0 += batch) {
            int b = Math.min(batch, hidden.length - w0);
            float[] h = new float[b * T * d];
            for (int i = 0; i < b; i++) System.arraycopy(hidden[w0 + i], 0, h, i * T * d, T * d);
            model.layer(position, h, b, T, 0, null, hooks);
            for (int i = 0; i < b; i++) System.arraycopy(h, i * T * d, hidden[w0 + i], 0, T * d);
        }
        position++;
    }
}
