package come4j.tensor;

import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * fp64 matrix product C −= A·B on the Vector API, for the blocked factorisations of the statistics (the ridge solve's
 * Cholesky and triangular solves). A and B are read through strides, so a transposed or reversed operand costs nothing
 * but its packing; C is row-major. One call runs on the calling thread: callers split C into disjoint blocks and run
 * those in parallel. B is packed per (KC × NC) block into panels of NR columns, A per MR rows, negated as it is packed
 * so that the tile only adds; a 6 × (2 vectors) register tile broadcasts one element of A against two vectors of the
 * panel (twelve accumulators: fits the sixteen AVX2 registers as well as the thirty-two of AVX-512).
 */
public final class Fp64Gemm {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int MR = 6;       // rows of A per register tile
    private static final int NR = 2 * L;   // columns of B per panel (2 vectors)
    private static final int KC = 256;     // depth of a packed block: one panel (KC × NR) stays in L1
    private static final int NC = 256;     // columns of a packed block (KC × NC): stays in L2

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Fp64Gemm() {}

    private static final class Scratch {
        final double[] a = new double[MR * KC];
        final double[] b = new double[KC * NC];
        final double[] tile = new double[MR * NR];
    }

    /**
     * C[M × N] −= A[M × depth] · B[depth × N], with A(i, k) = a[aOff + i·aRow + k·aCol], B(k, j) = b[bOff + k·bRow +
     * j·bCol] and C(i, j) = c[cOff + i·ldc + j]. C must not overlap A or B.
     */
    public static void subtractProduct(int M, int N, int depth, double[] a, int aOff, int aRow, int aCol,
                                       double[] b, int bOff, int bRow, int bCol, double[] c, int cOff, int ldc) {
        if (M == 0 || N == 0 || depth == 0) return;
        Scratch s = SCRATCH.get();
        for (int j0 = 0; j0 < N; j0 += NC) {
            int nc = Math.min(NC, N - j0), panels = (nc + NR - 1) / NR;
            for (int k0 = 0; k0 < depth; k0 += KC) {
                int kc = Math.min(KC, depth - k0);
                packB(b, bOff + k0 * bRow + j0 * bCol, bRow, bCol, kc, nc, s.b);
                for (int i0 = 0; i0 < M; i0 += MR) {
                    int mr = Math.min(MR, M - i0);
                    packA(a, aOff + i0 * aRow + k0 * aCol, aRow, aCol, mr, kc, s.a);
                    for (int p = 0; p < panels; p++) {
                        int j = j0 + p * NR, nr = Math.min(NR, N - j), co = cOff + i0 * ldc + j;
                        if (mr == MR && nr == NR) {
                            tile(s.a, s.b, p * kc * NR, kc, c, co, ldc);
                            continue;
                        }
                        Arrays.fill(s.tile, 0); // an edge tile: computed whole into scratch, its valid part added
                        tile(s.a, s.b, p * kc * NR, kc, s.tile, 0, NR);
                        for (int r = 0; r < mr; r++)
                            for (int q = 0; q < nr; q++) c[co + r * ldc + q] += s.tile[r * NR + q];
                    }
                }
            }
        }
    }

    /** dst[kk·MR + r] = −A(r, kk), rows beyond mr zero. */
    private static void packA(double[] a, int off, int row, int col, int mr, int kc, double[] dst) {
        if (mr < MR) Arrays.fill(dst, 0);
        for (int r = 0; r < mr; r++)
            for (int kk = 0; kk < kc; kk++) dst[kk * MR + r] = -a[off + r * row + kk * col];
    }

    /** dst[p][kk][q] = B(kk, p·NR + q), columns beyond nc zero; read along B's contiguous direction. */
    private static void packB(double[] b, int off, int row, int col, int kc, int nc, double[] dst) {
        int panels = (nc + NR - 1) / NR;
        if (nc % NR != 0) Arrays.fill(dst, (panels - 1) * kc * NR, panels * kc * NR, 0);
        if (Math.abs(row) < Math.abs(col)) {
            for (int j = 0; j < nc; j++) {
                int base = (j / NR) * kc * NR + j % NR;
                for (int kk = 0; kk < kc; kk++) dst[base + kk * NR] = b[off + kk * row + j * col];
            }
            return;
        }
        for (int kk = 0; kk < kc; kk++)
            for (int j = 0; j < nc; j++) dst[(j / NR) * kc * NR + kk * NR + j % NR] = b[off + kk * row + j * col];
    }

    /**
     * c[MR rows × NR] += ap · panel. Written out by hand: the twelve accumulators must stay in registers, and a vector
     * passed to a method that is not inlined would be boxed on the heap.
     */
    private static void tile(double[] ap, double[] bp, int b0, int kc, double[] c, int c0, int ldc) {
        int o0 = c0, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc, o4 = o3 + ldc, o5 = o4 + ldc;
        DoubleVector c00 = DoubleVector.fromArray(S, c, o0), c01 = DoubleVector.fromArray(S, c, o0 + L);
        DoubleVector c10 = DoubleVector.fromArray(S, c, o1), c11 = DoubleVector.fromArray(S, c, o1 + L);
        DoubleVector c20 = DoubleVector.fromArray(S, c, o2), c21 = DoubleVector.fromArray(S, c, o2 + L);
        DoubleVector c30 = DoubleVector.fromArray(S, c, o3), c31 = DoubleVector.fromArray(S, c, o3 + L);
        DoubleVector c40 = DoubleVector.fromArray(S, c, o4), c41 = DoubleVector.fromArray(S, c, o4 + L);
        DoubleVector c50 = DoubleVector.fromArray(S, c, o5), c51 = DoubleVector.fromArray(S, c, o5 + L);
        for (int kk = 0, ao = 0, bo = b0; kk < kc; kk++, ao += MR, bo += NR) {
            DoubleVector b0v = DoubleVector.fromArray(S, bp, bo), b1v = DoubleVector.fromArray(S, bp, bo + L);
            DoubleVector x = DoubleVector.broadcast(S, ap[ao]);
            c00 = b0v.fma(x, c00); c01 = b1v.fma(x, c01);
            x = DoubleVector.broadcast(S, ap[ao + 1]);
            c10 = b0v.fma(x, c10); c11 = b1v.fma(x, c11);
            x = DoubleVector.broadcast(S, ap[ao + 2]);
            c20 = b0v.fma(x, c20); c21 = b1v.fma(x, c21);
            x = DoubleVector.broadcast(S, ap[ao + 3]);
            c30 = b0v.fma(x, c30); c31 = b1v.fma(x, c31);
            x = DoubleVector.broadcast(S, ap[ao + 4]);
            c40 = b0v.fma(x, c40); c41 = b1v.fma(x, c41);
            x = DoubleVector.broadcast(S, ap[ao + 5]);
            c50 = b0v.fma(x, c50); c51 = b1v.fma(x, c51);
        }
        c00.intoArray(c, o0); c01.intoArray(c, o0 + L);
        c10.intoArray(c, o1); c11.intoArray(c, o1 + L);
        c20.intoArray(c, o2); c21.intoArray(c, o2 + L);
        c30.intoArray(c, o3); c31.intoArray(c, o3 + L);
        c40.intoArray(c, o4); c41.intoArray(c, o4 + L);
        c50.intoArray(c, o5); c51.intoArray(c, o5 + L);
    }
}
