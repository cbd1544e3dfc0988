package come4j.merge;

import come4j.io.DType;
import come4j.io.ScratchTensors;
import come4j.io.ScratchTensors.Values;
import come4j.io.TensorData;
import come4j.model.LayerSchema;
import come4j.model.LayerTensor;
import come4j.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * CoMe's concatenation merge (method.md §8): the merged layer runs a's kept heads and channels beside b's, so no
 * projection weight is averaged. Kept units are in ascending order within each source, a's first. Norms are the plain
 * mean; o_proj/down_proj biases and Qwen3 q/k norms are ratio-weighted. Each tensor's rule, axis and units are its
 * family's ({@link come4j.model.Family}).
 */
public final class ConcatMerge {
    private ConcatMerge() {}

    /** Unit scores of one source layer: S_g per kv group and S_j per FFN channel (§6). */
    public record Scores(double[] heads, double[] channels) {}

    public static MergedLayer merge(ModelConfig c, Map<String, TensorData> a, Map<String, TensorData> b, Scores sa,
                                    Scores sb, double ra, double rb, boolean officialGqaTiling, ScratchTensors store, DType dtype) {
        int[] nHeads = Allocation.allocate(c.numKvHeads(), ra, rb), nCh = Allocation.allocate(c.intermediateSize(), ra, rb);
        int[] ga = Allocation.top(sa.heads(), nHeads[0]), gb = Allocation.top(sb.heads(), nHeads[1]);
        int[] ca = Allocation.top(sa.channels(), nCh[0]), cb = Allocation.top(sb.channels(), nCh[1]);
        int hd = c.headDim();
        int[] qa = rowsOf(queryHeads(c, ga, officialGqaTiling), hd), qb = rowsOf(queryHeads(c, gb, officialGqaTiling), hd);
        int[] kva = rowsOf(ga, hd), kvb = rowsOf(gb, hd);

        Map<LayerTensor.Unit, int[][]> units = Map.of(LayerTensor.Unit.QUERY_HEADS, new int[][] {qa, qb},
                LayerTensor.Unit.KV_HEADS, new int[][] {kva, kvb}, LayerTensor.Unit.FFN_CHANNELS, new int[][] {ca, cb});
        LayerSchema schema = c.schema();
        List<Values> out = new ArrayList<>();
        for (LayerTensor t : schema.parameters()) {
            TensorData ta = a.get(t.name()), tb = b.get(t.name());
            float[] v = switch (t.merge()) {
                case CONCAT -> {
                    int[][] sel = units.get(t.unit());
                    yield t.axis() == LayerTensor.Axis.OUTPUT ? rows(ta, tb, sel[0], sel[1]) : columns(ta, tb, sel[0], sel[1]);
                }
                case MEAN -> WeightSumMerge.weighted(ta, tb, 0.5, 0.5);
                case RATIO -> WeightSumMerge.weighted(ta, tb, ra, rb);
            };
            out.add(new Values(t.name(), schema.shape(t), v));
        }
        return new MergedLayer(store.store(out, dtype), ga, gb, ca, cb);
    }

    /**
     * Query heads that go with kept kv groups. Correct GQA mapping: heads g*n_rep .. g*n_rep + n_rep - 1 of each
     * kept group g. The authors' tiling (parity flag): heads h with h mod K in the kept set, which pairs query heads
     * with the wrong kv heads when n_rep > 1.
     */
    static int[] queryHeads(ModelConfig c, int[] groups, boolean officialGqaTiling) {
        int nRep = c.nRep(), K = c.numKvHeads();
        int[] heads = new int[groups.length * nRep];
        int n = 0;
        if (officialGqaTiling) {
            java.util.Set<Integer> kept = new java.util.HashSet<>();
            for (int g : groups) kept.add(g);
            for (int h = 0; h < c.numHeads(); h++) if (kept.contains(h % K)) heads[n++] = h;
        } else {
            for (int g : groups) for (int r = 0; r < nRep; r++) heads[n++] = g * nRep + r;
        }
        return heads;
    }

    /** Row (or column) indices of whole blocks of width w. */
    static int[] rowsOf(int[] blocks, int w) {
        int[] r = new int[blocks.length * w];
        for (int i = 0; i < blocks.length; i++) for (int j = 0; j < w; j++) r[i * w + j] = blocks[i] * w + j;
        return r;
    }

    /** Rows ia of a, then rows ib of b (a 1-D tensor is a column: one element per row). */
    static float[] rows(TensorData a, TensorData b, int[] ia, int[] ib) {
        int cols = a.shape().length == 1 ? 1 : a.cols();
        float[] out = new float[(ia.length + ib.length) * cols];
        for (int i = 0; i < ia.length; i++) a.toFloat((long) ia[i] * cols, out, i * cols, cols);
        for (int i = 0; i < ib.length; i++) b.toFloat((long) ib[i] * cols, out, (ia.length + i) * cols, cols);
        return out;
    }

    /** Columns ia of a beside columns ib of b, row by row. */
    static float[] columns(TensorData a, TensorData b, int[] ia, int[] ib) {
        int rows = a.rows(), cols = a.cols(), n = ia.length + ib.length;
        float[] out = new float[rows * n], ra = new float[cols], rb = new float[cols];
        for (int r = 0; r < rows; r++) {
            a.toFloat((long) r * cols, ra, 0, cols);
            b.toFloat((long) r * cols, rb, 0, cols);
            for (int i = 0; i < ia.length; i++) out[r * n + i] = ra[ia[i]];
            for (int i = 0; i < ib.length; i++) out[r * n + ia.length + i] = rb[ib[i]];
        }
        return out;
    }
}
