package come4j.tensor;

import come4j.io.Convert;
import java.lang.foreign.MemorySegment;

/**
 * Causal (optionally sliding-window) attention with GQA as torch's bf16 SDPA computes it on the CPU (its flash
 * attention kernel): q, k and v rounded to bf16, scores q·kᵀ accumulated in fp32, scaled, masked and exponentiated in
 * fp32 (max-subtracted), the exponentials rounded to bf16 for the product with v (fp32 accumulation), which is then
 * divided by their fp32 sum. The products run as two oneDNN matmuls per block of queries,
 * batched over (sequence, kv head) pairs: the query heads that share a kv head are stacked as the rows of one product,
 * so GQA needs no copy of keys or values. The per-head 64-query products of {@link Attention} are too small for a
 * native call each; here a batch of 256-token windows of the demo model is 4 calls per layer.
 */
final class OneDnnAttention {
    /**
     * Queries per block: a block's products skip the keys after its last query (3/4 of the causal square at T = 256,
     * about half at 2,048, where it measured 2x faster than one block of all queries).
     */
    private static final int QUERIES = 128;
    /**
     * fp32 scores held at once (1 MB, with their 0.5 MB of bf16 numerators within a core's L2 cache): many pairs run in
     * chunks, very long sequences in smaller blocks of queries. Measured against 32 MB: attention 15-20 % faster at
     * the 7B shape (2,048 tokens), no slower at the demo's.
     */
    private static final long SCORES = 1 << 18;

    private OneDnnAttention() {}

    static void causal(OneDnnBackend K, float[] q, float[] keys, float[] values, int batch, int T, int kvRows, int pos0,
                       int heads, int kvHeads, int hd, float scale, int window, float[] out) {
        int nRep = heads / kvHeads, pairs = batch * kvHeads;
        int block = (int) Math.max(1, Math.min(Math.min(T, QUERIES), SCORES / ((long) nRep * (pos0 + T)))); // queries per block
        int lo0 = window > 0 ? Math.max(0, pos0 - window + 1) : 0, n0 = pos0 + T - lo0; // the keys [lo0, lo0 + n0) are seen
        int chunk = (int) Math.max(1, Math.min(pairs, SCORES / ((long) nRep * block * n0))); // pairs at a time
        Shape s = new Shape(q, keys, values, out, T, kvRows, pos0, heads, kvHeads, hd, scale, window);
        try {
            for (int p0 = 0; p0 < pairs; p0 += chunk) {
                int G = Math.min(chunk, pairs - p0);
                // the pairs' keys and values in bf16 once for all blocks of queries: [G][n0][hd] each
                MemorySegment ks = K.scratch(3, 2L * G * n0 * hd), vs = K.scratch(4, 2L * G * n0 * hd);
                s.convertKeys(p0, G, lo0, n0, ks, vs);
                for (int i0 = 0; i0 < T; i0 += block) {
                    int rows = Math.min(block, T - i0), hi = pos0 + i0 + rows; // the block's queries see keys [lo, hi)
                    int lo = window > 0 ? Math.max(0, pos0 + i0 - window + 1) : 0;
                    s.block(K, p0, G, i0, rows, lo, hi - lo, lo0, n0, ks, vs);
                }
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private record Shape(float[] q, float[] keys, float[] values, float[] out, int T, int kvRows, int pos0, int heads,
                         int kvHeads, int hd, float scale, int window) {
        /** Keys and values [lo0, lo0 + n0) of pairs [p0, p0 + G) rounded to bf16 into ks and vs ([G][n0][hd] each). */
        void convertKeys(int p0, int G, int lo0, int n0, MemorySegment ks, MemorySegment vs) {
            int kvd = kvHeads * hd;
            Parallel.forEach(G, g -> {
                int b = (p0 + g) / kvHeads, kvh = (p0 + g) % kvHeads;
                for (int j = 0; j < n0; j++) {
                    int at = (b * kvRows + lo0 + j) * kvd + kvh * hd;
                    Convert.toBf16(keys, at, hd, ks, 2L * ((long) g * n0 + j) * hd);
                    Convert.toBf16(values, at, hd, vs, 2L * ((long) g * n0 + j) * hd);
                }
            });
        }

        /**
         * Pairs [p0, p0 + G) (pair = sequence * kvHeads + kv head), queries [i0, i0 + rows) of each of their heads,
         * keys [lo, lo + n) (ks and vs hold each pair's n0 keys from lo0). Product row r * rows + t of a pair is head
         * kvHead * nRep + r at query i0 + t.
         */
        void block(OneDnnBackend K, int p0, int G, int i0, int rows, int lo, int n, int lo0, int n0, MemorySegment ks,
                   MemorySegment vs) throws Throwable {
            int nRep = heads / kvHeads, m = nRep * rows, qd = heads * hd;
            MemorySegment qs = K.scratch(2, 2L * G * m * hd), scores = K.scratch(5, 4L * G * m * n),
                    probs = K.scratch(6, 2L * G * m * n), o = K.scratch(7, 4L * G * m * hd);
            Parallel.forEach(G, g -> {
                int b = (p0 + g) / kvHeads, kvh = (p0 + g) % kvHeads;
                for (int r = 0; r < nRep; r++)
                    for (int t = 0; t < rows; t++)
                        Convert.toBf16(q, (b * T + i0 + t) * qd + (kvh * nRep + r) * hd, hd, qs, 2L * ((long) g * m + r * rows + t) * hd);
            });
            long from = 2L * (lo - lo0) * hd, stride = (long) n0 * hd;
            K.matmulBf16(G, m, n, hd, true, stride, qs, ks.asSlice(from), scores);
            float[] inverseSums = new float[G * m];
            Parallel.forRows(G * m, 16, (r0, r1) -> {
                for (int R = r0; R < r1; R++) {
                    int pos = pos0 + i0 + R % rows;
                    int first = window > 0 ? Math.max(lo, pos - window + 1) - lo : 0, len = pos - lo - first + 1;
                    long at = (long) R * n;
                    probs.asSlice(2 * at, 2L * first).fill((byte) 0);
                    inverseSums[R] = 1f / VectorOps.expSumToBf16(scores, 4 * (at + first), len, n - first, scale, probs,
                            2 * (at + first));
                    probs.asSlice(2 * (at + first + len), 2L * (n - first - len)).fill((byte) 0);
                }
            });
            K.matmulBf16(G, m, hd, n, false, stride, probs, vs.asSlice(from), o);
            Parallel.forEach(G, g -> {
                int b = (p0 + g) / kvHeads, kvh = (p0 + g) % kvHeads;
                for (int r = 0; r < nRep; r++)
                    for (int t = 0; t < rows; t++) {
                        int R = g * m + r * rows + t;
                        VectorOps.scaleInto(o, 4L * R * hd, hd, inverseSums[R], out, (b * T + i0 + t) * qd + (kvh * nRep + r) * hd);
                    }
            });
        }
    }
}
