package come4j.tensor;

import come4j.io.Convert;
import come4j.io.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The always-available backend: a blocked fp32 GEMM on the Vector API. B (a weight, n x k) is packed per k-block into panels of NR columns,
 * converting bf16/fp16 to fp32 as it is packed; a 4 x NR register tile of accumulators is updated by broadcasting one
 * element of A against NR/lanes vectors of the panel (outer-product form: no horizontal reductions). The work is
 * split into (row block x column block) tasks across the shared worker pool. With bf16 compute the operands are
 * rounded to bf16 first (A as it is copied, B as it is packed): the products of bf16 values are exact in fp32, so this
 * computes what a bf16 matmul with fp32 accumulation does, without bf16 arithmetic units.
 */
public final class VectorBackend implements Backend {
    public static final VectorBackend FP32 = new VectorBackend(DType.F32), BF16 = new VectorBackend(DType.BF16);

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int MR = 4;          // rows of A per register tile
    private static final int NR = 4 * L;      // columns of B per panel (4 vectors)
    private static final int KC = 256;        // depth of a packed block: one panel (KC x NR) fits in L1
    private static final int NC = 4 * NR;     // most columns per task: its packed block (KC x NC) stays in L2
    private static final int MC = 64;         // rows swept per panel while it is hot in L1

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final DType compute;

    private VectorBackend(DType compute) {
        this.compute = compute;
    }

    @Override
    public String name() {
        return "vector";
    }

    @Override
    public DType compute() {
        return compute;
    }

    @Override
    public Backend fp32() {
        return FP32;
    }

    private static final class Scratch {
        float[] packed = new float[NC * KC];
        final float[] row = new float[KC];
        final float[] aPad = new float[MR * KC];
        final float[] cTile = new float[MR * NR];
    }

    @Override
    public void matmul(float[] a, int m, Matrix b, float[] c) {
        int n = b.rows(), k = b.cols();
        if (compute == DType.BF16) {
            a = roundedToBf16(a, 0, k, m, k);
            b = asBf16(b);
        }
        float[] pre = resident(b);
        float[] ar = a;
        Matrix br = b;
        if (m <= 2) { // matrix-vector: dot products straight off B's rows
            int blocks = (n + 63) / 64;
            Parallel.forEach(blocks, t -> gemv(ar, m, br, c, t * 64, Math.min(n, t * 64 + 64)));
            return;
        }
        // Column tasks pack B once for all their rows; rows are split only when columns alone leave cores idle.
        int target = 2 * Parallel.threads();
        int nc = Math.min(NC, Math.max(NR, roundUp((n + target - 1) / target, NR)));
        int nBlocks = (n + nc - 1) / nc;
        int mBlocks = Math.min((m + MR - 1) / MR, Math.max(1, (target + nBlocks - 1) / nBlocks));
        int mc = roundUp((m + mBlocks - 1) / mBlocks, MR);
        int mTasks = (m + mc - 1) / mc;
        Parallel.forEach(mTasks * nBlocks, t -> {
            int mb = t % mTasks, nb = t / mTasks;
            gemm(ar, 0, k, br, pre, c, 0, n, mb * mc, Math.min(m, mb * mc + mc), nb * nc, Math.min(n, nb * nc + nc));
        });
    }

    @Override
    public void matmul(float[] a, int aOff, int lda, int m, Matrix b, float[] c, int cOff, int ldc) {
        int n = b.rows();
        if (compute == DType.BF16) {
            a = roundedToBf16(a, aOff, lda, m, b.cols());
            aOff = 0;
            lda = b.cols();
            b = asBf16(b);
        }
        float[] pre = resident(b);
        for (int n0 = 0; n0 < n; n0 += NC) gemm(a, aOff, lda, b, pre, c, cOff, ldc, 0, m, n0, Math.min(n, n0 + NC));
    }

    /** The panels of a weight this backend prepared, else null. */
    private float[] resident(Matrix b) {
        return b.storage() instanceof Matrix.Resident r && r.owner() == this ? (float[]) r.form() : null;
    }

    /** b with its rows rounded to bf16 (a no-op for bf16 storage; the storage, so resident panels, stays b's). */
    private Matrix asBf16(Matrix b) {
        if (b.dtype() == DType.BF16) return b;
        return new Matrix() {
            public int rows() { return b.rows(); }
            public int cols() { return b.cols(); }
            public void row(int r, int c0, float[] dst, int off, int n) {
                b.row(r, c0, dst, off, n);
                Convert.roundToBf16(dst, off, n);
            }
            public DType dtype() { return DType.BF16; }
            public Storage storage() { return b.storage(); }
        };
    }

    /** Rows [m x k] of a (row stride lda from aOff) as a new contiguous array rounded to bf16. */
    private static float[] roundedToBf16(float[] a, int aOff, int lda, int m, int k) {
        float[] r = new float[m * k];
        for (int i = 0; i < m; i++) System.arraycopy(a, aOff + i * lda, r, i * k, k);
        if ((long) m * k > 1 << 16) Parallel.forRows(m, 16, (r0, r1) -> Convert.roundToBf16(r, r0 * k, (r1 - r0) * k));
        else Convert.roundToBf16(r, 0, m * k);
        return r;
    }

    private static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }

    /** C[m0..m1) x [n0..n1) = A · B^T, columns n1 - n0 <= NC (n0 a multiple of NR). */
    private static void gemm(float[] a, int aOff, int lda, Matrix b, float[] pre, float[] c, int cOff, int ldc,
                             int m0, int m1, int n0, int n1) {
        Scratch s = SCRATCH.get();
        int k = b.cols();
        int panels = (n1 - n0 + NR - 1) / NR;
        for (int k0 = 0; k0 < k; k0 += KC) {
            int kc = Math.min(KC, k - k0);
            if (pre == null) pack(b, n0, n1, k0, kc, s);
            float[] bp = pre == null ? s.packed : pre;
            boolean first = k0 == 0;
            for (int i0 = m0; i0 < m1; i0 += MC)
                for (int p = 0; p < panels; p++) {
                    int j = n0 + p * NR, nr = Math.min(NR, n1 - j);
                    int b0 = pre == null ? p * NR * kc : (j / NR) * NR * k + k0 * NR;
                    for (int i = i0; i < Math.min(m1, i0 + MC); i += MR) {
                        int mr = Math.min(MR, m1 - i);
                        float[] aSrc = a;
                        int aBase = aOff + i * lda + k0, aStride = lda;
                        if (mr < MR) { // pad the last rows with zeros so the tile kernel stays branch-free
                            java.util.Arrays.fill(s.aPad, 0f);
                            for (int r = 0; r < mr; r++) System.arraycopy(a, aBase + r * lda, s.aPad, r * KC, kc);
                            aSrc = s.aPad;
                            aBase = 0;
                            aStride = KC;
                        }
                        if (mr == MR && nr == NR) {
                            tile(aSrc, aBase, aStride, bp, b0, kc, c, cOff + i * ldc + j, ldc, !first);
                            continue;
                        }
                        tile(aSrc, aBase, aStride, bp, b0, kc, s.cTile, 0, NR, false);
                        for (int r = 0; r < mr; r++)
                            for (int q = 0; q < nr; q++) {
                                int ci = cOff + (i + r) * ldc + j + q;
                                c[ci] = first ? s.cTile[r * NR + q] : c[ci] + s.cTile[r * NR + q];
                            }
                    }
                }
        }
    }

    /** The weight converted once (to fp32, bf16-rounded with bf16 compute) as panels of NR rows over all of K. */
    @Override
    public Matrix prepare(Matrix w) {
        if (resident(w) != null) return w;
        Matrix source = compute == DType.BF16 ? asBf16(w) : w;
        int n = w.rows(), k = w.cols(), count = (n + NR - 1) / NR;
        float[] panels = new float[count * NR * k]; // [panel][k][NR], rows beyond the matrix zero
        Parallel.forEach(count, p -> {
            float[] row = new float[k];
            for (int q = 0; q < NR && p * NR + q < n; q++) {
                source.row(p * NR + q, 0, row, 0, k);
                for (int kk = 0; kk < k; kk++) panels[(p * k + kk) * NR + q] = row[kk];
            }
        });
        return Matrix.resident(w, this, panels);
    }

    /** packed[p][kk][q] = B[n0 + p*NR + q][k0 + kk], zero beyond n1. */
    private static void pack(Matrix b, int n0, int n1, int k0, int kc, Scratch s) {
        int panels = (n1 - n0 + NR - 1) / NR;
        float[] dst = s.packed;
        if (b instanceof Matrix.Strided t && t.rowStride() == 1) { // column-major (a transposed operand): copy runs
            for (int p = 0; p < panels; p++) {
                int j = n0 + p * NR, w = Math.min(NR, n1 - j), base = p * NR * kc;
                for (int kk = 0; kk < kc; kk++) {
                    System.arraycopy(t.data(), t.offset() + (k0 + kk) * t.colStride() + j, dst, base + kk * NR, w);
                    if (w < NR) java.util.Arrays.fill(dst, base + kk * NR + w, base + kk * NR + NR, 0f);
                }
            }
            return;
        }
        for (int p = 0; p < panels; p++) {
            int base = p * NR * kc;
            for (int q = 0; q < NR; q++) {
                int j = n0 + p * NR + q;
                if (j < n1) {
                    b.row(j, k0, s.row, 0, kc);
                    for (int kk = 0; kk < kc; kk++) dst[base + kk * NR + q] = s.row[kk];
                } else {
                    for (int kk = 0; kk < kc; kk++) dst[base + kk * NR + q] = 0f;
                }
            }
        }
    }

    /**
     * 4 x (4 vectors) register tile: c (+)= a[4 x kc] · panel[kc x NR]. Written out by hand: the sixteen accumulators
     * must stay in registers, and any vector passed to a non-inlined method would be boxed on the heap.
     */
    private static void tile(float[] a, int a0, int lda, float[] bp, int b0, int kc, float[] c, int c0, int ldc, boolean acc) {
        int o0 = c0, o1 = c0 + ldc, o2 = c0 + 2 * ldc, o3 = c0 + 3 * ldc;
        FloatVector c00 = init(c, o0, acc), c01 = init(c, o0 + L, acc), c02 = init(c, o0 + 2 * L, acc), c03 = init(c, o0 + 3 * L, acc);
        FloatVector c10 = init(c, o1, acc), c11 = init(c, o1 + L, acc), c12 = init(c, o1 + 2 * L, acc), c13 = init(c, o1 + 3 * L, acc);
        FloatVector c20 = init(c, o2, acc), c21 = init(c, o2 + L, acc), c22 = init(c, o2 + 2 * L, acc), c23 = init(c, o2 + 3 * L, acc);
        FloatVector c30 = init(c, o3, acc), c31 = init(c, o3 + L, acc), c32 = init(c, o3 + 2 * L, acc), c33 = init(c, o3 + 3 * L, acc);
        int r0 = a0, r1 = a0 + lda, r2 = a0 + 2 * lda, r3 = a0 + 3 * lda;
        for (int kk = 0; kk < kc; kk++) {
            int bo = b0 + kk * NR;
            FloatVector b_0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b_1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector b_2 = FloatVector.fromArray(S, bp, bo + 2 * L);
            FloatVector b_3 = FloatVector.fromArray(S, bp, bo + 3 * L);
            FloatVector x = FloatVector.broadcast(S, a[r0 + kk]);
            c00 = b_0.fma(x, c00); c01 = b_1.fma(x, c01); c02 = b_2.fma(x, c02); c03 = b_3.fma(x, c03);
            x = FloatVector.broadcast(S, a[r1 + kk]);
            c10 = b_0.fma(x, c10); c11 = b_1.fma(x, c11); c12 = b_2.fma(x, c12); c13 = b_3.fma(x, c13);
            x = FloatVector.broadcast(S, a[r2 + kk]);
            c20 = b_0.fma(x, c20); c21 = b_1.fma(x, c21); c22 = b_2.fma(x, c22); c23 = b_3.fma(x, c23);
            x = FloatVector.broadcast(S, a[r3 + kk]);
            c30 = b_0.fma(x, c30); c31 = b_1.fma(x, c31); c32 = b_2.fma(x, c32); c33 = b_3.fma(x, c33);
        }
        c00.intoArray(c, o0); c01.intoArray(c, o0 + L); c02.intoArray(c, o0 + 2 * L); c03.intoArray(c, o0 + 3 * L);
        c10.intoArray(c, o1); c11.intoArray(c, o1 + L); c12.intoArray(c, o1 + 2 * L); c13.intoArray(c, o1 + 3 * L);
        c20.intoArray(c, o2); c21.intoArray(c, o2 + L); c22.intoArray(c, o2 + 2 * L); c23.intoArray(c, o2 + 3 * L);
        c30.intoArray(c, o3); c31.intoArray(c, o3 + L); c32.intoArray(c, o3 + 2 * L); c33.intoArray(c, o3 + 3 * L);
    }

    private static FloatVector init(float[] c, int o, boolean acc) {
        return acc ? FloatVector.fromArray(S, c, o) : FloatVector.zero(S);
    }

    /** Rows of C for m <= 2: each output is a dot product of an A row with a converted B row. */
    private static void gemv(float[] a, int m, Matrix b, float[] c, int n0, int n1) {
        int k = b.cols(), n = b.rows();
        float[] row = new float[k];
        for (int j = n0; j < n1; j++) {
            b.row(j, 0, row, 0, k);
            for (int i = 0; i < m; i++) c[i * n + j] = dot(a, i * k, row, 0, k);
        }
    }

    static float dot(float[] x, int xo, float[] y, int yo, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L)
            acc = FloatVector.fromArray(S, x, xo + i).fma(FloatVector.fromArray(S, y, yo + i), acc);
        float sum = VectorOps.sum(acc);
        for (; i < n; i++) sum += x[xo + i] * y[yo + i];
        return sum;
    }
}
