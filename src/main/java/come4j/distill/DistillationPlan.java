package come4j.distill;

import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.BadInputException;
import come4j.io.RecordJson;
import come4j.io.TextFiles;
import come4j.merge.MergeRecord;
import come4j.merge.MergeTree;
import come4j.model.Checkpoint;
import come4j.model.ModelConfig;
import come4j.model.Tokenizer;
import come4j.model.Transformer;
import come4j.report.DistillRecord;
import come4j.report.DistillSettings;
import come4j.report.HashedFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One distillation as every entry point runs it — `come distill`, NAME+distill (schedule sp after a method) and
 * `compress --distill-each` (schedule mp): the settings sized to the model, the training text (files, window length,
 * seed) and the end-to-end stage if any. From them, {@link #prepare} makes the training windows with their held-out
 * slice, the teacher's boundary states and the frozen head of the logit-lens loss; {@link #settings} and
 * {@link #windows} give the typed settings (come-distill.json's "settings", come-merge.json's "distill.settings").
 *
 * @param train the layer-wise stage (steps 0: skipped, for `come distill --steps 0 --e2e-steps N`)
 * @param e2e   the end-to-end stage ({@link EndToEnd}), or null for none
 */
public record DistillationPlan(HierarchicalDistiller.Settings train, HierarchicalDistiller.Settings e2e, List<Path> data, int seqLen,
                               long seed) {
    /** The default training window: 256 tokens (capped by the model's positions). */
    private static final int SEQ_LEN = 256;

    /**
     * NAME+distill and --distill-each: the settings sized to a layer of {@code c} (steps 0: the budget), `come
     * distill`'s default window length and seed, no end-to-end stage.
     */
    public static DistillationPlan sized(HierarchicalDistiller.Settings s, List<Path> data, ModelConfig c) {
        int T = defaultSeqLen(c);
        return new DistillationPlan(s.sized(c, T), null, data, T, 0);
    }

    /** `come distill`: the settings as given, then an end-to-end stage of {@code e2eSteps} steps (0: none). */
    public static DistillationPlan of(HierarchicalDistiller.Settings train, int e2eSteps, List<Path> data, int seqLen, long seed) {
        return new DistillationPlan(train, e2eSteps > 0 ? EndToEnd.settings(train, e2eSteps) : null, data, seqLen, seed);
    }

    public static int defaultSeqLen(ModelConfig c) {
        return Math.min(SEQ_LEN, c.maxPositions());
    }

    /** The merged layers of a compressed model: its tree's entries that stand for several original layers. */
    public static List<HierarchicalDistiller.Block> blocks(MergeTree tree) {
        List<HierarchicalDistiller.Block> out = new ArrayList<>();
        for (int j = 0; j < tree.size(); j++) {
            List<Integer> e = tree.get(j);
            if (e.size() > 1) out.add(new HierarchicalDistiller.Block(j, e.getFirst(), e.getLast()));
        }
        return out;
    }

    /** The held-out windows the settings ask for (0: a fixed schedule). */
    static int heldOut(HierarchicalDistiller.Settings s) {
        return s == null || s.auto() == null ? 0 : s.auto().heldOut();
    }

    /**
     * The settings that decide the result, as the records state them: the schedule and, for `come distill`, the
     * teacher, student and layers trained (null otherwise), then the layer-wise stage's, the end-to-end stage's ("e2e")
     * and the training text's (files and hashes, window length, seed, tokens per layer).
     */
    public DistillSettings settings(String schedule, Path teacher, Path student, Integer layersTrained) {
        DistillSettings.EndToEnd j = null;
        if (e2e != null) {
            var a = e2e.auto();
            j = new DistillSettings.EndToEnd("kl_logits", e2e.steps(), a.rates(), a.searchSteps(e2e.steps()), a.evalEvery(e2e.steps()),
                    a.patience(), e2e.adam().warmup());
        }
        List<HashedFile> files = new ArrayList<>();
        for (Path f : data) {
            TextFiles.requireText(f, "training text"); // before hashing reads it whole
            try {
                files.add(new HashedFile(absolute(f), MergeRecord.sha256(java.lang.foreign.MemorySegment.ofArray(Files.readAllBytes(f)))));
            } catch (IOException e) {
                throw new BadInputException(f, "cannot read: " + e.getMessage());
            }
        }
        return new DistillSettings(schedule, teacher == null ? null : absolute(teacher), student == null ? null : absolute(student),
                layersTrained, train.record(), j, new DistillSettings.Data(seqLen, seed, (long) train.steps() * train.batch() * seqLen, files),
                null, null, null);
    }

    /** Paths in the records are absolute, as in the recorded command, so they mean the same from any folder. */
    static String absolute(Path p) {
        return p.toAbsolutePath().normalize().toString();
    }

    /** {@code settings} with the windows a run trained on (schedule sp; schedule mp does not record them). */
    public static DistillSettings windows(DistillSettings settings, TrainingWindows windows) {
        return settings.withWindows(windows.training(), windows.available(), windows.heldOut() > 0 ? windows.heldOut() : null);
    }

    /** A distillation's record: its settings and each trained layer's (come-merge.json's "distill"). */
    public static ObjectNode record(DistillSettings settings, List<DistillRecord.Layer> layers) {
        return RecordJson.tree(new DistillRecord(null, null, settings, layers, null));
    }

    /**
     * Tokenizes the training text into the windows both stages need (the held-out slice the larger one asks for),
     * states the plan (for {@code blocks}; schedule mp, where blocks is null, states none), and runs the teacher over
     * the windows, keeping the boundaries the blocks train between (every boundary for schedule mp, where any block may
     * come; the last one for the end-to-end stage).
     */
    public Prepared prepare(Tokenizer tok, Checkpoint teacherCkpt, Transformer teacher, List<HierarchicalDistiller.Block> blocks,
                            Consumer<String> log) {
        int needed = Math.max(train.steps(), e2e == null ? 0 : e2e.steps()) * train.batch();
        TrainingWindows windows = TrainingWindows.build(data, tok, seqLen, needed, seed, Math.max(heldOut(train), heldOut(e2e)));
        int L = teacher.numLayers();
        Set<Integer> keep = new HashSet<>();
        if (blocks == null) for (int k = 0; k <= L; k++) keep.add(k);
        else {
            ModelConfig c = teacher.config();
            if (train.steps() > 0) log.accept(plan(blocks.size(), train, seqLen, windows, c));
            else log.accept("the layer-wise stage is skipped (--steps 0): the student's merged layers are trained end to end as they are");
            if (e2e != null) log.accept(planEndToEnd(blocks.size(), e2e, seqLen));
            if (train.steps() > 0) keep.addAll(HierarchicalDistiller.boundaries(blocks));
        }
        if (e2e != null) keep.add(L);
        TeacherBoundaries bounds = TeacherBoundaries.compute(teacher, windows, Collections.max(keep), keep::contains, train.batch());
        return new Prepared(windows, bounds, train.loss() == Loss.LOGIT_LENS_KL ? Loss.Head.of(teacherCkpt) : null);
    }

    /**
     * What a prepared plan trains against: the windows, the teacher's boundary states over them (temp files, removed
     * on close) and the frozen final norm and LM head of the logit-lens loss (null for the other losses).
     */
    public final class Prepared implements AutoCloseable {
        private final TrainingWindows windows;
        private final TeacherBoundaries teacher;
        private final Loss.Head head;

        private Prepared(TrainingWindows windows, TeacherBoundaries teacher, Loss.Head head) {
            this.windows = windows;
            this.teacher = teacher;
            this.head = head;
        }

        public TrainingWindows windows() {
            return windows;
        }

        public TeacherBoundaries teacher() {
            return teacher;
        }

        /** The layer-wise distiller of a student of config {@code student}; stateDir: where its states are kept (null: none). */
        public HierarchicalDistiller distiller(ModelConfig student, Path stateDir, Consumer<String> log) {
            return new HierarchicalDistiller(student, head, teacher, windows, train, stateDir, log);
        }

        @Override
        public void close() {
            teacher.close();
        }
    }

    /** The plan line, before the teacher's pass: the budget per layer and, automatic, how the rate is chosen and when training stops. */
    static String plan(int layers, HierarchicalDistiller.Settings s, int seqLen, TrainingWindows windows, ModelConfig c) {
        String line = String.format("distilling %d merged layers, %s loss: up to %d steps x %d windows x %d tokens = %,d tokens per layer (%s); %d distinct training windows",
                layers, s.loss().id, s.steps(), s.batch(), seqLen, (long) s.steps() * s.batch() * seqLen,
                s.steps() == HierarchicalDistiller.budgetSteps(c, s.batch(), seqLen)
                        ? String.format("%.0f per parameter of a layer, %,d", HierarchicalDistiller.TOKENS_PER_PARAMETER, HierarchicalDistiller.layerParameters(c))
                        : "as asked", windows.training());
        var a = s.auto();
        if (a == null) return line + String.format("; lr %.3g", s.adam().lr());
        return line + String.format("; lr chosen per layer among %s by the held-out loss after %d steps each, on %d held-out windows; then the"
                + " held-out loss every %d steps, stopping after %d without a new best, keeping the best weights",
                String.join(", ", a.rates().stream().map(r -> String.format("%.3g", r)).toList()), a.searchSteps(s.steps()),
                windows.heldOut(), a.evalEvery(s.steps()), a.patience());
    }

    /** The end-to-end stage's plan line: its budget, rate search and stopping rule. */
    static String planEndToEnd(int layers, HierarchicalDistiller.Settings e, int seqLen) {
        var a = e.auto();
        return String.format("then end to end: the %d merged layers together on KL to the teacher's logits, up to %d steps x %d windows x %d tokens;"
                        + " lr chosen among %s by the held-out KL after %d steps each; the held-out KL every %d steps, stopping after %d without a new best",
                layers, e.steps(), e.batch(), seqLen, String.join(", ", a.rates().stream().map(r -> String.format("%.3g", r)).toList()),
                a.searchSteps(e.steps()), a.evalEvery(e.steps()), a.patience());
    }
}
