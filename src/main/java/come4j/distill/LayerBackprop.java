package come4j.distill;

import static come4j.distill.LayerParams.*;

import come4j.model.ModelConfig;
import come4j.model.Rope;
import come4j.tensor.Parallel;

/**
 * The decoder layer of {@code model.DecoderLayer} for training, over batches of sequences of T tokens starting at
 * position 0: a forward pass that keeps what the backward pass needs, and the backward pass itself. Same math as the
 * inference path (which stays separate: it is fp32-only, cache-aware and keeps nothing), written once against
 * {@link Arr} so the finite-difference checks run it in fp64. Attention keeps only its output and each query's
 * log-sum-exp; the probabilities are recomputed in the backward pass.
 */
public final class LayerBackprop {
    private LayerBackprop() {}

    /** The activations one forward pass saved; {@link #out} is the layer's output. */
    public static final class Tape {
        final int batch, T;
        final Arr x, inv1, xn1, qPre, invQ, kPre, invK, q, k, v, attn, lse, u, inv2, xn2, gate, up, act;
        public final Arr out;

        private Tape(int batch, int T, Arr... a) {
            this.batch = batch;
            this.T = T;
            x = a[0]; inv1 = a[1]; xn1 = a[2]; qPre = a[3]; invQ = a[4]; kPre = a[5]; invK = a[6]; q = a[7]; k = a[8];
            v = a[9]; attn = a[10]; lse = a[11]; u = a[12]; inv2 = a[13]; xn2 = a[14]; gate = a[15]; up = a[16];
            act = a[17]; out = a[18];
        }
    }

    /** Forward pass of x ([batch * T x d], not modified) through the layer with parameters p. */
    public static Tape forward(ModelConfig c, Rope rope, int window, LayerParams p, Arr x, int batch, int T) {
        int rows = batch * T, d = c.hiddenSize(), f = c.intermediateSize(), qd = c.qDim(), kvd = c.kvDim();
        int hd = c.headDim(), heads = c.numHeads(), kvHeads = c.numKvHeads();
        double eps = c.rmsNormEps();
        Arr inv1 = x.zeros(rows), xn1 = rmsNorm(x, rows, d, p.get(NORM1), eps, inv1);
        Arr q = linear(xn1, rows, d, qd, p.get(Q), p.bias(Q));
        Arr k = linear(xn1, rows, d, kvd, p.get(K), p.bias(K));
        Arr v = linear(xn1, rows, d, kvd, p.get(V), p.bias(V));
        Arr qPre = null, kPre = null, invQ = null, invK = null;
        if (c.qkNorm()) {
            qPre = q;
            kPre = k;
            invQ = x.zeros(rows * heads);
            invK = x.zeros(rows * kvHeads);
            q = rmsNorm(qPre, rows * heads, hd, p.get(Q_NORM), eps, invQ);
            k = rmsNorm(kPre, rows * kvHeads, hd, p.get(K_NORM), eps, invK);
        }
        float[][] cs = rope.tables(T);
        rotate(q, rows, T, heads, hd, cs, false);
        rotate(k, rows, T, kvHeads, hd, cs, false);
        Arr attn = x.zeros(rows * qd), lse = x.zeros(batch * heads * T);
        attention(c, window, q, k, v, batch, T, attn, lse);
        Arr u = x.copy();
        linearInto(attn, rows, qd, d, p.get(O), p.bias(O), u);
        Arr inv2 = x.zeros(rows), xn2 = rmsNorm(u, rows, d, p.get(NORM2), eps, inv2);
        Arr gate = linear(xn2, rows, d, f, p.get(GATE), p.bias(GATE));
        Arr up = linear(xn2, rows, d, f, p.get(UP), p.bias(UP));
        Arr act = x.zeros(rows * f);
        Parallel.forRows(rows, 16, (r0, r1) -> {
            act.sigmoidOf(gate, r0 * f, (r1 - r0) * f);
            for (int i = r0 * f; i < r1 * f; i++) act.set(i, gate.get(i) * act.get(i) * up.get(i));
        });
        Arr out = u.copy();
        linearInto(act, rows, f, d, p.get(DOWN), p.bias(DOWN), out);
        return new Tape(batch, T, x, inv1, xn1, qPre, invQ, kPre, invK, q, k, v, attn, lse, u, inv2, xn2, gate, up, act, out);
    }

    /** Backward pass: adds the parameters' gradients to g and returns the gradient of the input. */
    public static Arr backward(ModelConfig c, Rope rope, int window, LayerParams p, Tape t, Arr dOut, LayerParams g) {
        int batch = t.batch, T = t.T, rows = batch * T;
        int d = c.hiddenSize(), f = c.intermediateSize(), qd = c.qDim(), kvd = c.kvDim(), hd = c.headDim();
        double eps = c.rmsNormEps();
        // FFN: out = u + W_down (silu(gate) * up)
        Arr dAct = linearBackward(dOut, t.act, rows, f, d, p.get(DOWN), g.get(DOWN), g.bias(DOWN));
        Arr dGate = dAct.zeros(rows * f), dUp = dAct.zeros(rows * f);
        Parallel.forRows(rows, 16, (r0, r1) -> {
            dUp.sigmoidOf(t.gate, r0 * f, (r1 - r0) * f); // σ(gate), overwritten below
            for (int i = r0 * f; i < r1 * f; i++) {
                double a = t.gate.get(i), s = dUp.get(i), da = dAct.get(i);
                dUp.set(i, da * a * s);
                dGate.set(i, da * t.up.get(i) * s * (1 + a * (1 - s)));
            }
        });
        Arr dXn2 = linearBackward(dGate, t.xn2, rows, d, f, p.get(GATE), g.get(GATE), g.bias(GATE));
        dXn2.axpy(1, linearBackward(dUp, t.xn2, rows, d, f, p.get(UP), g.get(UP), g.bias(UP)));
        Arr du = dOut.copy();
        rmsNormBackward(dXn2, t.u, t.inv2, rows, d, p.get(NORM2), g.get(NORM2), du);
        // Attention: u = x + W_o attn
        Arr dAttn = linearBackward(du, t.attn, rows, qd, d, p.get(O), g.get(O), g.bias(O));
        Arr dq = du.zeros(rows * qd), dk = du.zeros(rows * kvd), dv = du.zeros(rows * kvd);
        attentionBackward(c, window, t, dAttn, dq, dk, dv);
        float[][] cs = rope.tables(T);
        rotate(dq, rows, T, c.numHeads(), hd, cs, true);
        rotate(dk, rows, T, c.numKvHeads(), hd, cs, true);
        if (c.qkNorm()) {
            Arr dqPre = dq.zeros(rows * qd), dkPre = dk.zeros(rows * kvd);
            rmsNormBackward(dq, t.qPre, t.invQ, rows * c.numHeads(), hd, p.get(Q_NORM), g.get(Q_NORM), dqPre);
            rmsNormBackward(dk, t.kPre, t.invK, rows * c.numKvHeads(), hd, p.get(K_NORM), g.get(K_NORM), dkPre);
            dq = dqPre;
            dk = dkPre;
        }
        Arr dXn1 = linearBackward(dq, t.xn1, rows, d, qd, p.get(Q), g.get(Q), g.bias(Q));
        dXn1.axpy(1, linearBackward(dk, t.xn1, rows, d, kvd, p.get(K), g.get(K), g.bias(K)));
        dXn1.axpy(1, linearBackward(dv, t.xn1, rows, d, kvd, p.get(V), g.get(V), g.bias(V)));
        Arr dx = du.copy();
        rmsNormBackward(dXn1, t.x, t.inv1, rows, d, p.get(NORM1), g.get(NORM1), dx);
        return dx;
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

    /** Rotary embedding of every head of every row in place (rotate-half layout); inverse: its transpose (backward). */
    private static void rotate(Arr x, int rows, int T, int heads, int hd, float[][] cs, boolean inverse) {
        int half = hd / 2;
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

    /** First key position query i may see (causal, optionally a sliding window). */
    private static int firstKey(int i, int window) {
        return window > 0 ? Math.max(0, i - window + 1) : 0;
    }

    /** Scaled scores of query head h of sequence b against its kv head, [T x T] into s (future keys not masked). */
    private static void scores(ModelConfig c, Arr q, Arr k, int b, int h, int T, Arr s) {
        int qd = c.qDim(), kvd = c.kvDim(), hd = c.headDim(), g = h / c.nRep();
        Arr.matmul(T, T, hd, q, b * T * qd + h * hd, qd, 1, k, b * T * kvd + g * hd, kvd, 1, s, 0, T, false, false);
        double scale = 1 / Math.sqrt(hd);
        for (int i = 0; i < T * T; i++) s.set(i, s.get(i) * scale);
    }

    /** Row i of scores s becomes its probabilities e^(s − lse) over the visible keys [lo, i], zero elsewhere. */
    private static void probabilities(Arr s, int i, int T, int lo, double lse) {
        s.expShift(i * T + lo, i - lo + 1, lse);
        for (int j = 0; j < lo; j++) s.set(i * T + j, 0);
        for (int j = i + 1; j < T; j++) s.set(i * T + j, 0);
    }

    /** Causal softmax attention with GQA; saves each query's log-sum-exp of its scores. */
    private static void attention(ModelConfig c, int window, Arr q, Arr k, Arr v, int batch, int T, Arr out, Arr lse) {
        int heads = c.numHeads(), qd = c.qDim(), kvd = c.kvDim(), hd = c.headDim();
        Parallel.forEach(batch * heads, task -> {
            int b = task / heads, h = task % heads, g = h / c.nRep();
            Arr s = q.zeros(T * T);
            scores(c, q, k, b, h, T, s);
            for (int i = 0; i < T; i++) {
                int lo = firstKey(i, window);
                double l = s.logSumExp(i * T + lo, i - lo + 1);
                lse.set(task * T + i, l);
                probabilities(s, i, T, lo, l);
            }
            Arr.matmul(T, hd, T, s, 0, T, 1, v, b * T * kvd + g * hd, 1, kvd, out, b * T * qd + h * hd, qd, false, false);
        });
    }

    /**
     * dS = P ⊙ (dP − rowsum(dO ⊙ O)) with dP = dO V^T; dQ = dS K, dK = dS^T Q, dV = P^T dO (scores scale folded into
     * dS). One task per (sequence, kv head) so the query heads sharing a kv head add into it without races.
     */
    private static void attentionBackward(ModelConfig c, int window, Tape t, Arr dAttn, Arr dq, Arr dk, Arr dv) {
        int T = t.T, heads = c.numHeads(), kvHeads = c.numKvHeads(), qd = c.qDim(), kvd = c.kvDim(), hd = c.headDim();
        double scale = 1 / Math.sqrt(hd);
        Parallel.forEach(t.batch * kvHeads, task -> {
            int b = task / kvHeads, g = task % kvHeads;
            Arr s = dq.zeros(T * T), dp = dq.zeros(T * T);
            for (int h = g * c.nRep(); h < (g + 1) * c.nRep(); h++) {
                int qOff = b * T * qd + h * hd, kvOff = b * T * kvd + g * hd, row0 = (b * heads + h) * T;
                scores(c, t.q, t.k, b, h, T, s);
                Arr.matmul(T, T, hd, dAttn, qOff, qd, 1, t.v, kvOff, kvd, 1, dp, 0, T, false, false);
                for (int i = 0; i < T; i++) {
                    int lo = firstKey(i, window);
                    double D = 0;
                    for (int e = 0; e < hd; e++) D += dAttn.get(qOff + i * qd + e) * t.attn.get(qOff + i * qd + e);
                    probabilities(s, i, T, lo, t.lse.get(row0 + i));
                    for (int j = lo; j <= i; j++) dp.set(i * T + j, s.get(i * T + j) * (dp.get(i * T + j) - D) * scale);
                    for (int j = 0; j < lo; j++) dp.set(i * T + j, 0);
                    for (int j = i + 1; j < T; j++) dp.set(i * T + j, 0);
                }
                Arr.matmul(T, hd, T, dp, 0, T, 1, t.k, kvOff, 1, kvd, dq, qOff, qd, false, false);
                Arr.matmul(T, hd, T, dp, 0, 1, T, t.q, qOff, 1, qd, dk, kvOff, kvd, true, false);
                Arr.matmul(T, hd, T, s, 0, 1, T, dAttn, qOff, 1, qd, dv, kvOff, kvd, true, false);
            }
        });
    }
}
