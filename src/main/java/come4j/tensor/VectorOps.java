package come4j.tensor;

import come4j.io.Convert;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** Row-wise vector operations of a decoder layer (cheap next to the GEMMs; all fp32). */
public final class VectorOps {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorOps() {}

    // Determinism: the Vector API may compute lanewise EXP and float reduceLanes(ADD) differently when JIT-compiled
    // (SVML, unordered reduction) and when interpreted, so results would depend on when the JIT kicked in. The two
    // helpers below use only exactly rounded operations (add, mul, fma, integer bit work), identical in every mode.

    private static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f; // 1.5 * 2^23: adding and subtracting it rounds to an integer

    private static final FloatVector EXP_LO = FloatVector.broadcast(S, -87.3f), EXP_HI = FloatVector.broadcast(S, 88.3f);
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final FloatVector IOTA = FloatVector.zero(S).addIndex(1);

    /**
     * e^x per lane (Cephes expf polynomial, within 2 ulp); inputs clamped to the finite range of fp32. The clamps are
     * compare-and-blend and 2^k is built from the rounding sum's bits: the same values as max/min and an F2I convert,
     * which the JIT expands into longer sequences (1.8x slower per element here).
     */
    static FloatVector exp(FloatVector x) {
        x = x.blend(EXP_LO, x.compare(VectorOperators.LT, EXP_LO)).blend(EXP_HI, x.compare(VectorOperators.GT, EXP_HI)); // keeps 2^k normal
        FloatVector kr = x.fma(LOG2E, ROUND), k = kr.sub(ROUND); // kr's low mantissa bits hold the integer k
        FloatVector r = k.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = k.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f);
        p = p.fma(r, FloatVector.broadcast(S, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(S, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(S, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(S, 5.0000001201e-1f));
        FloatVector y = p.mul(r).fma(r, r).add(1f);
        FloatVector scale = kr.reinterpretAsInts().add(127 - ROUND_BITS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(scale);
    }

    /** The lanes' sum, added in lane order. */
    static float sum(FloatVector v) {
        float[] lanes = v.toArray(); // one store: lane(i) with a variable i is a store and a load per lane
        float s = 0;
        for (float x : lanes) s += x;
        return s;
    }

    /** out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w, for rows of length n starting at off + r * stride. */
    public static void rmsNorm(float[] x, int off, int rows, int n, int stride, float[] w, double eps, float[] out) {
        for (int r = 0; r < rows; r++) {
            int o = off + r * stride;
            float ss = VectorBackend.dot(x, o, x, o, n);
            float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
            int i = 0;
            FloatVector s = FloatVector.broadcast(S, inv);
            for (int bound = S.loopBound(n); i < bound; i += L)
                FloatVector.fromArray(S, x, o + i).mul(s).mul(FloatVector.fromArray(S, w, i)).intoArray(out, o + i);
            for (; i < n; i++) out[o + i] = w[i] * (x[o + i] * inv);
        }
    }

    /** y[off..off+n) += x[off..off+n). */
    public static void addInPlace(float[] y, float[] x, int off, int n) {
        int i = off, end = off + n;
        for (int bound = off + S.loopBound(n); i < bound; i += L)
            FloatVector.fromArray(S, y, i).add(FloatVector.fromArray(S, x, i)).intoArray(y, i);
        for (; i < end; i++) y[i] += x[i];
    }

    /** Adds bias (length n) to each of the rows of x (row length n). */
    public static void addBias(float[] x, int rows, float[] bias) {
        int n = bias.length;
        for (int r = 0; r < rows; r++) {
            int o = r * n, i = 0;
            for (int bound = S.loopBound(n); i < bound; i += L)
                FloatVector.fromArray(S, x, o + i).add(FloatVector.fromArray(S, bias, i)).intoArray(x, o + i);
            for (; i < n; i++) x[o + i] += bias[i];
        }
    }

    /** gate[i] = silu(gate[i]) * up[i] (SwiGLU) in place, for i in [off, off+n). */
    public static void swiglu(float[] gate, float[] up, int off, int n) {
        int i = off, end = off + n;
        for (int bound = off + S.loopBound(n); i < bound; i += L) {
            FloatVector g = FloatVector.fromArray(S, gate, i);
            FloatVector sig = exp(g.neg()).add(1f);
            g.div(sig).mul(FloatVector.fromArray(S, up, i)).intoArray(gate, i);
        }
        for (; i < end; i++) gate[i] = (float) (gate[i] / (1.0 + Math.exp(-gate[i]))) * up[i];
    }

    /**
     * gate[i] = gelu_tanh(gate[i]) * up[i] (GeGLU, Gemma) in place, for i in [off, off+n): PyTorch's tanh approximation
     * 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))), in double, rounded once.
     */
    public static void geglu(float[] gate, float[] up, int off, int n) {
        for (int i = off, end = off + n; i < end; i++) {
            double x = gate[i];
            gate[i] = (float) (0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))) * up[i];
        }
    }

    static float max(float[] x, int off, int n) {
        FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) { // compare-and-blend: the JIT's max is a longer sequence
            FloatVector v = FloatVector.fromArray(S, x, off + i);
            m = m.blend(v, v.compare(VectorOperators.GT, m));
        }
        float max = m.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        return max;
    }

    /** Softmax of x[off .. off+n) in place (max-subtracted, fp32). */
    public static void softmax(float[] x, int off, int n) {
        scale(x, off, n, 1f / expSum(x, off, n, 1f)); // (x - max) * 1 is x - max exactly
    }

    /**
     * The unnormalized softmax of s · x[off .. off+n) in place for s > 0, the scaling folded into the exponent:
     * x = e^((x - max) s); returns their sum.
     */
    static float expSum(float[] x, int off, int n, float s) {
        float max = max(x, off, n);
        FloatVector m = FloatVector.broadcast(S, max), acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector e = exp(FloatVector.fromArray(S, x, off + i).sub(m).mul(s));
            e.intoArray(x, off + i);
            acc = acc.add(e);
        }
        float sum = sum(acc);
        for (; i < n; i++) {
            x[off + i] = (float) Math.exp((x[off + i] - max) * s);
            sum += x[off + i];
        }
        return sum;
    }

    /**
     * {@link #expSum} of the n fp32 scores at byte {@code at} of native memory, the numerators written as bf16 at byte
     * {@code to} of {@code probs} instead of in place: one read of the scores per pass, no copy to the heap. Up to
     * {@code room} >= n elements from {@code at} and {@code to} may be touched: the last vector is read and written
     * whole (lanes past n read anything and write 0). Masked loads and stores cost more than a short row here, and a
     * second copy of the loop body for the tail stops the JIT inlining exp (boxing every vector).
     */
    static float expSumToBf16(MemorySegment scores, long at, int n, int room, float s, MemorySegment probs, long to) {
        int whole = (n + L - 1) / L * L;
        if (whole > room || at + 4L * whole > scores.byteSize()) { // rare: the last vector would cross into the next row
            MemorySegment padded = MemorySegment.ofArray(new float[whole]), bf16 = MemorySegment.ofArray(new short[whole]);
            MemorySegment.copy(scores, at, padded, 0, 4L * n);
            float sum = expSumToBf16(padded, 0, n, whole, s, bf16, 0);
            MemorySegment.copy(bf16, 0, probs, to, 2L * n);
            return sum;
        }
        ByteOrder o = ByteOrder.nativeOrder();
        FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY), zero = FloatVector.zero(S);
        for (int i = 0; i < n; i += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, scores, at + 4L * i, o);
            m = m.blend(v, v.compare(VectorOperators.GT, m).and(IOTA.compare(VectorOperators.LT, n - i)));
        }
        FloatVector max = FloatVector.broadcast(S, m.reduceLanes(VectorOperators.MAX)), acc = zero;
        for (int i = 0; i < n; i += L) {
            FloatVector e = exp(FloatVector.fromMemorySegment(S, scores, at + 4L * i, o).sub(max).mul(s));
            e = zero.blend(e, IOTA.compare(VectorOperators.LT, n - i));
            acc = acc.add(e);
            Convert.bf16Bits(e).intoMemorySegment(probs, to + 2L * i, o);
        }
        float sum = 0; // sum(acc) inlined: this method is past the JIT's inlining budget, and a call would box acc
        for (float x : acc.toArray()) sum += x;
        return sum;
    }

    /** dst[off .. off + n) = s · the n fp32 values at byte {@code at} of native memory. */
    static void scaleInto(MemorySegment src, long at, int n, float s, float[] dst, int off) {
        FloatVector v = FloatVector.broadcast(S, s);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L)
            FloatVector.fromMemorySegment(S, src, at + 4L * i, ByteOrder.nativeOrder()).mul(v).intoArray(dst, off + i);
        for (; i < n; i++) dst[off + i] = s * src.get(JAVA_FLOAT, at + 4L * i);
    }

    /** log-sum-exp of x[off .. off+n), accumulated in double. */
    public static double logSumExp(float[] x, int off, int n) {
        float max = max(x, off, n);
        FloatVector m = FloatVector.broadcast(S, max), acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L)
            acc = acc.add(exp(FloatVector.fromArray(S, x, off + i).sub(m)));
        double sum = sum(acc);
        for (; i < n; i++) sum += Math.exp(x[off + i] - max);
        return max + Math.log(sum);
    }

    /** x[i] = e^(x[i] - shift) for i in [off, off+n). */
    public static void expShifted(float[] x, int off, int n, float shift) {
        FloatVector m = FloatVector.broadcast(S, shift);
        int i = off, end = off + n;
        for (int bound = off + S.loopBound(n); i < bound; i += L) exp(FloatVector.fromArray(S, x, i).sub(m)).intoArray(x, i);
        for (; i < end; i++) x[i] = (float) Math.exp(x[i] - shift);
    }

    /** out[i] = 1 / (1 + e^-x[i]) for i in [off, off+n). */
    public static void sigmoid(float[] x, int off, int n, float[] out) {
        int i = off, end = off + n;
        for (int bound = off + S.loopBound(n); i < bound; i += L)
            FloatVector.broadcast(S, 1f).div(exp(FloatVector.fromArray(S, x, i).neg()).add(1f)).intoArray(out, i);
        for (; i < end; i++) out[i] = (float) (1 / (1 + Math.exp(-x[i])));
    }

    /** Index of the first maximum of x[off .. off+n), relative to off. */
    public static int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (x[off + i] > x[off + best]) best = i;
        return best;
    }

    public static void scale(float[] x, int off, int n, float s) {
        FloatVector v = FloatVector.broadcast(S, s);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) FloatVector.fromArray(S, x, off + i).mul(v).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= s;
    }

    /**
     * LayerNorm of rows of n floats (stride apart): out = (x − mean) / sqrt(var + eps) · w + b, the biased variance, as
     * torch.nn.LayerNorm computes it; out may be x.
     */
    public static void layerNorm(float[] x, int off, int rows, int n, int stride, float[] w, float[] b, double eps, float[] out) {
        for (int r = 0; r < rows; r++) {
            int o = off + r * stride;
            double sum = 0;
            for (int i = 0; i < n; i++) sum += x[o + i];
            float mean = (float) (sum / n);
            double ss = 0;
            for (int i = 0; i < n; i++) ss += (double) (x[o + i] - mean) * (x[o + i] - mean);
            float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
            for (int i = 0; i < n; i++) out[o + i] = (x[o + i] - mean) * inv * w[i] + b[i];
        }
    }

    /** x[i] = max(x[i], 0) in place, for i in [off, off+n). */
    public static void relu(float[] x, int off, int n) {
        for (int i = off; i < off + n; i++) x[i] = Math.max(x[i], 0f);
    }
}
