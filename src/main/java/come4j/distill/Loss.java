package come4j.distill;

import come4j.tensor.Parallel;

/**
 * The distillation losses of method.md §14.2 between a student output ys and the teacher's output yt ([rows x d]),
 * averaged over the rows (tokens). Each returns the loss and writes its gradient with respect to ys.
 */
public enum Loss {
    /** mean_t KL(softmax(yt/τ) ‖ softmax(ys/τ)), softmax over the hidden dimension. */
    KL_HIDDEN("kl_hidden"),
    /** mean over tokens and dimensions of (ys − yt)². */
    MSE("mse"),
    /** KL over the vocabulary after the frozen final norm and LM head, applied to both sides. */
    LOGIT_LENS_KL("logit_lens_kl");

    public final String id;

    Loss(String id) {
        this.id = id;
    }

    public static Loss of(String id) {
        for (Loss l : values()) if (l.id.equals(id)) return l;
        throw come4j.io.Suggestion.unknown("loss", id, java.util.Arrays.stream(values()).map(l -> l.id).toList());
    }

    /**
     * The frozen final norm and LM head ([vocab x e]) the logit-lens loss and the LM loss read through: RMSNorm, or
     * LayerNorm with its bias (OPT; none at all in post-norm OPT), then OPT-350m's project_out ([e x d]) when the
     * embeddings are narrower than the hidden size.
     */
    public record Head(Arr norm, Arr normBias, Arr projectOut, Arr lmHead, int vocab, double eps) {
        /** An RMSNorm and a head on the hidden size. */
        public Head(Arr norm, Arr lmHead, int vocab, double eps) {
            this(norm, null, null, lmHead, vocab, eps);
        }

        /** A checkpoint's final norm and LM head (the embeddings when they are tied), as fp32. */
        public static Head of(come4j.model.Checkpoint ckpt) {
            var c = ckpt.config();
            var layout = c.layout();
            var names = c.schema().family().ends();
            int d = c.hiddenSize(), e = layout.embedDim();
            var w = ckpt.tensor(c.tieEmbeddings() ? names.embeddings() : names.lmHead(), c.vocabSize(), e);
            boolean finalNorm = layout.preNorm(), bias = finalNorm && names.finalNormBias() != null;
            return new Head(finalNorm ? Arr.of(come4j.model.DecoderLayer.normScale(c, ckpt.tensor(names.finalNorm(), d).toFloat())) : null, // Gemma: 1 + w
                    bias ? Arr.of(ckpt.tensor(names.finalNormBias(), d).toFloat()) : null,
                    e != d ? Arr.of(ckpt.tensor(names.projectOut(), e, d).toFloat()) : null, Arr.of(w.toFloat()), c.vocabSize(), c.rmsNormEps());
        }

        /** Logits of rows [r0, r0 + n) of h ([rows x d]); inv receives the norm's 1/rms (1/std) per row, x the rows. */
        Arr logits(Arr h, int r0, int n, int d, Arr x, Arr inv) {
            x.copyFrom(h, r0 * d, 0, n * d);
            Arr y = norm == null ? x : normBias != null ? LayerBackprop.layerNorm(x, n, d, norm, normBias, eps, x.zeros(n), inv)
                    : LayerBackprop.rmsNorm(x, n, d, norm, eps, inv);
            int e = width(d);
            if (projectOut != null) y = LayerBackprop.linear(y, n, d, e, projectOut, null);
            return LayerBackprop.linear(y, n, e, vocab, lmHead, null);
        }

        /** The gradient of those rows given the logits' gradient dz, into dh[r0 * d ..]. */
        void backward(Arr dz, Arr x, Arr inv, int r0, int n, int d, Arr dh) {
            int e = width(d);
            Arr dn = dz.zeros(n * e), dx = dz.zeros(n * d);
            Arr.matmul(n, e, vocab, dz, 0, vocab, 1, lmHead, 0, 1, e, dn, 0, e, false, true);
            if (projectOut != null) {
                Arr dp = dz.zeros(n * d);
                Arr.matmul(n, d, e, dn, 0, e, 1, projectOut, 0, 1, d, dp, 0, d, false, true);
                dn = dp;
            }
            if (norm == null) dx = dn;
            else if (normBias != null) { // the rows' means are recomputed from x
                Arr mean = dz.zeros(n);
                for (int r = 0; r < n; r++) {
                    double s = 0;
                    for (int i = 0; i < d; i++) s += x.get(r * d + i);
                    mean.set(r, s / d);
                }
                LayerBackprop.layerNormBackward(dn, x, mean, inv, n, d, norm, null, null, dx);
            } else LayerBackprop.rmsNormBackward(dn, x, inv, n, d, norm, null, dx);
            dh.copyFrom(dx, 0, r0 * d, n * d);
        }

        /** The LM head's input width: the embedding width (project_out's output), else the hidden size. */
        private int width(int d) {
            return projectOut == null ? d : projectOut.length() / d;
        }
    }

    /**
     * The language-modelling loss of a batch of sequences of T tokens: mean over the batch·(T−1) next-token predictions
     * of −log softmax(logits)[next id], through the final norm and head; dh ([rows x d]) receives its gradient (the last
     * token of each sequence predicts nothing and gets zero).
     */
    public static double crossEntropy(Arr h, int[] ids, int T, Head head, int d, Arr dh) {
        int rows = ids.length, V = head.vocab(), count = rows / T * (T - 1);
        double total = 0;
        for (int r0 = 0; r0 < rows; r0 += CHUNK) {
            int n = Math.min(CHUNK, rows - r0);
            Arr x = h.zeros(n * d), inv = h.zeros(n);
            Arr z = head.logits(h, r0, n, d, x, inv);
            for (int r = 0; r < n; r++) {
                int row = r0 + r, o = r * V;
                if (row % T == T - 1) {
                    for (int v = 0; v < V; v++) z.set(o + v, 0);
                    continue;
                }
                double lse = z.logSumExp(o, V);
                int target = ids[row + 1];
                total += lse - z.get(o + target);
                z.expShift(o, V, lse);
                for (int v = 0; v < V; v++) z.set(o + v, z.get(o + v) / count);
                z.add(o + target, -1.0 / count);
            }
            head.backward(z, x, inv, r0, n, d, dh);
        }
        return total / count;
    }

    private static final int CHUNK = 256; // rows of logits at a time: memory stays rows-independent

    /** Loss of ys against yt; dys receives its gradient (overwritten). head: only for {@link #LOGIT_LENS_KL}. */
    public double apply(Arr ys, Arr yt, int rows, int d, double tau, Head head, Arr dys) {
        return switch (this) {
            case MSE -> {
                double sum = 0, n = (double) rows * d;
                for (int i = 0; i < rows * d; i++) {
                    double e = ys.get(i) - yt.get(i);
                    sum += e * e;
                    dys.set(i, 2 * e / n);
                }
                yield sum / n;
            }
            case KL_HIDDEN -> kl(ys, 0, yt, 0, rows, d, tau, rows, dys, 0);
            case LOGIT_LENS_KL -> logitLens(ys, yt, rows, d, tau, head, dys);
        };
    }

    private static double logitLens(Arr ys, Arr yt, int rows, int d, double tau, Head head, Arr dys) {
        int V = head.vocab();
        double total = 0;
        for (int r0 = 0; r0 < rows; r0 += CHUNK) {
            int n = Math.min(CHUNK, rows - r0);
            Arr xs = ys.zeros(n * d), xt = ys.zeros(n * d), inv = ys.zeros(n), unused = ys.zeros(n);
            Arr zs = head.logits(ys, r0, n, d, xs, inv), zt = head.logits(yt, r0, n, d, xt, unused);
            Arr dz = ys.zeros(n * V);
            total += kl(zs, 0, zt, 0, n, V, tau, rows, dz, 0);
            head.backward(dz, xs, inv, r0, n, d, dys);
        }
        return total;
    }

    /**
     * Σ over rows of KL(softmax(t/τ) ‖ softmax(s/τ)) divided by {@code denom}; ds = (softmax(s/τ) − softmax(t/τ)) /
     * (τ · denom).
     */
    private static double kl(Arr s, int sOff, Arr t, int tOff, int rows, int n, double tau, int denom, Arr ds, int dOff) {
        double[] perRow = new double[rows];
        Parallel.forRows(rows, 16, (r0, r1) -> {
            Arr p = s.zeros(n), q = s.zeros(n); // scaled logits, then probabilities
            for (int r = r0; r < r1; r++) {
                int so = sOff + r * n, to = tOff + r * n, o = dOff + r * n;
                for (int i = 0; i < n; i++) {
                    p.set(i, t.get(to + i) / tau);
                    q.set(i, s.get(so + i) / tau);
                }
                double lt = p.logSumExp(0, n), ls = q.logSumExp(0, n);
                for (int i = 0; i < n; i++) ds.set(o + i, p.get(i) - lt - (q.get(i) - ls)); // log P − log Q, for now
                p.expShift(0, n, lt);
                q.expShift(0, n, ls);
                double sum = 0;
                for (int i = 0; i < n; i++) {
                    sum += p.get(i) * ds.get(o + i);
                    ds.set(o + i, (q.get(i) - p.get(i)) / (tau * denom));
                }
                perRow[r] = sum;
            }
        });
        double total = 0;
        for (double x : perRow) total += x;
        return total / denom;
    }

}
