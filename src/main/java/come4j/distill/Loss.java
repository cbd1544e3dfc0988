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
        throw new IllegalArgumentException("unknown loss '" + id + "' (kl_hidden, mse, logit_lens_kl)");
    }

    /** The frozen final RMSNorm and LM head ([vocab x d]) the logit-lens loss reads through. */
    public record Head(Arr norm, Arr lmHead, int vocab, double eps) {
        /** A checkpoint's final norm and LM head (the embeddings when they are tied), as fp32. */
        public static Head of(come4j.io.Checkpoint ckpt) {
            var c = ckpt.config();
            var w = ckpt.tensor(c.tieEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight", c.vocabSize(), c.hiddenSize());
            return new Head(Arr.of(ckpt.tensor("model.norm.weight", c.hiddenSize()).toFloat()), Arr.of(w.toFloat()), c.vocabSize(), c.rmsNormEps());
        }
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
            xs.copyFrom(ys, r0 * d, 0, n * d);
            xt.copyFrom(yt, r0 * d, 0, n * d);
            Arr ns = LayerBackprop.rmsNorm(xs, n, d, head.norm(), head.eps(), inv);
            Arr nt = LayerBackprop.rmsNorm(xt, n, d, head.norm(), head.eps(), unused);
            Arr zs = LayerBackprop.linear(ns, n, d, V, head.lmHead(), null);
            Arr zt = LayerBackprop.linear(nt, n, d, V, head.lmHead(), null);
            Arr dz = ys.zeros(n * V);
            total += kl(zs, 0, zt, 0, n, V, tau, rows, dz, 0);
            Arr dn = ys.zeros(n * d);
            Arr.matmul(n, d, V, dz, 0, V, 1, head.lmHead(), 0, 1, d, dn, 0, d, false, true);
            Arr dx = ys.zeros(n * d);
            LayerBackprop.rmsNormBackward(dn, xs, inv, n, d, head.norm(), null, dx);
            dys.copyFrom(dx, 0, r0 * d, n * d);
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
