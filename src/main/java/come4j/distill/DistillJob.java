package come4j.distill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.AtomicOutput;
import come4j.io.BadInputException;
import come4j.io.Inputs;
import come4j.io.IoFailureException;
import come4j.io.Job;
import come4j.io.RecordJson;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.merge.CompressedCheckpoint;
import come4j.merge.MergeTree;
import come4j.model.Checkpoint;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Tokenizer;
import come4j.model.Transformer;
import come4j.report.DistillRecord;
import come4j.report.DistillReport;
import come4j.report.DistillSettings;
import come4j.report.ModelCard;
import java.io.IOException;
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
    /** plan: the layer-wise stage (steps 0: skipped, the student's merged layers as they are) and the end-to-end stage. */
    public record Options(Path teacher, Path student, Path out, DistillationPlan plan, boolean overwrite, String commandLine) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private DistillJob() {}

    public static ObjectNode run(Options o, Consumer<String> log) {
        try (Checkpoint teacherCkpt = Checkpoint.open(o.teacher()); Checkpoint studentCkpt = Checkpoint.open(o.student());
             Tokenizer tok = Tokenizer.load(studentCkpt)) {
            teacherCkpt.requireFinite();
            studentCkpt.requireFinite();
            JsonNode merge = readMerge(o.student());
            ModelConfig tc = teacherCkpt.config(), sc = studentCkpt.config();
            List<HierarchicalDistiller.Block> blocks = DistillationPlan.blocks(checkCompatible(o, merge, tc, sc));
            if (blocks.isEmpty()) throw new BadInputException(o.student(), "has no merged layers to distil (come-merge.json tree)");
            DistillationPlan plan = o.plan();
            DistillSettings asked = plan.settings("sp", o.teacher(), o.student(), blocks.size());
            List<Path> inputs = new ArrayList<>(List.of(o.teacher(), o.student()));
            inputs.addAll(plan.data());
            return new Job(o.out(), runKey(o, asked), Inputs.of(inputs), o.overwrite()).run(log,
                    out -> (ObjectNode) JSON.readTree(out.resolve("come-distill.json").toFile()), (run, output) -> {
                List<HierarchicalDistiller.Trained> trained = List.of();
                EndToEnd.Result joint = null;
                DistillSettings settings;
                try (DistillationPlan.Prepared p = plan.prepare(tok, teacherCkpt, Transformer.load(teacherCkpt), blocks, log)) {
                    settings = DistillationPlan.windows(asked, p.windows());
                    if (plan.train().steps() > 0)
                        trained = p.distiller(sc, run.dir(), log).trainAll(blocks, blocks.stream().map(b -> LayerWeights.load(studentCkpt, b.layer())).toList());
                    if (plan.e2e() != null) joint = endToEnd(teacherCkpt, studentCkpt, blocks, trained, p, plan.e2e(), run.dir(), log);
                }
                List<LayerParams> result = new ArrayList<>();
                for (int i = 0; i < blocks.size(); i++)
                    result.add(joint != null ? joint.params(i) : trained.get(i).params());
                ObjectNode record = RecordJson.tree(new DistillRecord("come4j-distill/1", o.commandLine(), settings,
                        trained.stream().map(HierarchicalDistiller.Trained::record).toList(), joint == null ? null : joint.record()));
                write(studentCkpt, blocks, result, output);
                Files.writeString(output.dir().resolve("come-merge.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(merge) + "\n");
                Files.writeString(output.dir().resolve("come-distill.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(record) + "\n");
                DistillReport.writeHtml(merge, record, output.dir().resolve("report.html"));
                ModelCard.write(merge, record, o.teacher(), output.dir().resolve("README.md")); // the teacher is the base model
                return record;
            });
        }
    }

    /**
     * The run folder's key: the settings (training text by hash) and the identity of every file of the teacher and the
     * student ({@link Inputs#identity}), so that the saved training states are reused only on the same inputs.
     */
    private static String runKey(Options o, DistillSettings settings) {
        ObjectNode key = RecordJson.tree(settings);
        key.set("teacher_files", Inputs.identity(o.teacher()));
        key.set("student_files", Inputs.identity(o.student()));
        return key.toPrettyString();
    }

    private static JsonNode readMerge(Path student) {
        Path f = student.resolve("come-merge.json");
        if (!Files.isRegularFile(f))
            throw new BadInputException(student, "has no come-merge.json: distillation needs the merge tree that `come compress` records");
        try {
            return JSON.readTree(f.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new BadInputException(f, "is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) { // an input: bad input, not an output failure
            throw new BadInputException(f, "cannot read: " + IoFailureException.reason(e));
        }
    }

    /** The student's merge tree, once it is checked against the teacher and the student's config. */
    private static MergeTree checkCompatible(Options o, JsonNode merge, ModelConfig tc, ModelConfig sc) {
        if (merge.path("input").path("layers").asInt(-1) != tc.numLayers())
            throw new BadInputException(o.teacher(), "has " + tc.numLayers() + " layers but the student was compressed from a model of "
                    + merge.path("input").path("layers").asInt() + " (come-merge.json)");
        MergeTree tree = MergeTree.parse(o.student().resolve("come-merge.json"), merge.path("tree"), tc.numLayers());
        if (merge.path("tree").size() != sc.numLayers())
            throw new BadInputException(o.student(), "come-merge.json tree has " + merge.path("tree").size() + " layers, config.json " + sc.numLayers());
        if (tc.hiddenSize() != sc.hiddenSize() || tc.vocabSize() != sc.vocabSize() || tc.intermediateSize() != sc.intermediateSize()
                || tc.numHeads() != sc.numHeads() || tc.numKvHeads() != sc.numKvHeads() || !tc.architecture().equals(sc.architecture()))
            throw new BadInputException(o.student(), "is not a compressed version of the teacher (architecture or dimensions differ)");
        return tree;
    }

    /**
     * The end-to-end stage from the layer-wise stage's layers (the student's own where it was skipped): every student
     * layer in fp32, the merged ones trained. The teacher's logits are read through the student's head, so the two must
     * be the same tensors.
     */
    private static EndToEnd.Result endToEnd(Checkpoint teacher, Checkpoint student, List<HierarchicalDistiller.Block> blocks,
                                            List<HierarchicalDistiller.Trained> trained, DistillationPlan.Prepared prepared,
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
        return EndToEnd.train(model, layers, blocks.stream().mapToInt(HierarchicalDistiller.Block::layer).toArray(), head, prepared.teacher(),
                teacher.config().numLayers(), prepared.windows(), e2e, stateDir, log);
    }

    private static boolean same(Arr a, Arr b) {
        return a == null ? b == null : b != null && java.util.Arrays.equals(a.toFloat(), b.toFloat());
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
