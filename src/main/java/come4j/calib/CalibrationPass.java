package come4j.calib;

import come4j.io.BadInputException;
import come4j.io.Finite;
import come4j.io.Progress;
import come4j.model.LayerHooks;
import come4j.model.NextTokenLoss;
import come4j.model.Transformer;
import come4j.tensor.Parallel;
import java.util.ArrayList;
import java.util.List;

/**
 * Streams the calibration windows through a model layer by layer, `batch` windows at a time, keeping every boundary
 * in the {@link ActivationCache}. Statistics of a layer (BI, mean |o_proj input|, mean |down_proj input|) are taken
 * while it runs; SBI and the calibration NLL are read off the cached boundaries afterwards. BI and SBI are means over
 * the tokens they compare (format 2 of come-merge.json; format 1 recorded sums). Each pass shows a progress bar.
 */
public final class CalibrationPass {
    /**
     * What one layer's run over the windows measured: Σ_t (1 − cos) over its {@code tokens} tokens (BI is their mean),
     * mean |o_proj input| and mean |down_proj input| per channel.
     */
    public record LayerStats(double biSum, long tokens, double[] attentionMeanAbs, double[] ffnMeanAbs) {
        /** BI: the mean over tokens of 1 − cos(input, output). */
        public double bi() {
            return biSum / tokens;
        }
    }

    private final List<int[]> windows;
    private final ActivationCache cache;
    private final int batch, T;

    public CalibrationPass(CalibrationSet set, ActivationCache cache, int batch) {
        this.windows = set.windows();
        this.cache = cache;
        this.batch = batch;
        this.T = set.seqLen();
    }

    /** Boundary 0: the embeddings. */
    public void embed(Transformer m) {
        for (int w = 0; w < windows.size(); w++) cache.put(0, w, m.embed(windows.get(w)), 0);
    }

    /** Runs layers [from, L), storing boundaries from+1 .. L; returns the statistics of those layers. */
    public List<LayerStats> run(Transformer m, int from) {
        int L = m.numLayers(), d = m.config().hiddenSize();
        List<LayerStats> stats = new ArrayList<>();
        try (Progress bar = Progress.start("statistics, layers " + from + ".." + (L - 1), (long) (L - from) * windows.size(), "window-layers")) {
            for (int i = from; i < L; i++) stats.add(runLayer(m, i, L, d, bar));
        }
        return stats;
    }

    /** What one batch's pass through a layer leaves for the statistics: the hooks' inputs and its block influence. */
    private record Pass(float[] attn, float[] ffn, double bi) {}

    /** Batches run side by side ({@link Parallel#sideBySide}); their statistics are added in window order. */
    private LayerStats runLayer(Transformer m, int layer, int L, int d, Progress bar) {
        MeanAbs attn = new MeanAbs(m.config().qDim()), ffn = new MeanAbs(m.config().intermediateSize());
        double[] bi = {0};
        int rows = batch * T, batches = (windows.size() + batch - 1) / batch;
        Parallel.sideBySide(batches, Parallel.together(m.passBytes(rows, false) + 8L * rows * d), j -> {
            int w0 = j * batch, b = windowsIn(j);
            float[] h = load(layer, w0, b, d), in = h.clone();
            float[][] kept = new float[2][];
            m.layer(layer, h, b, T, 0, null, new LayerHooks() {
                public void attentionOutput(int l, float[] x, int n) { kept[0] = x; }
                public void ffnInner(int l, float[] x, int n) { kept[1] = x; }
            });
            requireFinite(h, layer, w0, d);
            float[] out = layer == L - 1 ? m.finalNorm(h, 0, b * T) : h; // hs[L] is final-normed (Q2)
            double influence = Similarity.blockInfluence(in, out, b * T, d);
            for (int k = 0; k < b; k++) cache.put(layer + 1, w0 + k, h, k * T * d);
            return new Pass(kept[0], kept[1], influence);
        }, (p, j) -> {
            int b = windowsIn(j);
            attn.add(p.attn, b * T);
            ffn.add(p.ffn, b * T);
            bi[0] += p.bi;
            bar.step(b);
        });
        return new LayerStats(bi[0], (long) windows.size() * T, attn.means(), ffn.means());
    }

    /** Windows in batch j (the last batch may be short). */
    private int windowsIn(int j) {
        return Math.min(batch, windows.size() - j * batch);
    }

    /** Mean token NLL of the model on the windows, from the cached last boundary. */
    public double nll(Transformer m) {
        return nllFrom(m, m.numLayers());
    }

    /** Mean token NLL when layers [from, L) of m run on the cached boundary `from` (nothing is stored). */
    public double nllFrom(Transformer m, int from) {
        String label = from < m.numLayers() ? "calibration NLL, layers " + from + ".." + (m.numLayers() - 1) : "calibration NLL";
        try (Progress bar = Progress.start(label, nllWork(m.numLayers(), from), "window-layers")) {
            return nllFrom(m, from, bar);
        }
    }

    /** Work units of {@link #nllFrom} on a model of {@code layers} layers: windows times (layers run + the LM head). */
    public long nllWork(int layers, int from) {
        return (long) windows.size() * (layers - from + 1);
    }

    /** {@link #nllFrom(Transformer, int)}, advancing {@code bar} by {@link #nllWork} units. */
    public double nllFrom(Transformer m, int from, Progress bar) {
        int d = m.config().hiddenSize(), batches = (windows.size() + batch - 1) / batch;
        double[] total = {0};
        Parallel.sideBySide(batches, Parallel.together(m.passBytes(batch * T, true)), j -> {
            int w0 = j * batch, b = windowsIn(j);
            float[] h = load(from, w0, b, d);
            for (int i = from; i < m.numLayers(); i++) m.layer(i, h, b, T, 0, null, LayerHooks.NONE);
            int[] ids = new int[b * T];
            for (int k = 0; k < b; k++) System.arraycopy(windows.get(w0 + k), 0, ids, k * T, T);
            return NextTokenLoss.sumOfWindowLosses(m, m.finalNorm(h, 0, b * T), ids, b, T);
        }, (loss, j) -> {
            total[0] += loss;
            bar.step((long) windowsIn(j) * (m.numLayers() - from + 1));
        });
        double sum = total[0];
        if (!Double.isFinite(sum)) throw new BadInputException(null, "calibration NLL is " + sum + ": the logits overflow (layers " + from + ".." + (m.numLayers() - 1) + " ran)");
        return sum / windows.size();
    }

    /** An overflow (e.g. of fp16 weights' products) at a layer boundary is reported there, not as a NaN score later. */
    private void requireFinite(float[] h, int layer, int w0, int d) {
        int bad = Finite.firstNonFinite(h);
        if (bad >= 0)
            throw new BadInputException(null, "hidden states after layer " + layer + " hold " + h[bad] + " on calibration window "
                    + (w0 + bad / (T * d)) + ": the model overflows on this text");
    }

    /**
     * LaCo's similarity: the mean over windows of cos(flattened final-normed output of layers [from, L) of m run on the
     * cached boundary `from`, flattened final-normed cached boundary `reference`), the reference being the original
     * model's last boundary. Nothing is stored.
     */
    public double outputCosine(Transformer m, int from, int reference) {
        int d = m.config().hiddenSize();
        double sum = 0;
        try (Progress bar = Progress.start("output cosine, layers " + from + ".." + (m.numLayers() - 1), windows.size(), "windows")) {
            for (int w0 = 0; w0 < windows.size(); w0 += batch) {
                int b = Math.min(batch, windows.size() - w0);
                float[] h = load(from, w0, b, d);
                for (int i = from; i < m.numLayers(); i++) m.layer(i, h, b, T, 0, null, LayerHooks.NONE);
                float[] out = m.finalNorm(h, 0, b * T), ref = m.finalNorm(load(reference, w0, b, d), 0, b * T);
                for (int k = 0; k < b; k++) sum += Similarity.cosine(out, k * T * d, ref, k * T * d, T * d);
                bar.step(b);
            }
        }
        return sum / windows.size();
    }

    /** Tokens [t0, t0 + rows) of window w at a cached boundary, [rows x d]. */
    public float[] rows(int boundary, int w, int t0, int rows, int d) {
        float[] x = new float[rows * d];
        cache.getRows(boundary, w, t0, rows, x, 0);
        return x;
    }

    public int windowCount() {
        return windows.size();
    }

    public int tokensPerWindow() {
        return T;
    }

    /**
     * SBI_i for every pair (i, i+1): the mean angular distance between boundary i and boundary i+2 (the final-normed
     * output at the end), over the last token of each window (CoMe) or over all tokens (CoMe-P).
     */
    public double[] sbi(Transformer m, boolean lastTokenOnly) {
        int L = m.numLayers(), d = m.config().hiddenSize();
        double[] sbi = new double[L - 1];
        int t0 = lastTokenOnly ? T - 1 : 0, rows = T - t0;
        float[] x = new float[rows * d], y = new float[rows * d];
        for (int w = 0; w < windows.size(); w++)
            for (int i = 0; i + 1 < L; i++) {
                cache.getRows(i, w, t0, rows, x, 0);
                cache.getRows(i + 2, w, t0, rows, y, 0);
                float[] out = i + 2 == L ? m.finalNorm(y, 0, rows) : y;
                sbi[i] += Similarity.angularDistance(x, out, rows, d);
            }
        for (int i = 0; i < sbi.length; i++) sbi[i] /= (double) windows.size() * rows; // a mean over the tokens compared
        return sbi;
    }

    private float[] load(int boundary, int w0, int b, int d) {
        float[] h = new float[b * T * d];
        for (int k = 0; k < b; k++) cache.get(boundary, w0 + k, h, k * T * d);
        return h;
    }

    /** Mean |x| per channel over all rows seen, accumulated in double. */
    private static final class MeanAbs {
        private final double[] sum;
        private long rows;

        MeanAbs(int width) {
            sum = new double[width];
        }

        void add(float[] x, int n) {
            int w = sum.length;
            for (int r = 0; r < n; r++) for (int c = 0; c < w; c++) sum[c] += Math.abs(x[r * w + c]);
            rows += n;
        }

        double[] means() {
            double[] m = new double[sum.length];
            for (int c = 0; c < m.length; c++) m[c] = sum[c] / rows;
            return m;
        }
    }
}
