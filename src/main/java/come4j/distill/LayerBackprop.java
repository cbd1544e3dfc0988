package come4j.distill;

import static come4j.model.Role.*;

import come4j.model.ModelConfig;
import come4j.model.Role;
import come4j.model.Rope;
import come4j.tensor.Parallel;

/**
 * The decoder layer of {@code model.DecoderLayer} for training, over batches of sequences of T tokens starting at
 * position 0: a forward pass that keeps what the backward pass needs, and the backward pass itself. Same math as the
 * inference path (which stays separate: it is fp32-only, cache-aware and keeps nothing), written once against
 * {@link Arr} so the finite-difference checks run it in fp64. Attention keeps only its output and each query's
 * log-sum-exp; the probabilities are recomputed in the backward pass. The config's layout decides RMSNorm or LayerNorm
 * with bias, RoPE or none (learned positions), pre- or post-norm; the FFN is SwiGLU when the layer has a gate, else ReLU.
 */
public final class LayerBackprop {
    private LayerBackprop() {}

    /** The activations one forward pass saved; {@link #out} is the layer's output. */
    public static final class Tape {
        final int batch, T;
        final Arr x, mean1, inv1, xn1, qPre, invQ, kPre, invK, q, k, v, attn, lse, a, u, mean2, inv2, xn2, gate, up, act, b;
        final Arr attnOut, inv3, ffnOut, inv4; // Gemma 3: the sublayer outputs before their output norms
        public final Arr out;

        private Tape(int batch, int T, Arr... t) {
            this.batch = batch;
            this.T = T;
            x = t[0]; mean1 = t[1]; inv1 = t[2]; xn1 = t[3]; qPre = t[4]; invQ = t[5]; kPre = t[6]; invK = t[7]; q = t[8];
            k = t[9]; v = t[10]; attn = t[11]; lse = t[12]; a = t[13]; u = t[14]; mean2 = t[15]; inv2 = t[16]; xn2 = t[17];
            gate = t[18]; up = t[19]; act = t[20]; b = t[21]; out = t[22]; attnOut = t[23]; inv3 = t[24]; ffnOut = t[25]; inv4 = t[26];
        }
    }

    /**
     * Forward pass of x ([batch * T x d], not modified) through the layer with parameters p. Pre-norm: a = x + attn(n1(x)),
     * u = a, b = u + ffn(n2(u)), out = b; post-norm (OPT-350m): u = n1(a) with a = x + attn(x), out = n2(b) with b = u + ffn(u).
     * Gemma 3 (pre-norm) norms the sublayer outputs too: a = x + n3(attn(n1(x))), b = u + n4(ffn(n2(u))).
     */
    public static Tape forward(ModelConfig c, Rope rope, int window, LayerParams p, Arr x, int batch, int T) {
        int rows = batch * T, d = c.hiddenSize(), f = c.intermediateSize(), qd = c.qDim(), kvd = c.kvDim();
        int hd = c.headDim(), heads = c.numHeads(), kvHeads = c.numKvHeads();
        double eps = c.rmsNormEps();
        boolean pre = c.layout().preNorm(), ln = c.layout().layerNorm();
        Arr inv1 = x.zeros(rows), mean1 = ln ? x.zeros(rows) : null;
        Arr xn1 = pre ? norm(c, x, rows, p.get(INPUT_NORM), p.get(INPUT_NORM_BIAS), mean1, inv1) : x;
        Arr q = linear(xn1, rows, d, qd, p.get(Q), p.get(Q_BIAS));
        Arr k = linear(xn1, rows, d, kvd, p.get(K), p.get(K_BIAS));
        Arr v = linear(xn1, rows, d, kvd, p.get(V), p.get(V_BIAS));
        Arr qPre = null, kPre = null, invQ = null, invK = null;
        if (c.qkNorm()) {
            qPre = q;
            kPre = k;
            invQ = x.zeros(rows * heads);
            invK = x.zeros(rows * kvHeads);
            q = rmsNorm(qPre, rows * heads, hd, scale(c, p.get(Q_NORM)), eps, invQ);
            k = rmsNorm(kPre, rows * kvHeads, hd, scale(c, p.get(K_NORM)), eps, invK);
        }
        if (!c.layout().learnedPositions()) {
            float[][] cs = rope.tables(T);
            rotate(q, rows, T, heads, hd, rope.half(), cs, false);
            rotate(k, rows, T, kvHeads, hd, rope.half(), cs, false);
        }
        Arr attn = x.zeros(rows * qd), lse = x.zeros(batch * heads * T);
        attention(c, window, q, k, v, batch, T, attn, lse);
        Arr a = x.copy(), attnOut = null, inv3 = null;
        if (p.get(ATTENTION_OUTPUT_NORM) == null) linearInto(attn, rows, qd, d, p.get(O), p.get(O_BIAS), a);
        else {
            attnOut = linear(attn, rows, qd, d, p.get(O), p.get(O_BIAS));
            inv3 = x.zeros(rows);
            a.axpy(1, norm(c, attnOut, rows, p.get(ATTENTION_OUTPUT_NORM), null, null, inv3));
        }
        Arr u = pre ? a : norm(c, a, rows, p.get(INPUT_NORM), p.get(INPUT_NORM_BIAS), mean1, inv1);
        Arr inv2 = x.zeros(rows), mean2 = ln ? x.zeros(rows) : null;
        Arr xn2 = pre ? norm(c, u, rows, p.get(POST_ATTENTION_NORM), p.get(POST_ATTENTION_NORM_BIAS), mean2, inv2) : u;
        Arr gate = p.get(GATE) == null ? null : linear(xn2, rows, d, f, p.get(GATE), p.get(GATE_BIAS));
        Arr up = linear(xn2, rows, d, f, p.get(UP), p.get(UP_BIAS));
        Arr act = x.zeros(rows * f);
        boolean gelu = c.layout().gemma() != null;
        Parallel.forRows(rows, 16, (r0, r1) -> {
            if (gate == null) {
                for (int i = r0 * f; i < r1 * f; i++) act.set(i, Math.max(up.get(i), 0));
                return;
            }
            if (gelu) {
                for (int i = r0 * f; i < r1 * f; i++) act.set(i, geluTanh(gate.get(i)) * up.get(i));
                return;
            }
            act.sigmoidOf(gate, r0 * f, (r1 - r0) * f);
            for (int i = r0 * f; i < r1 * f; i++) act.set(i, gate.get(i) * act.get(i) * up.get(i));
        });
        Arr b = u.copy(), ffnOut = null, inv4 = null;
        if (p.get(FFN_OUTPUT_NORM) == null) linearInto(act, rows, f, d, p.get(DOWN), p.get(DOWN_BIAS), b);
        else {
            ffnOut = linear(act, rows, f, d, p.get(DOWN), p.get(DOWN_BIAS));
            inv4 = x.zeros(rows);
            b.axpy(1, norm(c, ffnOut, rows, p.get(FFN_OUTPUT_NORM), null, null, inv4));
        }
        Arr out = pre ? b : norm(c, b, rows, p.get(POST_ATTENTION_NORM), p.get(POST_ATTENTION_NORM_BIAS), mean2, inv2);
        return new Tape(batch, T, x, mean1, inv1, xn1, qPre, invQ, kPre, invK, q, k, v, attn, lse, a, u, mean2, inv2, xn2, gate, up,
                act, b, out, attnOut, inv3, ffnOut, inv4);
    }

    /** Backward pass: adds the parameters' gradients to g and returns the gradient of the input. */
    public static Arr backward(ModelConfig c, Rope rope, int window, LayerParams p, Tape t, Arr dOut, LayerParams g) {
        int batch = t.batch, T = t.T, rows = batch * T;
        int d = c.hiddenSize(), f = c.intermediateSize(), qd = c.qDim(), kvd = c.kvDim(), hd = c.headDim();
        boolean pre = c.layout().preNorm();
        // FFN: b = u + W_down act(xn2); out = b (pre-norm) or n2(b)
        Arr dB = dOut;
        if (!pre) {
            dB = dOut.zeros(rows * d);
            normBackward(c, dOut, t.b, t.mean2, t.inv2, rows, p.get(POST_ATTENTION_NORM), g.get(POST_ATTENTION_NORM),
                    g.get(POST_ATTENTION_NORM_BIAS), dB);
        }
        Arr dAct = linearBackward(outputNormBackward(c, dB, t.ffnOut, t.inv4, rows, p, g, FFN_OUTPUT_NORM), t.act, rows, f, d,
                p.get(DOWN), g.get(DOWN), g.get(DOWN_BIAS));
        Arr dXn2;
        if (t.gate == null) { // ReLU: the gradient passes where up > 0
            Arr dUp = dAct.zeros(rows * f);
            for (int i = 0; i < rows * f; i++) if (t.up.get(i) > 0) dUp.set(i, dAct.get(i));
            dXn2 = linearBackward(dUp, t.xn2, rows, d, f, p.get(UP), g.get(UP), g.get(UP_BIAS));
        } else {
            Arr dGate = dAct.zeros(rows * f), dUp = dAct.zeros(rows * f);
            boolean gelu = c.layout().gemma() != null;
            Parallel.forRows(rows, 16, (r0, r1) -> {
                if (gelu) { // GeGLU: d/dg gelu_tanh(g) · up
                    for (int i = r0 * f; i < r1 * f; i++) {
                        double a = t.gate.get(i), da = dAct.get(i);
                        dUp.set(i, da * geluTanh(a));
                        dGate.set(i, da * t.up.get(i) * geluTanhDerivative(a));
                    }
                    return;
                }
                dUp.sigmoidOf(t.gate, r0 * f, (r1 - r0) * f); // σ(gate), overwritten below
                for (int i = r0 * f; i < r1 * f; i++) {
                    double a = t.gate.get(i), s = dUp.get(i), da = dAct.get(i);
                    dUp.set(i, da * a * s);
                    dGate.set(i, da * t.up.get(i) * s * (1 + a * (1 - s)));
                }
            });
            dXn2 = linearBackward(dGate, t.xn2, rows, d, f, p.get(GATE), g.get(GATE), g.get(GATE_BIAS));
            dXn2.axpy(1, linearBackward(dUp, t.xn2, rows, d, f, p.get(UP), g.get(UP), g.get(UP_BIAS)));
        }
        Arr du = dB.copy();
        if (pre) normBackward(c, dXn2, t.u, t.mean2, t.inv2, rows, p.get(POST_ATTENTION_NORM), g.get(POST_ATTENTION_NORM),
                g.get(POST_ATTENTION_NORM_BIAS), du);
        else du.axpy(1, dXn2);
        // Attention: a = x + W_o attn; u = a (pre-norm) or n1(a)
        Arr dA = du;
        if (!pre) {
            dA = du.zeros(rows * d);
            normBackward(c, du, t.a, t.mean1, t.inv1, rows, p.get(INPUT_NORM), g.get(INPUT_NORM), g.get(INPUT_NORM_BIAS), dA);
        }
        Arr dAttn = linearBackward(outputNormBackward(c, dA, t.attnOut, t.inv3, rows, p, g, ATTENTION_OUTPUT_NORM), t.attn, rows, qd, d,
                p.get(O), g.get(O), g.get(O_BIAS));
        Arr dq = dA.zeros(rows * qd), dk = dA.zeros(rows * kvd), dv = dA.zeros(rows * kvd);
        attentionBackward(c, window, t, dAttn, dq, dk, dv);
        if (!c.layout().learnedPositions()) {
            float[][] cs = rope.tables(T);
            rotate(dq, rows, T, c.numHeads(), hd, rope.half(), cs, true);
            rotate(dk, rows, T, c.numKvHeads(), hd, rope.half(), cs, true);
        }
        if (c.qkNorm()) {
            Arr dqPre = dq.zeros(rows * qd), dkPre = dk.zeros(rows * kvd);
            rmsNormBackward(dq, t.qPre, t.invQ, rows * c.numHeads(), hd, scale(c, p.get(Q_NORM)), g.get(Q_NORM), dqPre);
            rmsNormBackward(dk, t.kPre, t.invK, rows * c.numKvHeads(), hd, scale(c, p.get(K_NORM)), g.get(K_NORM), dkPre);
            dq = dqPre;
            dk = dkPre;
        }
        Arr dXn1 = linearBackward(dq, t.xn1, rows, d, qd, p.get(Q), g.get(Q), g.get(Q_BIAS));
        dXn1.axpy(1, linearBackward(dk, t.xn1, rows, d, kvd, p.get(K), g.get(K), g.get(K_BIAS)));
        dXn1.axpy(1, linearBackward(dv, t.xn1, rows, d, kvd, p.get(V), g.get(V), g.get(V_BIAS)));
        Arr dx = dA.copy();
        if (pre) normBackward(c, dXn1, t.x, t.mean1, t.inv1, rows, p.get(INPUT_NORM), g.get(INPUT_NORM), g.get(INPUT_NORM_BIAS), dx);
        else dx.axpy(1, dXn1);
        return dx;
    }

    /**
     * The layer's norm of d-wide rows: LayerNorm with bias (mean and 1/std saved) or RMSNorm (1/rms saved); Gemma's
     * RMSNorm multiplies by 1 + w.
     */
    private static Arr norm(ModelConfig c, Arr x, int rows, Arr w, Arr bias, Arr mean, Arr inv) {
        int d = c.hiddenSize();
        return c.layout().layerNorm() ? layerNorm(x, rows, d, w, bias, c.rmsNormEps(), mean, inv) : rmsNorm(x, rows, d, scale(c, w), c.rmsNormEps(), inv);
    }

    /** Adds the input gradient of {@link #norm} to dx and the weight (and bias) gradients to dw (db). */
    private static void normBackward(ModelConfig c, Arr dy, Arr x, Arr mean, Arr inv, int rows, Arr w, Arr dw, Arr db, Arr dx) {
        if (c.layout().layerNorm()) layerNormBackward(dy, x, mean, inv, rows, c.hiddenSize(), w, dw, db, dx);
        else rmsNormBackward(dy, x, inv, rows, c.hiddenSize(), scale(c, w), dw, dx);
    }

    /**
     * The gradient of a sublayer's output before its output norm (Gemma 3), adding the norm's weight gradient to g; dy
     * itself where the layer has no such norm (out is null).
     */
    private static Arr outputNormBackward(ModelConfig c, Arr dy, Arr out, Arr inv, int rows, LayerParams p, LayerParams g, Role norm) {
        if (out == null) return dy;
        Arr dOut = dy.zeros(rows * c.hiddenSize());
        normBackward(c, dy, out, null, inv, rows, p.get(norm), g.get(norm), null, dOut);
        return dOut;
    }

    /**
     * A norm's weight as the layer multiplies by it: w, or Gemma's 1 + w (same precision). Its gradient is w's, so the
     * backward pass adds it to w's gradient unchanged.
     */
    private static Arr scale(ModelConfig c, Arr w) {
        if (w == null || c.layout().gemma() == null) return w;
        Arr s = w.zeros(w.length());
        for (int i = 0; i < w.length(); i++) s.set(i, 1 + w.get(i));
        return s;
    }

    private static final double GELU_C = Math.sqrt(2 / Math.PI);

    /** PyTorch's gelu(x, approximate="tanh"): 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))). */
    static double geluTanh(double x) {
        return 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x)));
    }

    static double geluTanhDerivative(double x) {
        double th = Math.tanh(GELU_C * (x + 0.044715 * x * x * x));
        return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * GELU_C * (1 + 3 * 0.044715 * x * x);
    }

    /** x W^T + b for x [rows x in], W [out x in]. */
    static Arr linear(Arr x, int rows, int in, int out, Arr w, Arr bias) {
        Arr y = x.zeros(rows * out);
        Arr.matmul(rows, out, in, x, 0, in, 1, w, 0, in, 1, y, 0, out, false, true);
        if (bias != null)
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < out; j++) y.add(r * out + j, bias.get(j));
        return y;
    }

    private static void linearInto(Arr x, int rows, int in, int out, Arr w, Arr bias, Arr acc) {
        acc.axpy(1, linear(x, rows, in, out, w, bias));
    }

    /** For y = x W^T + b: dW += dy^T x, db += column sums of dy; returns dx = dy W. */
    static Arr linearBackward(Arr dy, Arr x, int rows, int in, int out, Arr w, Arr dw, Arr db) {
        Arr.matmul(out, in, rows, dy, 0, 1, out, x, 0, 1, in, dw, 0, in, true, true);
        if (db != null)
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < out; j++) db.add(j, dy.get(r * out + j));
        Arr dx = dy.zeros(rows * in);
        Arr.matmul(rows, in, out, dy, 0, out, 1, w, 0, 1, in, dx, 0, in, false, true);
        return dx;
    }

    /** y = w * x / rms(x) per row of n; inv[r] receives 1 / rms of row r. */
    static Arr rmsNorm(Arr x, int rows, int n, Arr w, double eps, Arr inv) {
        Arr y = x.zeros(rows * n);
        Parallel.forRows(rows, 64, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                double ss = 0;
                for (int i = 0; i < n; i++) ss += x.get(r * n + i) * x.get(r * n + i);
                double s = 1 / Math.sqrt(ss / n + eps);
                inv.set(r, s);
                for (int i = 0; i < n; i++) y.set(r * n + i, w.get(i) * x.get(r * n + i) * s);
            }
        });
        return y;
    }

    /** Adds the input gradient of {@link #rmsNorm} to dx and, when dw is not null, the weight gradient to dw. */
    static void rmsNormBackward(Arr dy, Arr x, Arr inv, int rows, int n, Arr w, Arr dw, Arr dx) {
        Parallel.forRows(rows, 64, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                double s = inv.get(r), dot = 0;
                for (int i = 0; i < n; i++) dot += dy.get(r * n + i) * w.get(i) * x.get(r * n + i);
                double c = s * s * s * dot / n;
                for (int i = 0; i < n; i++) dx.add(r * n + i, s * dy.get(r * n + i) * w.get(i) - c * x.get(r * n + i));
            }
        });
        if (dw != null) // rows in a fixed order: the sum must not depend on the thread split
            for (int r = 0; r < rows; r++) {
                double s = inv.get(r);
                for (int i = 0; i < n; i++) dw.add(i, dy.get(r * n + i) * x.get(r * n + i) * s);
            }
    }

    /** y = (x − mean) / std · w + b per row of n (biased variance, as torch.nn.LayerNorm); saves mean and 1 / std. */
    static Arr layerNorm(Arr x, int rows, int n, Arr w, Arr b, double eps, Arr mean, Arr inv) {
        Arr y = x.zeros(rows * n);
        Parallel.forRows(rows, 64, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                double sum = 0, ss = 0;
                for (int i = 0; i < n; i++) sum += x.get(r * n + i);
                double mu = sum / n;
                for (int i = 0; i < n; i++) ss += (x.get(r * n + i) - mu) * (x.get(r * n + i) - mu);
                double s = 1 / Math.sqrt(ss / n + eps);
                mean.set(r, mu);
                inv.set(r, s);
                for (int i = 0; i < n; i++) y.set(r * n + i, (x.get(r * n + i) - mu) * s * w.get(i) + b.get(i));
            }
        });
        return y;
    }

    /**
     * Adds the input gradient of {@link #layerNorm} to dx, dx = s (g − mean(g) − x̂ mean(g x̂)) with g = dy w and
     * x̂ = (x − mean) s; and, when dw is not null, dw += dy x̂ and db += dy.
     */
    static void layerNormBackward(Arr dy, Arr x, Arr mean, Arr inv, int rows, int n, Arr w, Arr dw, Arr db, Arr dx) {
        Parallel.forRows(rows, 64, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                double s = inv.get(r), mu = mean.get(r), m1 = 0, m2 = 0;
                for (int i = 0; i < n; i++) {
                    double gi = dy.get(r * n + i) * w.get(i);
                    m1 += gi;
                    m2 += gi * (x.get(r * n + i) - mu) * s;
                }
                m1 /= n;
                m2 /= n;
                for (int i = 0; i < n; i++)
                    dx.add(r * n + i, s * (dy.get(r * n + i) * w.get(i) - m1 - (x.get(r * n + i) - mu) * s * m2));
            }
        });
        if (dw != null) // rows in a fixed order: the sum must not depend on the thread split
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < n; i++) {
                    dw.add(i, dy.get(r * n + i) * (x.get(r * n + i) - mean.get(r)) * inv.get(r));
                    db.add(i, dy.get(r * n + i));
                }
    }

    /**
     * Rotary embedding of every head of every row in place (rotate-half layout over the first 2·half dims of a head, as
     * {@link Rope}); inverse: its transpose (backward).
     */
    private static void rotate(Arr x, int rows, int T, int heads, int hd, int half, float[][] cs, boolean inverse) {
        float[] cos = cs[0], sin = cs[1];
        double sign = inverse ? -1 : 1;
        Parallel.forRows(rows, 64, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int t = (r % T) * half;
                for (int h = 0; h < heads; h++) {
                    int o = (r * heads + h) * hd;
                    for (int i = 0; i < half; i++) {
                        double x1 = x.get(o + i), x2 = x.get(o + i + half), cc = cos[t + i], ss = sign * sin[t + i];
                        x.set(o + i, x1 * cc - x2 * ss);
                        x.set(o + i + half, x2 * cc + x1 * ss);
                    }
                }
            }
        });
    }

    private static final int QUERY_BLOCK = 64; // queries per block: a block reads only the keys its queries may see

    /** First key position query i may see (causal, optionally a sliding window). */
    private static int firstKey(int i, int window) {
        return window > 0 ? Math.max(0, i - window + 1) : 0;
    }

    /**
     * The probabilities of queries [i0, i0 + rows) of head h of sequence b over keys [lo, hi) into p ([rows x (hi − lo)],
     * zero where a key is not visible). lse: each query's log-sum-exp, read from lse[lseOff + i] when {@code known},
     * else computed and stored there.
     */
    private static void probabilities(ModelConfig c, int window, Arr q, Arr k, int b, int h, int T, int i0, int rows, int lo,
                                      int hi, Arr p, Arr lse, int lseOff, boolean known) {
        int qd = c.qDim(), kvd = c.kvDim(), hd = c.headDim(), g = h / c.nRep(), n = hi - lo;
        Arr.matmul(rows, n, hd, q, (b * T + i0) * qd + h * hd, qd, 1, k, (b * T + lo) * kvd + g * hd, kvd, 1, p, 0, n, false, false);
        double scale = c.attentionScale();
        for (int r = 0; r < rows; r++) {
            int i = i0 + r, first = firstKey(i, window) - lo, last = i - lo, o = r * n; // visible: [first, last]
            for (int j = first; j <= last; j++) p.set(o + j, p.get(o + j) * scale);
            if (!known) lse.set(lseOff + i, p.logSumExp(o + first, last - first + 1));
            p.expShift(o + first, last - first + 1, lse.get(lseOff + i));
            for (int j = 0; j < first; j++) p.set(o + j, 0);
            for (int j = last + 1; j < n; j++) p.set(o + j, 0);
        }
    }

    /** Causal softmax attention with GQA; saves each query's log-sum-exp of its scores. */
    private static void attention(ModelConfig c, int window, Arr q, Arr k, Arr v, int batch, int T, Arr out, Arr lse) {
        int heads = c.numHeads(), qd = c.qDim(), kvd = c.kvDim(), hd = c.headDim(), blocks = (T + QUERY_BLOCK - 1) / QUERY_BLOCK;
        Parallel.forEach(batch * heads * blocks, task -> {
            int bh = task / blocks, b = bh / heads, h = bh % heads, g = h / c.nRep();
            int i0 = task % blocks * QUERY_BLOCK, rows = Math.min(QUERY_BLOCK, T - i0), lo = firstKey(i0, window), hi = i0 + rows;
            Arr p = q.zeros(rows * (hi - lo));
            probabilities(c, window, q, k, b, h, T, i0, rows, lo, hi, p, lse, bh * T, false);
            Arr.matmul(rows, hd, hi - lo, p, 0, hi - lo, 1, v, (b * T + lo) * kvd + g * hd, 1, kvd, out, (b * T + i0) * qd + h * hd, qd, false, false);
        });
    }

    /**
     * dS = P ⊙ (dP − rowsum(dO ⊙ O)) with dP = dO V^T; dQ = dS K, dK = dS^T Q, dV = P^T dO (scores scale folded into
     * dS), block by block of queries. One task per (sequence, kv head), so the query heads sharing a kv head add into
     * it without races.
     */
    private static void attentionBackward(ModelConfig c, int window, Tape t, Arr dAttn, Arr dq, Arr dk, Arr dv) {
        int T = t.T, heads = c.numHeads(), kvHeads = c.numKvHeads(), qd = c.qDim(), kvd = c.kvDim(), hd = c.headDim();
        double scale = c.attentionScale();
        Parallel.forEach(t.batch * kvHeads, task -> {
            int b = task / kvHeads, g = task % kvHeads;
            for (int h = g * c.nRep(); h < (g + 1) * c.nRep(); h++)
                for (int i0 = 0; i0 < T; i0 += QUERY_BLOCK) {
                    int rows = Math.min(QUERY_BLOCK, T - i0), lo = firstKey(i0, window), hi = i0 + rows, n = hi - lo;
                    int qOff = (b * T + i0) * qd + h * hd, kvOff = (b * T + lo) * kvd + g * hd;
                    Arr p = dq.zeros(rows * n), ds = dq.zeros(rows * n);
                    probabilities(c, window, t.q, t.k, b, h, T, i0, rows, lo, hi, p, t.lse, (b * heads + h) * T, true);
                    Arr.matmul(rows, n, hd, dAttn, qOff, qd, 1, t.v, kvOff, kvd, 1, ds, 0, n, false, false); // dP
                    for (int r = 0; r < rows; r++) {
                        double D = 0;
                        for (int e = 0; e < hd; e++) D += dAttn.get(qOff + r * qd + e) * t.attn.get(qOff + r * qd + e);
                        for (int j = 0; j < n; j++) ds.set(r * n + j, p.get(r * n + j) * (ds.get(r * n + j) - D) * scale);
                    }
                    Arr.matmul(rows, hd, n, ds, 0, n, 1, t.k, kvOff, 1, kvd, dq, qOff, qd, false, false);
                    Arr.matmul(n, hd, rows, ds, 0, 1, n, t.q, qOff, 1, qd, dk, kvOff, kvd, true, false);
                    Arr.matmul(n, hd, rows, p, 0, 1, n, dAttn, qOff, 1, qd, dv, kvOff, kvd, true, false);
                }
        });
    }
}
