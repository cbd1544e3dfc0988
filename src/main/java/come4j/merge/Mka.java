package come4j.merge;

import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.calib.ActivationCache;
import come4j.calib.CalibrationContext;
import come4j.calib.CalibrationPass;
import come4j.calib.ManifoldSimilarity;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.model.ModelConfig;
import come4j.report.RunSettings.MethodSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * MKA (method.md §19.7): the layer similarity S is computed once on the original model ({@link ManifoldSimilarity};
 * one point per calibration window: its hidden states at the layer's input, flattened, as MKA's code takes
 * hidden_states[layer]); then, until the target count, the current last two layers i = L−2, j = L−1 merge by a
 * weighted sum of all their tensors (norms included, as WeightSum does) with α_i = sigmoid(ρ_i), ρ_i = s_i / (s_i +
 * s_j), s = the mean of the layer's row of S; rows indexed by current positions, S not recomputed.
 */
public final class Mka implements CompressionMethod {
    /** One merge: the current pair (i, i + 1), the originals they stood for, s_i, s_j and α_i. */
    public record Step(int i, List<Integer> originalI, List<Integer> originalJ, double si, double sj, double alpha) {}

    @Override
    public String name() {
        return "mka";
    }

    @Override
    public Compression run(CalibrationContext ctx, int targetLayers, ScratchTensors store, Consumer<String> log) {
        ctx.firstPass();
        double[][] s = ctx.shared("mka.similarity", () -> { // once per context: it depends on the original model only
            try (ActivationCache cache = ctx.workingCache()) {
                return similarity(ctx.pass(cache), ctx.model().numLayers(), ctx.model().config().hiddenSize());
            }
        });
        return merge(ctx, s, targetLayers, store, log);
    }

    /**
     * S over the original layers, from the cached boundaries 0..L−1 (each layer's input). The windows are compared a
     * slice of tokens at a time (about 16 M floats of all windows together), so the heap never holds them whole.
     */
    static double[][] similarity(CalibrationPass pass, int layers, int d) {
        int n = pass.windowCount(), T = pass.tokensPerWindow(), slice = Math.clamp((1 << 24) / ((long) n * d), 1, T);
        List<double[][]> dist = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            double[][] sq = new double[n][n];
            for (int t0 = 0; t0 < T; t0 += slice) {
                float[][] x = new float[n][];
                for (int w = 0; w < n; w++) x[w] = pass.rows(i, w, t0, Math.min(slice, T - t0), d);
                ManifoldSimilarity.addSquaredDistances(sq, x);
            }
            dist.add(ManifoldSimilarity.distances(sq));
        }
        return ManifoldSimilarity.matrix(dist);
    }

    /** α_i for the pair (i, j): sigmoid of s_i / (s_i + s_j), β = 1. */
    static double alpha(double[][] s, int i, int j) {
        double si = mean(s[i]), sj = mean(s[j]), rho = si / (si + sj);
        return Math.exp(rho) / (1 + Math.exp(rho));
    }

    static Compression merge(CalibrationContext ctx, double[][] s, int target, ScratchTensors store, Consumer<String> log) {
        ModelConfig c0 = ctx.model().config();
        MergeTree tree = new MergeTree(c0.numLayers());
        List<Map<String, TensorData>> tensors = new ArrayList<>(ctx.tensors());
        List<Step> steps = new ArrayList<>();
        while (tensors.size() > target) {
            int i = tensors.size() - 2, j = i + 1;
            double a = alpha(s, i, j);
            MergedLayer m = WeightSumMerge.merge(c0, tensors.get(i), tensors.get(j), a, 1 - a, store, ctx.checkpoint().dtype());
            steps.add(new Step(i, tree.get(i), tree.get(j), mean(s[i]), mean(s[j]), a));
            tensors.set(i, m.tensors());
            tensors.remove(j);
            tree.merge(i);
            log.accept(String.format("MKA: merged layers %d+%d (original %s + %s), alpha %.4f", i, j, steps.getLast().originalI(),
                    steps.getLast().originalJ(), a));
        }
        return new Compression(c0.withLayers(tree.firstOriginals()), tree, tensors, MethodSettings.NONE, record(s, steps));
    }

    private static ObjectNode record(double[][] s, List<Step> steps) {
        return new MethodRecord.MkaMerges(new MethodRecord.MkaMerges.Mka(s, steps.stream().map(x -> new MethodRecord.MkaMerges.Merge(
                new int[] {x.i(), x.i() + 1}, List.of(x.originalI(), x.originalJ()), x.si(), x.sj(), x.alpha())).toList())).json();
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }
}
