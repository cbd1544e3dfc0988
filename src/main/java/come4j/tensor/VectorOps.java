package come4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Row-wise vector operations of a decoder layer (cheap next to the GEMMs; all fp32). */
public final class VectorOps {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorOps() {}

    /** out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w, for rows of length n starting at off + r * stride. */
    public static void rmsNorm(float[] x, int off, int rows, int n, int stride, float[] w, double eps, float[] out) {
        for (int r = 0; r < rows; r++) {
            int o = off + r * stride;
            float ss = VectorKernels.dot(x, o, x, o, n);
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
            FloatVector sig = g.neg().lanewise(VectorOperators.EXP).add(1f);
            g.div(sig).mul(FloatVector.fromArray(S, up, i)).intoArray(gate, i);
        }
        for (; i < end; i++) gate[i] = (float) (gate[i] / (1.0 + Math.exp(-gate[i]))) * up[i];
    }

    static float max(float[] x, int off, int n) {
        FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) m = m.max(FloatVector.fromArray(S, x, off + i));
        float max = m.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        return max;
    }

    /** Softmax of x[off .. off+n) in place (max-subtracted, fp32). */
    public static void softmax(float[] x, int off, int n) {
        float max = max(x, off, n);
        FloatVector m = FloatVector.broadcast(S, max), acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector e = FloatVector.fromArray(S, x, off + i).sub(m).lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            acc = acc.add(e);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            x[off + i] = (float) Math.exp(x[off + i] - max);
            sum += x[off + i];
        }
        scale(x, off, n, 1f / sum);
    }

    /** log-sum-exp of x[off .. off+n), accumulated in double. */
    public static double logSumExp(float[] x, int off, int n) {
        float max = max(x, off, n);
        FloatVector m = FloatVector.broadcast(S, max), acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L)
            acc = acc.add(FloatVector.fromArray(S, x, off + i).sub(m).lanewise(VectorOperators.EXP));
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += Math.exp(x[off + i] - max);
        return max + Math.log(sum);
    }

    public static void scale(float[] x, int off, int n, float s) {
        FloatVector v = FloatVector.broadcast(S, s);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) FloatVector.fromArray(S, x, off + i).mul(v).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= s;
    }
}
