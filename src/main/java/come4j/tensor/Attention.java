package come4j.tensor;

/**
 * Causal softmax attention on a backend's serial products, split into (window, head, block of queries) tasks; each
 * computes scores only against the keys its queries may see (causal blocks skip future keys, sliding windows old
 * ones). Query head h reads kv head h / (heads / kvHeads); sequence b's keys and values are rows
 * [b * kvRows, (b + 1) * kvRows), indexed by position.
 */
final class Attention {
    private static final int QUERY_BLOCK = 64; // query rows per task

    private Attention() {}

    static void causal(Backend K, float[] q, float[] keys, float[] values, int batch, int T, int kvRows, int pos0,
                       int heads, int kvHeads, int hd, float scale, int window, float[] out) {
        int qd = heads * hd, kvd = kvHeads * hd, nRep = heads / kvHeads;
        int blocks = (T + QUERY_BLOCK - 1) / QUERY_BLOCK;
        Parallel.forEach(batch * heads * blocks, task -> {
            int b = task / (heads * blocks), h = task / blocks % heads, g = h / nRep;
            int i0 = (task % blocks) * QUERY_BLOCK, rows = Math.min(T, i0 + QUERY_BLOCK) - i0;
            int qOff = b * T * qd, kvOff = b * kvRows * kvd; // sequence b's rows
            int hi = pos0 + i0 + rows;
            int lo = window > 0 ? Math.max(0, pos0 + i0 - window + 1) : 0;
            int n = hi - lo;
            float[] s = new float[rows * n];
            K.matmul(q, qOff + i0 * qd + h * hd, qd, rows, Matrix.of(keys, kvOff + lo * kvd + g * hd, n, hd, kvd, 1), s, 0, n);
            for (int r = 0; r < rows; r++) {
                int pos = pos0 + i0 + r, o = r * n;
                int first = window > 0 ? Math.max(lo, pos - window + 1) - lo : 0, last = pos - lo; // inclusive
                java.util.Arrays.fill(s, o, o + first, 0f);
                java.util.Arrays.fill(s, o + last + 1, o + n, 0f);
                VectorOps.scale(s, o + first, last - first + 1, scale);
                VectorOps.softmax(s, o + first, last - first + 1);
            }
            K.matmul(s, 0, n, rows, Matrix.of(values, kvOff + lo * kvd + g * hd, hd, n, 1, kvd), out, qOff + i0 * qd + h * hd, qd);
        });
    }
}
