package come4j.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.calib.ActivationCache;
import come4j.calib.CalibrationContext;
import come4j.calib.CalibrationPass;
import come4j.calib.CalibrationPass.LayerStats;
import come4j.io.BadInputException;
import come4j.io.Progress;
import come4j.io.TensorData;
import come4j.model.LayerSchema;
import come4j.model.LayerTensor;
import come4j.model.ModelConfig;
import come4j.model.Role;
import come4j.report.RunSettings.MethodSettings;
import java.util.ArrayList;
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

    /** The name the one-shot removals commit their step under, and SLEB its rounds ({@link WorkingModel#steps}). */
    private static final String BY = "removal", BY_ROUND = "sleb-round";

    /** A removal baseline as a {@link CompressionMethod}: the kept layers, unchanged. */
    public record Removal(String name, Method method) implements CompressionMethod {
        @Override
        public boolean calibrated() {
            return method == Method.SHORTGPT || method == Method.SLEB;
        }

        @Override
        public Compression run(WorkingModel work, int targetLayers, Consumer<String> log) {
            int remove = work.context().model().numLayers() - targetLayers;
            return method == Method.SLEB ? sleb(work, remove, log) : removed(work, () -> plan(method, work.context(), remove));
        }
    }

    /**
     * A removal by per-layer scores computed elsewhere (Taylor's need gradients): the lowest go; {@code plus} keeps the
     * first 4 and the last 2 layers, as Magnitude+ does.
     */
    public record ByScore(String name, java.util.function.Function<CalibrationContext, double[]> scores, boolean plus)
            implements CompressionMethod {
        @Override
        public Compression run(WorkingModel work, int targetLayers, Consumer<String> log) {
            return removed(work, () -> {
                int L = work.context().model().numLayers();
                double[] s = scores.apply(work.context());
                return new Plan(plus ? lowest(s, L - targetLayers, 4, L - 2) : lowest(s, L - targetLayers, 0, L), s, List.of());
            });
        }
    }

    /**
     * The kept layers of a one-shot plan, unchanged: the plan's removals are one committed step, so a rerun after it
     * replays them and computes nothing.
     */
    private static Compression removed(WorkingModel work, java.util.function.Supplier<Plan> plan) {
        if (work.steps(BY).isEmpty()) {
            Plan p = plan.get();
            for (int i = p.removed().length - 1; i >= 0; i--) work.remove(p.removed()[i]); // original = current positions
            work.commit(BY, MergeRecord.removal(p));
        }
        return work.toCompression(MethodSettings.NONE, (ObjectNode) work.records(BY).getFirst());
    }

    /** The plan of a one-shot method (not SLEB, which removes layer by layer). */
    public static Plan plan(Method m, CalibrationContext ctx, int remove) {
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
            case SLEB -> throw new IllegalArgumentException("SLEB removes layer by layer");
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
     * recomputed. Each round is a committed step; a rerun replays them and recomputes the boundaries once.
     */
    private static Compression sleb(WorkingModel work, int remove, Consumer<String> log) {
        CalibrationContext ctx = work.context();
        ctx.firstPass();
        List<double[]> rounds = new ArrayList<>();
        List<Integer> removed = new ArrayList<>();
        for (JsonNode r : work.records(BY_ROUND)) {
            removed.add(r.get("removed").asInt());
            double[] nll = new double[r.get("nll").size()];
            for (int j = 0; j < nll.length; j++) nll[j] = r.get("nll").get(j).asDouble();
            rounds.add(nll);
        }
        try (ActivationCache cache = ctx.workingCache()) {
            CalibrationPass pass = ctx.pass(cache);
            if (!rounds.isEmpty() && rounds.size() < remove) pass.run(work.model(), 0);
            for (int r = rounds.size(); r < remove; r++) {
                int L = work.size();
                double[] nll = new double[L];
                long windowLayers = 0;
                for (int j = 0; j < L; j++) windowLayers += pass.nllWork(L - 1, j);
                try (Progress bar = Progress.start("SLEB round " + (r + 1), windowLayers, "window-layers")) {
                    for (int j = 0; j < L; j++) nll[j] = pass.nllFrom(work.candidate(new WorkingModel.Remove(j)).model(), j, bar);
                }
                int j = lowest(nll, 1, 0, nll.length)[0];
                rounds.add(nll);
                removed.add(work.tree().get(j).getFirst());
                work.remove(j);
                pass.run(work.model(), j);
                ObjectNode round = JsonNodeFactory.instance.objectNode().put("removed", removed.getLast());
                MergeRecord.doubles(round.putArray("nll"), nll);
                work.commit(BY_ROUND, round);
                log.accept(String.format("SLEB round %d: removed original layer %d (calibration NLL %.4f)", r + 1, removed.getLast(), nll[j]));
            }
        }
        Plan p = new Plan(removed.stream().mapToInt(Integer::intValue).sorted().toArray(), null, rounds);
        return work.toCompression(MethodSettings.NONE, MergeRecord.removal(p));
    }
}
