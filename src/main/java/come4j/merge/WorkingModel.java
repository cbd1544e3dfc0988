package come4j.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.calib.CalibrationContext;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Transformer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The model a method is compressing: its tree, per-layer tensors and the live {@link Transformer} over them, changed
 * only by {@link Edit}s, which keep the three consistent. A method commits its edits in steps, each with the method's
 * record of it; the committed steps are all a killed run needs ({@link Log}, kept by {@link EditStore}): a rerun replays
 * them onto the original model and the method continues from the state and records they leave.
 *
 * <p>A {@link #candidate} is the state after an edit that is only tried (CoMe-P's ratios, SLEB's removals, LaCo's
 * collapses): it changes nothing and is never logged.
 */
public final class WorkingModel {
    /** A change of the model, in current layer positions. */
    public sealed interface Edit permits Collapse, Remove, Replace {}

    /** Layers first..last become one layer with {@code tensors}, standing for all their original layers. */
    public record Collapse(int first, int last, Map<String, TensorData> tensors) implements Edit {}

    /** Layer {@code at} goes, standing for nothing. */
    public record Remove(int at) implements Edit {}

    /** Layer {@code at} gets new {@code tensors} (a refined or trained layer); {@code note} is the refinement's record. */
    public record Replace(int at, Map<String, TensorData> tensors, JsonNode note) implements Edit {}

    /** A committed step: the method that made it ({@code by}), its record of the step, and its edits in order. */
    public record Step(String by, JsonNode record, List<Edit> edits) {}

    /** Where committed steps are kept, so that a killed run resumes after the last one ({@link EditStore}). */
    public interface Log {
        Log NONE = new Log() {
            public List<Step> saved() {
                return List.of();
            }

            public void save(List<Step> steps) {}
        };

        /** The steps an earlier run with the same settings committed, in order. */
        List<Step> saved();

        /** Called after each commit with every step so far (the last one new). */
        void save(List<Step> steps);

        /**
         * Where the method {@code by} keeps training states between runs, so that a run killed inside a step's training
         * resumes it (null: nothing is kept).
         */
        default java.nio.file.Path trainingStates(String by) {
            return null;
        }
    }

    /**
     * Schedule mp: what happens to the layer a pair {@link #merge} makes before anything measures it; the refined
     * tensors replace it in the same step (a logged {@link Replace}, so a rerun does not refine it again).
     */
    public interface Refine {
        /** {@code states}: where this step's training may keep its states between runs (null: nowhere). */
        Refined apply(ModelConfig c, int position, List<Integer> originals, Map<String, TensorData> tensors, java.nio.file.Path states);

        /** A refinement an earlier run made, replayed with the note it returned. */
        void replayed(JsonNode note);
    }

    /** A refined layer and the refinement's record. */
    public record Refined(Map<String, TensorData> tensors, JsonNode note) {}

    /** The model after some edits; immutable (an edit makes a new state). */
    public static final class State {
        private final ModelConfig original;
        private final Transformer model;
        private final MergeTree tree;
        private final List<Map<String, TensorData>> tensors;

        private State(ModelConfig original, Transformer model, MergeTree tree, List<Map<String, TensorData>> tensors) {
            this.original = original;
            this.model = model;
            this.tree = tree;
            this.tensors = List.copyOf(tensors);
        }

        public Transformer model() {
            return model;
        }

        public ModelConfig config() {
            return model.config();
        }

        /** A copy of the tree (each current layer's original layers). */
        public MergeTree tree() {
            return tree.copy();
        }

        public List<Map<String, TensorData>> tensors() {
            return tensors;
        }

        public int size() {
            return tensors.size();
        }

        /** This state with {@code e} applied. */
        public State apply(Edit e) {
            MergeTree t = tree.copy();
            List<Map<String, TensorData>> x = new ArrayList<>(tensors);
            List<LayerWeights> w = new ArrayList<>(model.layers());
            int changed = switch (e) {
                case Collapse(int first, int last, Map<String, TensorData> merged) -> {
                    for (int k = first; k < last; k++) t.merge(first);
                    x.subList(first + 1, last + 1).clear();
                    w.subList(first + 1, last + 1).clear();
                    x.set(first, merged);
                    yield first;
                }
                case Remove(int at) -> {
                    t.remove(at);
                    x.remove(at);
                    w.remove(at);
                    yield -1;
                }
                case Replace(int at, Map<String, TensorData> layer, JsonNode note) -> {
                    x.set(at, layer);
                    yield at;
                }
            };
            ModelConfig c = original.withLayers(t.firstOriginals());
            if (changed >= 0) w.set(changed, LayerWeights.of(c, x.get(changed)));
            return new State(original, model.withLayers(c, w), t, x);
        }
    }

    private final CalibrationContext ctx;
    private final ScratchTensors store;
    private final Log saved;
    private final Refine refine;
    private final List<Step> steps = new ArrayList<>();
    private final List<Edit> pending = new ArrayList<>();
    private State state;

    /** The original model of {@code ctx}, nothing saved, no refinement (a bench cell, a test). */
    public WorkingModel(CalibrationContext ctx, ScratchTensors store) {
        this(ctx, store, Log.NONE, null, x -> {});
    }

    /**
     * The original model of {@code ctx} with the steps {@code saved} holds replayed; new tensors go to {@code store};
     * {@code refine} (null: none) refines each pair merge.
     */
    public WorkingModel(CalibrationContext ctx, ScratchTensors store, Log saved, Refine refine, Consumer<String> log) {
        this.ctx = ctx;
        this.store = store;
        this.saved = saved;
        this.refine = refine;
        Transformer base = ctx.model();
        state = new State(base.config(), base, new MergeTree(base.numLayers()), ctx.tensors());
        for (Step s : saved.saved()) {
            for (Edit e : s.edits()) {
                state = state.apply(e);
                if (e instanceof Replace r && r.note() != null && refine != null) refine.replayed(r.note());
            }
            steps.add(s);
        }
        if (!steps.isEmpty()) log.accept("resuming after step " + steps.size() + " (saved by an interrupted run)");
    }

    public CalibrationContext context() {
        return ctx;
    }

    /** Where new tensors of committed edits go. */
    public ScratchTensors store() {
        return store;
    }

    public Transformer model() {
        return state.model();
    }

    public ModelConfig config() {
        return state.config();
    }

    public MergeTree tree() {
        return state.tree();
    }

    public List<Map<String, TensorData>> tensors() {
        return state.tensors();
    }

    public int size() {
        return state.size();
    }

    /** The state {@code e} would lead to; this model is unchanged and nothing is logged. */
    public State candidate(Edit e) {
        return state.apply(e);
    }

    /** Pair (a, a + 1) becomes {@code tensors}, refined as schedule mp says. */
    public void merge(int a, Map<String, TensorData> tensors) {
        apply(new Collapse(a, a + 1, tensors));
        if (refine == null) return;
        // a folder per step: a later merge may refine a layer at the same position, whose state must not be taken for this one's
        Refined r = refine.apply(config(), a, state.tree.get(a), tensors, saved.trainingStates("refine-step-" + (steps.size() + 1)));
        apply(new Replace(a, r.tensors(), r.note()));
    }

    /** Layers first..last become one layer of {@code tensors}. */
    public void collapse(int first, int last, Map<String, TensorData> tensors) {
        apply(new Collapse(first, last, tensors));
    }

    /** Layer {@code at} goes. */
    public void remove(int at) {
        apply(new Remove(at));
    }

    /** Layer {@code at} gets {@code tensors}. */
    public void replace(int at, Map<String, TensorData> tensors) {
        apply(new Replace(at, tensors, null));
    }

    private void apply(Edit e) {
        state = state.apply(e);
        pending.add(e);
    }

    /** The edits since the last commit become a step with {@code record}, saved before this returns. */
    public void commit(String by, JsonNode record) {
        steps.add(new Step(by, record, List.copyOf(pending)));
        pending.clear();
        saved.save(List.copyOf(steps));
    }

    /** Where {@code by} keeps training states between runs ({@link Log#trainingStates}; null: nowhere). */
    public java.nio.file.Path trainingStates(String by) {
        return saved.trainingStates(by);
    }

    /** The committed steps {@code by} made (replayed ones first), in order. */
    public List<Step> steps(String by) {
        return steps.stream().filter(s -> s.by().equals(by)).toList();
    }

    /** The records of {@link #steps(String)}. */
    public List<JsonNode> records(String by) {
        return steps(by).stream().map(Step::record).toList();
    }

    /** The current model as a method's result, with the method's settings and record fields. */
    public Compression toCompression(come4j.report.RunSettings.MethodSettings settings, ObjectNode record) {
        if (!pending.isEmpty()) throw new IllegalStateException("edits not committed: " + pending.size());
        return new Compression(config(), tree(), tensors(), settings, record);
    }
}
