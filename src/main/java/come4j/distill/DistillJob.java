package come4j.distill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.AtomicOutput;
import come4j.io.BadInputException;
import come4j.io.Inputs;
import come4j.io.RecordJson;
import come4j.io.IoFailureException;
import come4j.io.RunFolder;
import come4j.io.TempFolder;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.io.TextFiles;
import come4j.merge.CompressedCheckpoint;
import come4j.merge.MergeRecord;
import come4j.merge.MergeTree;
import come4j.model.Checkpoint;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Tokenizer;
import come4j.model.Transformer;
import come4j.report.DistillReport;
import come4j.report.DistillSettings;
import come4j.report.HashedFile;
import come4j.report.ModelCard;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * `come distill` (schedule sp): reads the student's merge tree from its come-merge.json, trains every merged layer
 * against the teacher's block, and writes the student with the trained layers (in its own dtype), atomically, with
 * come-distill.json, report.html and the model card README.md. Training state lives in a run folder beside the output and is reused when the same
 * command is run again (same settings), so a killed run continues where it stopped.
 */
public final class DistillJob {
    /**
     * train: the layer-wise stage (steps 0: skipped, the student's merged layers as they are); e2eSteps: the
     * end-to-end stage's budget ({@link EndToEnd}; 0: no such stage).
     */
    public record Options(Path teacher, Path student, List<Path> data, Path out, HierarchicalDistiller.Settings train, int e2eSteps,
                          int seqLen, long seed, boolean overwrite, String commandLine) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private DistillJob() {}

    /** The merged layers of a compressed checkpoint: its come-merge.json tree entries that stand for several layers. */
    public static List<HierarchicalDistiller.Block> blocks(JsonNode merge) {
        List<HierarchicalDistiller.Block> out = new ArrayList<>();
        JsonNode tree = merge.path("tree");
        for (int j = 0; j < tree.size(); j++) {
            JsonNode e = tree.get(j);
            if (e.size() > 1) out.add(new HierarchicalDistiller.Block(j, e.get(0).asInt(), e.get(e.size() - 1).asInt()));
        }
        return out;
    }

    public static ObjectNode run(Options o, Consumer<String> log) {
        try (Checkpoint teacherCkpt = Checkpoint.open(o.teacher()); Checkpoint studentCkpt = Checkpoint.open(o.student());
             Tokenizer tok = Tokenizer.load(studentCkpt)) {
            teacherCkpt.requireFinite();
            studentCkpt.requireFinite();
            JsonNode merge = readMerge(o.student());
            ModelConfig tc = teacherCkpt.config(), sc = studentCkpt.config();
            checkCompatible(o, merge, tc, sc);
            List<HierarchicalDistiller.Block> blocks = blocks(merge);
            if (blocks.isEmpty()) throw new BadInputException(o.student(), "has no merged layers to distil (come-merge.json tree)");
            HierarchicalDistiller.Settings s = o.train();
            DistillSettings settings = settings(o, blocks);
            List<Path> inputs = new ArrayList<>(List.of(o.teacher(), o.student()));
            inputs.addAll(o.data());
            try (RunFolder run = RunFolder.open(o.out(), runKey(o, RecordJson.tree(settings)), Inputs.of(inputs))) {
                TempFolder.freeStale().line().ifPresent(log);
                if (run.finishedEarlier()) {
                    run.complete();
                    log.accept(o.out() + " was written by an interrupted run of this command; its commit is now finished");
                    return (ObjectNode) JSON.readTree(o.out().resolve("come-distill.json").toFile());
                }
                run.discarded().ifPresent(why -> log.accept("starting afresh: the interrupted run's state no longer matches (" + why + " changed)"));
                try (AtomicOutput output = AtomicOutput.create(run, o.out(), o.overwrite())) {
                    HierarchicalDistiller.Settings e2e = o.e2eSteps() > 0 ? EndToEnd.settings(s, o.e2eSteps()) : null;
                    TrainingWindows windows = TrainingWindows.build(o.data(), tok, o.seqLen(), Math.max(s.steps(), o.e2eSteps()) * s.batch(), o.seed(),
                            e2e != null ? Math.max(heldOut(s), e2e.auto().heldOut()) : heldOut(s));
                    settings = settings.withWindows(windows.training(), windows.available(), windows.heldOut() > 0 ? windows.heldOut() : null);
                    if (s.steps() > 0) log.accept(plan(blocks.size(), s, o.seqLen(), windows, sc));
                    else log.accept("the layer-wise stage is skipped (--steps 0): the student's merged layers are trained end to end as they are");
                    if (e2e != null) log.accept(planEndToEnd(blocks.size(), e2e, o.seqLen()));
                    Transformer teacher = Transformer.load(teacherCkpt);
                    java.util.Set<Integer> keep = s.steps() > 0 ? HierarchicalDistiller.boundaries(blocks) : new java.util.HashSet<>();
                    if (e2e != null) keep.add(tc.numLayers());
                    List<HierarchicalDistiller.Trained> trained = List.of();
                    EndToEnd.Result joint = null;
                    try (TeacherBoundaries bounds = TeacherBoundaries.compute(teacher, windows, java.util.Collections.max(keep), keep::contains, s.batch())) {
                        if (s.steps() > 0)
                            trained = new HierarchicalDistiller(sc, head(teacherCkpt, s.loss()), bounds, windows, s, run.dir(), log)
                                    .trainAll(blocks, blocks.stream().map(b -> LayerWeights.load(studentCkpt, b.layer())).toList());
                        if (e2e != null) joint = endToEnd(teacherCkpt, studentCkpt, blocks, trained, bounds, windows, e2e, run.dir(), log);
                    }
                    List<LayerParams> result = new ArrayList<>();
                    for (int i = 0; i < blocks.size(); i++)
                        result.add(joint != null ? joint.params(i) : trained.get(i).params());
                    ObjectNode record = record(o, settings, trained);
                    if (joint != null) record.set("e2e", joint.json());
                    write(studentCkpt, blocks, result, output);
                    Files.writeString(output.dir().resolve("come-merge.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(merge) + "\n");
                    Files.writeString(output.dir().resolve("come-distill.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(record) + "\n");
                    DistillReport.writeHtml(merge, record, output.dir().resolve("report.html"));
                    ModelCard.write(merge, record, o.teacher(), output.dir().resolve("README.md")); // the teacher is the base model
                    output.commit();
                    run.complete();
                    return record;
                }
            }
        } catch (IOException | UncheckedIOException e) {
            throw new IoFailureException(o.out(), "cannot write the output (partial output removed, inputs untouched)",
                    e instanceof UncheckedIOException u ? u.getCause() : (IOException) e);
        }
    }

    /**
     * The run folder's key: the settings (training text by hash) and the identity of every file of the teacher and the
     * student ({@link Inputs#identity}), so that the saved training states are reused only on the same inputs.
     */
    private static String runKey(Options o, ObjectNode settings) {
        ObjectNode key = settings.deepCopy();
        key.set("teacher_files", Inputs.identity(o.teacher()));
        key.set("student_files", Inputs.identity(o.student()));
        return key.toPrettyString();
    }

    private static JsonNode readMerge(Path student) throws IOException {
        Path f = student.resolve("come-merge.json");
        if (!Files.isRegularFile(f))
            throw new BadInputException(student, "has no come-merge.json: distillation needs the merge tree that `come compress` records");
        try {
            return JSON.readTree(f.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new BadInputException(f, "is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static void checkCompatible(Options o, JsonNode merge, ModelConfig tc, ModelConfig sc) {
        if (merge.path("input").path("layers").asInt(-1) != tc.numLayers())
            throw new BadInputException(o.teacher(), "has " + tc.numLayers() + " layers but the student was compressed from a model of "
                    + merge.path("input").path("layers").asInt() + " (come-merge.json)");
        MergeTree.parse(o.student().resolve("come-merge.json"), merge.path("tree"), tc.numLayers());
        if (merge.path("tree").size() != sc.numLayers())
            throw new BadInputException(o.student(), "come-merge.json tree has " + merge.path("tree").size() + " layers, config.json " + sc.numLayers());
        if (tc.hiddenSize() != sc.hiddenSize() || tc.vocabSize() != sc.vocabSize() || tc.intermediateSize() != sc.intermediateSize()
                || tc.numHeads() != sc.numHeads() || tc.numKvHeads() != sc.numKvHeads() || !tc.architecture().equals(sc.architecture()))
            throw new BadInputException(o.student(), "is not a compressed version of the teacher (architecture or dimensions differ)");
    }

    /** The held-out windows the settings ask for (0: a fixed schedule). */
    public static int heldOut(HierarchicalDistiller.Settings s) {
        return s.auto() == null ? 0 : s.auto().heldOut();
    }

    /** The plan line, before the teacher's pass: the budget per layer and, automatic, how the rate is chosen and when training stops. */
    public static String plan(int layers, HierarchicalDistiller.Settings s, int seqLen, TrainingWindows windows, ModelConfig c) {
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

    /**
     * The end-to-end stage from the layer-wise stage's layers (the student's own where it was skipped): every student
     * layer in fp32, the merged ones trained. The teacher's logits are read through the student's head, so the two must
     * be the same tensors.
     */
    private static EndToEnd.Result endToEnd(Checkpoint teacher, Checkpoint student, List<HierarchicalDistiller.Block> blocks,
                                            List<HierarchicalDistiller.Trained> trained, TeacherBoundaries bounds, TrainingWindows windows,
                                            HierarchicalDistiller.Settings e2e, Path stateDir, Consumer<String> log) {
        Loss.Head head = Loss.Head.of(student), teachers = Loss.Head.of(teacher);
        if (!same(head.norm(), teachers.norm()) || !same(head.normBias(), teachers.normBias()) || !same(head.projectOut(), teachers.projectOut())
                || !same(head.lmHead(), teachers.lmHead()))
            throw new BadInputException(student.dir(), "has another final norm or LM head than the teacher: the end-to-end stage reads both models' logits through one head");
        ModelConfig c = student.config();
        Transformer model = Transformer.load(student);
        List<LayerParams> layers = new ArrayList<>();
        for (int j = 0; j < c.numLayers(); j++) layers.add(LayerParams.of(c, LayerWeights.load(student, j), Arr::f32)); // not the model's: its resident form
        for (int i = 0; i < trained.size(); i++) layers.set(blocks.get(i).layer(), trained.get(i).params());
        return EndToEnd.train(model, layers, blocks.stream().mapToInt(HierarchicalDistiller.Block::layer).toArray(), head, bounds,
                teacher.config().numLayers(), windows, e2e, stateDir, log);
    }

    private static boolean same(Arr a, Arr b) {
        return a == null ? b == null : b != null && java.util.Arrays.equals(a.toFloat(), b.toFloat());
    }

    /** The end-to-end stage's plan line: its budget, rate search and stopping rule. */
    public static String planEndToEnd(int layers, HierarchicalDistiller.Settings e, int seqLen) {
        var a = e.auto();
        return String.format("then end to end: the %d merged layers together on KL to the teacher's logits, up to %d steps x %d windows x %d tokens;"
                        + " lr chosen among %s by the held-out KL after %d steps each; the held-out KL every %d steps, stopping after %d without a new best",
                layers, e.steps(), e.batch(), seqLen, String.join(", ", a.rates().stream().map(r -> String.format("%.3g", r)).toList()),
                a.searchSteps(e.steps()), a.evalEvery(e.steps()), a.patience());
    }

    /** The frozen final norm and LM head, for the logit-lens loss only. */
    private static Loss.Head head(Checkpoint t, Loss loss) {
        return loss == Loss.LOGIT_LENS_KL ? Loss.Head.of(t) : null;
    }

    private static DistillSettings settings(Options o, List<HierarchicalDistiller.Block> blocks) {
        DistillSettings.EndToEnd e2e = null;
        if (o.e2eSteps() > 0) {
            var e = EndToEnd.settings(o.train(), o.e2eSteps());
            var a = e.auto();
            e2e = new DistillSettings.EndToEnd("kl_logits", e.steps(), a.rates(), a.searchSteps(e.steps()), a.evalEvery(e.steps()), a.patience(),
                    e.adam().warmup());
        }
        return new DistillSettings("sp", absolute(o.teacher()), absolute(o.student()), blocks.size(), o.train().record(), e2e,
                data(o.data(), o.seqLen(), o.seed(), o.train()), null, null, null);
    }

    /** The training text (files and hashes), window length, seed and tokens per layer, as the records state them. */
    public static DistillSettings.Data data(List<Path> files, int seqLen, long seed, HierarchicalDistiller.Settings s) {
        List<HashedFile> data = new ArrayList<>();
        for (Path f : files) {
            TextFiles.requireText(f, "training text"); // before hashing reads it whole
            try {
                data.add(new HashedFile(absolute(f), MergeRecord.sha256(java.lang.foreign.MemorySegment.ofArray(Files.readAllBytes(f)))));
            } catch (IOException e) {
                throw new BadInputException(f, "cannot read: " + e.getMessage());
            }
        }
        return new DistillSettings.Data(seqLen, seed, (long) s.steps() * s.batch() * seqLen, data);
    }

    /** Paths in the records are absolute, as in the recorded command, so they mean the same from any folder. */
    private static String absolute(Path p) {
        return p.toAbsolutePath().normalize().toString();
    }

    private static ObjectNode record(Options o, DistillSettings settings, List<HierarchicalDistiller.Trained> trained) {
        ObjectNode r = JSON.createObjectNode();
        r.put("format", "come4j-distill/1").put("command", o.commandLine());
        r.set("settings", RecordJson.tree(settings));
        var layers = r.putArray("layers");
        trained.forEach(t -> layers.add(t.json()));
        return r;
    }

    /** The student with its trained layers (stored in the student's dtype; one per block) and every other tensor as it was. */
    private static void write(Checkpoint student, List<HierarchicalDistiller.Block> blocks, List<LayerParams> trained, AtomicOutput output)
            throws IOException {
        ModelConfig c = student.config();
        List<Map<String, TensorData>> layers = new ArrayList<>();
        for (int j = 0; j < c.numLayers(); j++) layers.add(Map.of());
        try (ScratchTensors store = new ScratchTensors()) {
            for (int i = 0; i < blocks.size(); i++) layers.set(blocks.get(i).layer(), trained.get(i).store(store, student.dtype()));
            CompressedCheckpoint.write(student, c, new MergeTree(c.numLayers()), layers, output);
        }
    }
}
