package come4j.merge;

import come4j.calib.ActivationCache;
import come4j.calib.CalibrationContext;
import come4j.calib.CalibrationPass;
import come4j.calib.CalibrationPass.LayerStats;
import come4j.io.BadInputException;
import come4j.io.Progress;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.model.LayerSchema;
import come4j.model.LayerTensor;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Role;
import come4j.model.Transformer;
import come4j.report.RunSettings.MethodSettings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * The layer-removal baselines of method.md §19.1-19.4, which decide which original layers go: ShortGPT (lowest Block
 * Influence, one shot), Reverse-order (the deepest), Magnitude and Magnitude+ (lowest sum of |weights|; "+" never
 * removes the first 4 or the last 2 layers) and SLEB (greedy: each round drops the layer whose removal costs the least
 * calibration NLL).
 */
public final class LayerRemoval {
    public enum Method { SHORTGPT, REVERSE, MAGNITUDE, MAGNITUDE_PLUS, SLEB }

    /** The removed original layers (ascending); each layer's score where the method ranks layers; SLEB's rounds. */
    public record Plan(int[] removed, double[] scores, List<double[]> rounds) {}

    /** The roles a layer's magnitude (and Taylor) score sums over, in this order: the projections and both layer norms. */
    private static final List<Role> SCORED = List.of(Role.Q, Role.K, Role.V, Role.O, Role.GATE, Role.UP, Role.DOWN, Role.INPUT_NORM,
            Role.POST_ATTENTION_NORM);

    /** The names of the scored tensors in a layer of this config (the roles it has). */
    public static List<String> scoredTensors(ModelConfig c) {
        LayerSchema s = c.schema();
        return SCORED.stream().map(s::find).filter(java.util.Objects::nonNull).map(LayerTensor::name).toList();
    }

    private LayerRemoval() {}

    /** A removal baseline as a {@link CompressionMethod}: the kept layers, unchanged. */
    public record Removal(String name, Method method) implements CompressionMethod {
        @Override
        public boolean calibrated() {
            return method == Method.SHORTGPT || method == Method.SLEB;
        }

        @Override
        public Compression run(CalibrationContext ctx, int targetLayers, ScratchTensors store, Consumer<String> log) {
            return compression(ctx, plan(method, ctx, ctx.model().numLayers() - targetLayers, log));
        }
    }

    /**
     * A removal by per-layer scores computed elsewhere (Taylor's need gradients): the lowest go; {@code plus} keeps the
     * first 4 and the last 2 layers, as Magnitude+ does.
     */
    public record ByScore(String name, java.util.function.Function<CalibrationContext, double[]> scores, boolean plus)
            implements CompressionMethod {
        @Override
        public Compression run(CalibrationContext ctx, int targetLayers, ScratchTensors store, Consumer<String> log) {
            int L = ctx.model().numLayers();
            double[] s = scores.apply(ctx);
            return compression(ctx, new Plan(plus ? lowest(s, L - targetLayers, 4, L - 2) : lowest(s, L - targetLayers, 0, L), s, List.of()));
        }
    }

    /** The kept layers of a plan, unchanged. */
    private static Compression compression(CalibrationContext ctx, Plan plan) {
        MergeTree tree = tree(ctx.model().numLayers(), plan.removed());
        return new Compression(ctx.model().config().withLayers(tree.firstOriginals()), tree,
                java.util.Arrays.stream(tree.firstOriginals()).mapToObj(ctx.tensors()::get).toList(),
                MethodSettings.NONE, MergeRecord.removal(plan));
    }

    public static Plan plan(Method m, CalibrationContext ctx, int remove, Consumer<String> log) {
        int L = ctx.model().numLayers();
        return switch (m) {
            case REVERSE -> new Plan(IntStream.range(L - remove, L).toArray(), null, List.of());
            case SHORTGPT -> {
                double[] bi = ctx.firstPass().stats().stream().mapToDouble(LayerStats::bi).toArray();
                yield new Plan(lowest(bi, remove, 0, L), bi, List.of());
            }
            case MAGNITUDE, MAGNITUDE_PLUS -> {
                List<String> scored = scoredTensors(ctx.model().config());
                double[] score = ctx.tensors().stream().mapToDouble(t -> magnitude(t, scored)).toArray();
                yield m == Method.MAGNITUDE ? new Plan(lowest(score, remove, 0, L), score, List.of())
                        : new Plan(lowest(score, remove, 4, L - 2), score, List.of());
            }
            case SLEB -> {
                ctx.firstPass();
                try (ActivationCache cache = ctx.workingCache()) {
                    yield sleb(ctx.model(), ctx.pass(cache), remove, log);
                }
            }
        };
    }

    /** Σ |w| over the projections and both norms of a layer (p = 1, "sum" reductions). */
    static double magnitude(Map<String, TensorData> layer, List<String> scored) {
        double s = 0;
        for (String name : scored) for (float w : layer.get(name).toFloat()) s += Math.abs(w);
        return s;
    }

    /** The k lowest scores among indices [from, to), lower index first on ties, ascending. */
    static int[] lowest(double[] score, int k, int from, int to) {
        if (to - from < k)
            throw new BadInputException(null, Math.max(0, to - from) + " of the " + score.length + " layers may be removed, not " + k
                    + (from > 0 || to < score.length ? " (the + variants keep the first " + from + " and last " + (score.length - to) + " layers)" : ""));
        return IntStream.range(from, to).boxed().sorted(Comparator.<Integer>comparingDouble(i -> score[i]).thenComparingInt(i -> i))
                .limit(k).mapToInt(Integer::intValue).sorted().toArray();
    }

    /**
     * SLEB. Removing layer j leaves everything before it unchanged, so each candidate runs from the cached boundary j
     * (the first round from the shared first pass); after a removal the boundaries from the removed position on are
     * recomputed.
     */
    private static Plan sleb(Transformer base, CalibrationPass pass, int remove, Consumer<String> log) {
        ModelConfig c0 = base.config();
        List<Integer> kept = new ArrayList<>(IntStream.range(0, base.numLayers()).boxed().toList());
        List<LayerWeights> weights = new ArrayList<>(base.layers());
        List<double[]> rounds = new ArrayList<>();
        List<Integer> removed = new ArrayList<>();
        for (int r = 0; r < remove; r++) {
            double[] nll = new double[kept.size()];
            long work = 0;
            for (int j = 0; j < kept.size(); j++) work += pass.nllWork(kept.size() - 1, j);
            try (Progress bar = Progress.start("SLEB round " + (r + 1), work, "window-layers")) {
                for (int j = 0; j < kept.size(); j++) nll[j] = pass.nllFrom(without(base, c0, kept, weights, j), j, bar);
            }
            int j = lowest(nll, 1, 0, nll.length)[0];
            rounds.add(nll);
            removed.add(kept.remove(j));
            weights.remove(j);
            pass.run(base.withLayers(c0.withLayers(kept.stream().mapToInt(Integer::intValue).toArray()), weights), j);
            log.accept(String.format("SLEB round %d: removed original layer %d (calibration NLL %.4f)", r + 1, removed.getLast(), nll[j]));
        }
        return new Plan(removed.stream().mapToInt(Integer::intValue).sorted().toArray(), null, rounds);
    }

    private static Transformer without(Transformer base, ModelConfig c0, List<Integer> kept, List<LayerWeights> weights, int j) {
        List<Integer> k = new ArrayList<>(kept);
        List<LayerWeights> w = new ArrayList<>(weights);
        k.remove(j);
        w.remove(j);
        return base.withLayers(c0.withLayers(k.stream().mapToInt(Integer::intValue).toArray()), w);
    }

    /** The tree of a removal plan: the kept layers, each standing for itself. */
    public static MergeTree tree(int layers, int[] removed) {
        MergeTree t = new MergeTree(layers);
        for (int i = removed.length - 1; i >= 0; i--) t.remove(removed[i]);
        return t;
    }

}
