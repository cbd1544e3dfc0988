package come4j.merge;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.calib.ActivationCache;
import come4j.calib.CalibrationContext;
import come4j.calib.CalibrationPass;
import come4j.io.BadInputException;
import come4j.io.DType;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.model.LayerSchema;
import come4j.model.LayerTensor;
import come4j.model.ModelConfig;
import come4j.report.RunSettings.MethodSettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * LaCo (method.md §19.6): layers l+1..l+m collapse into layer l by RDSC, θ*_l = θ_l + Σ_k (θ_{l+k} − θ_l) on the seven
 * projections (deltas against θ_l as it was before this merge, not a running value: the paper's formula, not the
 * official notebook's in-place bug); everything else of layer l (norms, biases) is kept.
 *
 * <p>LaCo's loop walks l down from H − C: a collapse is kept when the mean cosine between the final-normed output of
 * the collapsed model and of the original model, per calibration window, exceeds T; then l −= I, else l −= 1. LaCo has
 * no target count; to reach exactly L* layers a merge collapses at most the layers still to remove (m = min(C − 1,
 * L − L*)), and T is searched by bisection on the calibration windows alone for the largest threshold whose walk
 * reaches L* (if even T = −1, keeping every collapse, cannot, the nearest C that can is used). Every tried collapse is
 * remembered by (C, the collapses kept before it, l, m), so the walks of the search, and the searches of other targets
 * on the same context (a bench), share their passes. Each pass runs
 * from layer l on the original model's cached boundary l: below l the model is still the original.
 */
public final class Laco implements CompressionMethod {
    /** C layers per merge attempt, I positions down after a kept merge, L_low the lowest l. */
    public record Settings(int c, int i, int low) {
        public static final Settings DEFAULTS = new Settings(4, 1, 0);
    }

    /** A tried collapse of current layers l..l+m (standing for {@code originals}) with its similarity and the decision. */
    public record Try(int l, int m, @com.fasterxml.jackson.annotation.JsonProperty("original") List<Integer> originals, double cosine,
                      boolean kept) {}

    /** One walk at threshold t: the tries in order and the layer count it ended with. */
    public record Walk(double t, int c, List<Try> tries, int layers) {}

    private static final int BISECTIONS = 30;

    private final Settings settings;

    public Laco(Settings settings) {
        if (settings.c() < 2 || settings.i() < 1 || settings.low() < 0)
            throw new BadInputException(null, "LaCo needs C >= 2, I >= 1 and L_low >= 0");
        this.settings = settings;
    }

    @Override
    public String name() {
        return "laco";
    }

    /** The names the search and the walk at its threshold are committed under ({@link WorkingModel#steps}). */
    private static final String SEARCHED = "laco-search", WALKED = "laco";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Two committed steps: the search (no edit; its threshold, C, walks and measured collapses), then the walk at its
     * threshold (its collapses). A rerun after the first measures nothing: the walk's collapses were all measured by the
     * search.
     */
    @Override
    public Compression run(WorkingModel work, int targetLayers, Consumer<String> log) {
        if (!work.steps(WALKED).isEmpty()) return work.toCompression(MethodSettings.NONE, (ObjectNode) work.records(WALKED).getFirst());
        Search s = new Search(work.context(), targetLayers);
        try {
            return s.run(work, settings, log);
        } finally {
            s.close();
        }
    }

    /** RDSC of layers[0] (θ_l) with layers[1..m]: the projections summed as above, the rest of θ_l kept. */
    static Map<String, TensorData> rdsc(ModelConfig c, List<Map<String, TensorData>> layers, ScratchTensors store, DType dtype) {
        Map<String, TensorData> base = layers.getFirst();
        LayerSchema schema = c.schema();
        List<ScratchTensors.Values> out = new ArrayList<>();
        for (LayerTensor t : schema.parameters()) {
            if (t.kind() != LayerTensor.Kind.PROJECTION) continue; // norms and biases: layer l's are kept
            String name = t.name();
            float[] l = base.get(name).toFloat(), sum = l.clone();
            for (Map<String, TensorData> next : layers.subList(1, layers.size())) {
                float[] x = next.get(name).toFloat();
                for (int i = 0; i < sum.length; i++) sum[i] += x[i] - l[i];
            }
            out.add(new ScratchTensors.Values(name, schema.shape(t), sum));
        }
        Map<String, TensorData> merged = new java.util.LinkedHashMap<>(base);
        merged.putAll(store.store(out, dtype));
        return merged;
    }

    /** The walks of one compression: the model, the pass, and the similarities measured so far. */
    private static final class Search implements AutoCloseable {
        private final CalibrationContext ctx;
        private final int target;
        private final Map<String, Double> known; // every collapse measured in this context, by the state it was tried in
        private final Map<String, Double> used = new LinkedHashMap<>(); // those this search looked up, in order
        private final List<double[]> tried = new ArrayList<>(); // (C, T, layers reached) per walk of the search
        private ActivationCache cache; // opened at the first measurement
        private CalibrationPass pass;

        Search(CalibrationContext ctx, int target) {
            this.ctx = ctx;
            this.target = target;
            this.known = ctx.shared("laco.cosines", java.util.HashMap::new);
        }

        Compression run(WorkingModel work, Settings s, Consumer<String> log) {
            int L0 = ctx.model().numLayers(), c;
            double lo;
            if (work.steps(SEARCHED).isEmpty()) {
                ctx.firstPass(); // counted as a request of the shared first pass (bench.json), as every calibrated method's
                c = chooseC(s, L0, log);
                lo = -1;
                double hi = 1; // walk(lo) reaches the target; with T = 1 no cosine exceeds T
                for (int k = 0; k < BISECTIONS && target < L0; k++) {
                    double mid = (lo + hi) / 2;
                    if (searchWalk(c, s, mid).layers() == target) lo = mid;
                    else hi = mid;
                }
                work.commit(SEARCHED, record(new Walk(lo, c, List.of(), 0), s));
            } else { // replayed: the search's threshold, walks and measured collapses
                MethodRecord.LacoSearch.Laco done = JSON.convertValue(work.records(SEARCHED).getFirst(), MethodRecord.LacoSearch.class).laco();
                c = done.c();
                lo = done.threshold();
                for (var w : done.search()) tried.add(new double[] {w.c(), w.threshold(), w.layers()});
                for (var m : done.measured()) used.put(m.collapse(), m.cosine());
                known.putAll(used);
            }
            Walk w = walk(c, s, lo, work);
            for (Try t : w.tries())
                log.accept(String.format("LaCo: l = %d, m = %d (original %s): cosine %.6f %s", t.l(), t.m(), t.originals(), t.cosine(),
                        t.kept() ? "> T: kept" : "<= T: rejected"));
            log.accept(String.format("LaCo: T = %.6f, C = %d, I = %d, L_low = %d: %d layers after %d walks over %d distinct collapses",
                    lo, c, s.i(), s.low(), w.layers(), tried.size(), used.size()));
            work.commit(WALKED, record(w, s));
            return work.toCompression(MethodSettings.NONE, (ObjectNode) work.records(WALKED).getFirst());
        }

        /**
         * The C to search T with: the requested one if keeping every collapse (T = −1) reaches the target, else the
         * nearest that does, larger ones first (C at most L0 − 1 − L_low, so that the first window fits).
         */
        private int chooseC(Settings s, int L0, Consumer<String> log) {
            if (target == L0) return s.c(); // nothing to collapse
            int max = L0 - 1 - s.low();
            List<Integer> order = new ArrayList<>();
            for (int c = s.c(); c <= max; c++) order.add(c);
            for (int c = Math.min(s.c(), max + 1) - 1; c >= 2; c--) order.add(c);
            for (int c : order) {
                if (searchWalk(c, s, -1).layers() == target) {
                    if (c != s.c()) log.accept("LaCo: C = " + s.c() + " cannot reach " + target + " layers; C = " + c + " can");
                    return c;
                }
            }
            throw new BadInputException(null, "LaCo cannot reach " + target + " layers with any C (I = " + s.i() + ", L_low = " + s.low() + ")");
        }

        private ObjectNode record(Walk w, Settings s) {
            return new MethodRecord.LacoSearch(new MethodRecord.LacoSearch.Laco(w.t(), w.c(), s.c(), s.i(), s.low(),
                    "mean over calibration windows of cos(flattened final-normed output, same of the original model)", w.tries(),
                    tried.stream().map(t -> new MethodRecord.LacoSearch.Walk((int) t[0], t[1], (int) t[2])).toList(),
                    used.entrySet().stream().map(e -> new MethodRecord.LacoSearch.Measured(e.getKey(), e.getValue())).toList())).json();
        }

        /** A walk of the search, on a copy of the original model that is dropped after it. */
        private Walk searchWalk(int c, Settings s, double t) {
            try (ScratchTensors walkStore = new ScratchTensors()) {
                Walk w = walk(c, s, t, new WorkingModel(ctx, walkStore));
                tried.add(new double[] {c, t, w.layers()});
                return w;
            }
        }

        /** The walk at threshold t from {@code work}'s (original) model; the kept collapses are edits of {@code work}. */
        private Walk walk(int c, Settings s, double t, WorkingModel work) {
            ModelConfig c0 = ctx.model().config();
            DType dtype = ctx.checkpoint().dtype();
            int L0 = c0.numLayers();
            List<Try> tries = new ArrayList<>();
            StringBuilder kept = new StringBuilder();
            int l = L0 - 1 - c;
            while (work.size() > target) {
                int m = Math.min(c - 1, work.size() - target);
                l = Math.min(l, work.size() - 1 - m); // the window stays inside the model [inferred guard]
                if (l < s.low()) break;
                String key = kept + "C=" + c + " l=" + l + " m=" + m; // the collapses kept before it, then this one
                Double cos = known.get(key);
                if (cos == null) {
                    try (ScratchTensors tmp = new ScratchTensors()) {
                        var collapsed = work.candidate(new WorkingModel.Collapse(l, l + m, rdsc(c0, work.tensors().subList(l, l + m + 1), tmp, dtype)));
                        cos = pass().outputCosine(collapsed.model(), l, L0);
                    }
                    known.put(key, cos);
                }
                used.putIfAbsent(key, cos);
                MergeTree tree = work.tree();
                List<Integer> originals = new ArrayList<>();
                for (int j = l; j <= l + m; j++) originals.addAll(tree.get(j));
                boolean keepIt = cos > t;
                tries.add(new Try(l, m, originals, cos, keepIt));
                if (keepIt) {
                    work.collapse(l, l + m, rdsc(c0, work.tensors().subList(l, l + m + 1), work.store(), dtype));
                    kept.append("C=").append(c).append(" l=").append(l).append(" m=").append(m).append(" kept; ");
                    l -= s.i();
                } else {
                    l -= 1;
                }
            }
            return new Walk(t, c, tries, work.size());
        }

        private CalibrationPass pass() {
            if (pass == null) {
                cache = ctx.workingCache();
                pass = ctx.pass(cache);
            }
            return pass;
        }

        @Override
        public void close() {
            if (cache != null) cache.close();
        }
    }
}
