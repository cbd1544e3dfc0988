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

    /** The frozen final RMSNorm and LM head ([vocab x d]) the logit-lens loss reads through. */
    public record Head(Arr norm, Arr lmHead, int vocab, double eps) {
        /** A checkpoint's final norm and LM head (the embeddings when they are tied), as fp32. */
        public static Head of(come4j.io.Checkpoint ckpt) {
            var c = ckpt.config();
            var family = c.schema().family();
            // OPT's head: LayerNorm with bias, then project_out; Phi-3's is the LLaMA family's (final RMSNorm, LM head)
            if (family != come4j.model.Family.LLAMA && family != come4j.model.Family.GEMMA3 && family != come4j.model.Family.PHI3)
                throw new come4j.io.BadInputException(null, "the logit-lens loss and Taylor importance read the LM head through a "
                        + "final RMSNorm (LLaMA family, Gemma 3, Phi-3); " + c.architecture() + " is not supported by them yet");
            var names = c.schema().family().ends();
            var w = ckpt.tensor(c.tieEmbeddings() ? names.embeddings() : names.lmHead(), c.vocabSize(), c.hiddenSize());
            float[] norm = come4j.model.DecoderLayer.normScale(c, ckpt.tensor(names.finalNorm(), c.hiddenSize()).toFloat()); // Gemma: 1 + w
            return new Head(Arr.of(norm), Arr.of(w.toFloat()), c.vocabSize(), c.rmsNormEps());
        }

        /** Logits of rows [r0, r0 + n) of h ([rows x d]); inv receives the norm's 1/rms per row, x the rows. */
        Arr logits(Arr h, int r0, int n, int d, Arr x, Arr inv) {
            x.copyFrom(h, r0 * d, 0, n * d);
            return LayerBackprop.linear(LayerBackprop.rmsNorm(x, n, d, norm, eps, inv), n, d, vocab, lmHead, null);
        }

        /** The gradient of those rows given the logits' gradient dz, into dh[r0 * d ..]. */
        void backward(Arr dz, Arr x, Arr inv, int r0, int n, int d, Arr dh) {
            Arr dn = dz.zeros(n * d), dx = dz.zeros(n * d);
            Arr.matmul(n, d, vocab, dz, 0, vocab, 1, lmHead, 0, 1, d, dn, 0, d, false, true);
            LayerBackprop.rmsNormBackward(dn, x, inv, n, d, norm, null, dx);
            dh.copyFrom(dx, 0, r0 * d, n * d);
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
