package come4j.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.calib.ActivationCache;
import come4j.calib.CalibrationContext;
import come4j.io.BadInputException;
import come4j.calib.CalibrationPass;
import come4j.calib.ManifoldSimilarity;
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

    /** The name the merges are committed under ({@link WorkingModel#steps}). */
    private static final String BY = "mka";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The fewest windows its similarity is defined for: one more than the mutual information's neighbours. */
    static final int MIN_WINDOWS = ManifoldSimilarity.MI_NEIGHBOURS + 1;

    @Override
    public Compression run(WorkingModel work, int targetLayers, Consumer<String> log) {
        CalibrationContext ctx = work.context();
        int windows = ctx.set().windows().size();
        if (windows < MIN_WINDOWS) // the similarity compares windows: MI needs k + 1 of them, the diffusion map dim + 1
            throw new BadInputException(null, "mka compares calibration windows and needs at least " + MIN_WINDOWS + ", not "
                    + windows + ": give more calibration text (--calib) or shorter windows (--seq-len)");
        ctx.firstPass();
        double[][] s = ctx.shared("mka.similarity", () -> { // once per context: it depends on the original model only
            try (ActivationCache cache = ctx.workingCache()) {
                return similarity(ctx.pass(cache), ctx.model().numLayers(), ctx.model().config().hiddenSize());
            }
        });
        return merge(work, s, targetLayers, log);
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

    /** Merges the last two layers until {@code target}, each merge a committed step (a rerun continues after the last). */
    static Compression merge(WorkingModel work, double[][] s, int target, Consumer<String> log) {
        ModelConfig c0 = work.context().model().config();
        List<Step> steps = new ArrayList<>();
        for (JsonNode done : work.records(BY)) steps.add(JSON.convertValue(done, Step.class));
        while (work.size() > target) {
            int i = work.size() - 2, j = i + 1;
            double a = alpha(s, i, j);
            List<Map<String, TensorData>> tensors = work.tensors();
            MergedLayer m = WeightSumMerge.merge(c0, tensors.get(i), tensors.get(j), a, 1 - a, work.store(), work.context().checkpoint().dtype());
            MergeTree tree = work.tree();
            steps.add(new Step(i, tree.get(i), tree.get(j), mean(s[i]), mean(s[j]), a));
            work.collapse(i, j, m.tensors());
            work.commit(BY, JSON.valueToTree(steps.getLast()));
            log.accept(String.format("MKA: merged layers %d+%d (original %s + %s), alpha %.4f", i, j, steps.getLast().originalI(),
                    steps.getLast().originalJ(), a));
        }
        return work.toCompression(MethodSettings.NONE, record(s, steps));
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
