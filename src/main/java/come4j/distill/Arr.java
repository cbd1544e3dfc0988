package come4j.distill;

import come4j.tensor.Matrix;
import come4j.tensor.Parallel;
import come4j.tensor.VectorBackend;

/**
 * A flat array of fp32 or fp64 numbers. The training code (forward with saved activations, backward, losses, AdamW)
 * is written once against it: production trains in fp32 on the Vector API kernels, and the finite-difference checks
 * run the very same code in fp64. Element arithmetic is done in double either way; only storage differs.
 */
public abstract sealed class Arr permits Arr.F32, Arr.F64 {
    public abstract int length();

    public abstract double get(int i);

    public abstract void set(int i, double v);

    public void add(int i, double v) {
        set(i, get(i) + v);
    }

    /** A zero array of n elements in this one's precision. */
    public abstract Arr zeros(int n);

    public Arr copy() {
        Arr c = zeros(length());
        c.copyFrom(this, 0, 0, length());
        return c;
    }

    public void copyFrom(Arr src, int srcOff, int off, int n) {
        for (int i = 0; i < n; i++) set(off + i, src.get(srcOff + i));
    }

    public void fill(double v) {
        for (int i = 0; i < length(); i++) set(i, v);
    }

    /** this += s * x, elementwise. */
    public void axpy(double s, Arr x) {
        for (int i = 0; i < length(); i++) add(i, s * x.get(i));
    }

    /** log Σ e^x over [off, off+n) (max-shifted). */
    public abstract double logSumExp(int off, int n);

    /** x[i] = e^(x[i] − shift) over [off, off+n). */
    public abstract void expShift(int off, int n, double shift);

    /** this[i] = σ(x[i]) = 1 / (1 + e^−x[i]) over [off, off+n). */
    public abstract void sigmoidOf(Arr x, int off, int n);

    public static Arr f32(int n) {
        return new F32(new float[n]);
    }

    public static Arr f64(int n) {
        return new F64(new double[n]);
    }

    public static Arr of(float[] a) {
        return new F32(a);
    }

    public float[] toFloat() {
        float[] out = new float[length()];
        for (int i = 0; i < out.length; i++) out[i] = (float) get(i);
        return out;
    }

    /**
     * C[m x n] (+)= A[m x k] · B^T on strided views: A(i, p) = a[aOff + i * aRs + p * aCs], B(j, p) = b[bOff + j * bRs +
     * p * bCs], C(i, j) = c[cOff + i * ldc + j]; all three arrays of one precision. {@code parallel}: split the rows of
     * A across the workers (callers already on a worker pass false). Each element of C is summed in the same order
     * however the work is split, so results do not depend on the thread count.
     */
    public static void matmul(int m, int n, int k, Arr a, int aOff, int aRs, int aCs, Arr b, int bOff, int bRs, int bCs,
                              Arr c, int cOff, int ldc, boolean accumulate, boolean parallel) {
        if (a instanceof F32 fa && b instanceof F32 fb && c instanceof F32 fc) {
            // The kernel reads rows of A contiguously: a strided A is copied once (O(size), next to the product's
            // O(m·n·k)); B is packed by rows or by columns, anything else is copied too.
            float[] av = aCs == 1 ? fa.a : F32.contiguous(fa.a, aOff, m, k, aRs, aCs);
            int ao = aCs == 1 ? aOff : 0, lda = aCs == 1 ? aRs : k;
            Matrix bm = bCs == 1 || bRs == 1 ? Matrix.of(fb.a, bOff, n, k, bRs, bCs) // both layouts pack fast
                    : Matrix.of(F32.contiguous(fb.a, bOff, n, k, bRs, bCs), 0, n, k, k, 1);
            if (parallel && ao == 0 && lda == k && cOff == 0 && ldc == n) { // the kernel's own split: B packed once per block
                float[] out = accumulate ? new float[m * n] : fc.a;
                VectorBackend.FP32.matmul(av, m, bm, out);
                if (accumulate) come4j.tensor.VectorOps.addInPlace(fc.a, out, 0, m * n);
                return;
            }
            Parallel.Rows rows = (r0, r1) -> F32.matmulRows(av, ao + r0 * lda, lda, r1 - r0, bm, fc.a, cOff + r0 * ldc, ldc, n, accumulate);
            if (parallel && (long) m * n * k > 1 << 18) Parallel.forRows(m, 16, rows);
            else rows.run(0, m);
        } else if (a instanceof F64 da && b instanceof F64 db && c instanceof F64 dc) {
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += da.a[aOff + i * aRs + p * aCs] * db.a[bOff + j * bRs + p * bCs];
                    int o = cOff + i * ldc + j;
                    dc.a[o] = accumulate ? dc.a[o] + s : s;
                }
        } else {
            throw new IllegalArgumentException("mixed precisions");
        }
    }

    /**
     * fp32 storage; products on the Vector API backend in fp32 whatever the run's backend: each element is summed in
     * one order for any thread count, which keeps a resumed distillation byte-identical.
     */
    public static final class F32 extends Arr {
        final float[] a;

        F32(float[] a) {
            this.a = a;
        }

        public int length() { return a.length; }
        public double get(int i) { return a[i]; }
        public void set(int i, double v) { a[i] = (float) v; }
        public Arr zeros(int n) { return new F32(new float[n]); }

        public double logSumExp(int off, int n) { return come4j.tensor.VectorOps.logSumExp(a, off, n); }

        public void expShift(int off, int n, double shift) { come4j.tensor.VectorOps.expShifted(a, off, n, (float) shift); }

        public void sigmoidOf(Arr x, int off, int n) { come4j.tensor.VectorOps.sigmoid(((F32) x).a, off, n, a); }

        /** The backing array (shared, not copied). */
        public float[] array() {
            return a;
        }

        /** The rows x cols strided view as a contiguous row-major array (blocked, so both sides stay in cache). */
        static float[] contiguous(float[] a, int off, int rows, int cols, int rs, int cs) {
            float[] t = new float[rows * cols];
            Parallel.Rows copy = (r0, r1) -> {
                for (int c0 = 0; c0 < cols; c0 += 32)
                    for (int r = r0; r < r1; r++) {
                        int end = Math.min(cols, c0 + 32), src = off + r * rs;
                        for (int c = c0; c < end; c++) t[r * cols + c] = a[src + c * cs];
                    }
            };
            if ((long) rows * cols > 1 << 16) Parallel.forRows(rows, 32, copy);
            else copy.run(0, rows);
            return t;
        }

        private static void matmulRows(float[] a, int aOff, int lda, int m, Matrix b, float[] c, int cOff, int ldc, int n,
                                       boolean accumulate) {
            if (!accumulate) {
                VectorBackend.FP32.matmul(a, aOff, lda, m, b, c, cOff, ldc);
                return;
            }
            float[] t = new float[m * n];
            VectorBackend.FP32.matmul(a, aOff, lda, m, b, t, 0, n);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) c[cOff + i * ldc + j] += t[i * n + j];
        }
    }

    /** fp64 storage, plain loops: the precision of the finite-difference checks. */
    public static final class F64 extends Arr {
        final double[] a;

        F64(double[] a) {
            this.a = a;
        }

        public int length() { return a.length; }
        public double get(int i) { return a[i]; }
        public void set(int i, double v) { a[i] = v; }
        public Arr zeros(int n) { return new F64(new double[n]); }

        public double logSumExp(int off, int n) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = off; i < off + n; i++) max = Math.max(max, a[i]);
            for (int i = off; i < off + n; i++) sum += Math.exp(a[i] - max);
            return max + Math.log(sum);
        }

        public void expShift(int off, int n, double shift) {
            for (int i = off; i < off + n; i++) a[i] = Math.exp(a[i] - shift);
        }

        public void sigmoidOf(Arr x, int off, int n) {
            for (int i = off; i < off + n; i++) a[i] = 1 / (1 + Math.exp(-x.get(i)));
        }
    }
}
