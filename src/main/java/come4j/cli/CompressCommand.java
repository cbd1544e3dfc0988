package come4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.calib.CalibrationContext;
import come4j.calib.CalibrationSet;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import come4j.distill.Methods;
import come4j.distill.StepDistiller;
import come4j.model.Checkpoint;
import come4j.model.Tokenizer;
import java.util.function.Consumer;
import come4j.io.BadInputException;
import come4j.io.Inputs;
import come4j.io.AtomicOutput;
import come4j.io.Job;
import come4j.merge.EditStore;
import come4j.io.ScratchTensors;
import come4j.merge.CompressedCheckpoint;
import come4j.merge.Compression;
import come4j.merge.CompressionMethod;
import come4j.merge.MergeRecord;
import come4j.merge.WorkingModel;
import come4j.model.ParameterCount;
import come4j.report.MergeSummary;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "compress", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Merge layers with CoMe (or a baseline method) and write a checkpoint with fewer layers.", "",
                "Calibration windows stream through the model layer by layer; at each step the adjacent pair with the smallest SBI is merged by concatenating the most sensitive kv head groups and FFN channels of both layers in proportion to their BI (CoMe), or with the ratio that minimises calibration NLL (CoMe-P), until the target layer count. The baselines (--method) share the same calibration, forward pass and output. The output folder gets the checkpoint in the input's dtype, come-merge.json and report.html; it is written atomically and the input is never modified."},
        footerHeading = "%nExamples:%n",
        footer = {"  come compress --model " + Examples.MODEL + " --sparsity 0.3 \\",
                "      --out out/sotu-come30",
                "  come compress --model " + Examples.MODEL + " --target-layers 8 \\",
                "      --method come-p --calib " + Examples.CALIB + " \\",
                "      --out out/sotu-comep-8l",
                "  come compress --model " + Examples.MODEL + " --sparsity 0.3 \\",
                "      --method shortgpt --out out/sotu-shortgpt30 --json"})
final class CompressCommand implements Runnable {
    @Mixin
    ModelOption model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (must not exist unless --overwrite).")
    Path out;

    static final class Target {
        @Option(names = "--sparsity", paramLabel = "S", description = "Parameter sparsity, e.g. 0.3: removes round(S * P_total / P_layer) layers.")
        Double sparsity;

        @Option(names = "--target-layers", paramLabel = "N", description = "Layer count of the output.")
        Integer layers;
    }

    @ArgGroup(multiplicity = "1")
    Target target;

    @Option(names = "--method", paramLabel = "M", defaultValue = "come",
            description = "come (ratio from BI), come-p (ratio searched on calibration NLL), come-ls / come-p-ls (each merged layer's o_proj and down_proj then refitted by ridge least squares to the original block's output on the calibration windows; variant come-ls-pair: the pair among the 3 smallest-SBI ones by corrected calibration NLL), weightsum (the ablation: weighted sum with CoMe's pair and ratio), a removal baseline: shortgpt (lowest BI), reverse (the deepest layers), magnitude / magnitude+ (lowest sum of |weights|; + keeps the first 4 and last 2), sleb (greedy on calibration NLL), or a merging baseline: laco (RDSC collapse of C layers, threshold searched to reach the target), mka (last two layers by a weighted sum, ratio from manifold similarity). Also taylor / taylor+ (lowest Σ|θ·∂L/∂θ| over the calibration windows; + keeps the first 4 and last 2), streamline (the most similar span replaced by one layer trained with MSE on the calibration windows), and any of them as NAME+distill (its merged layers then distilled, schedule sp; needs --distill-data). Default ${DEFAULT-VALUE}.")
    String method;

    @Mixin
    CalibrationOptions calibration;

    @Mixin
    MethodOptions methodOptions;

    @Option(names = "--overwrite", description = "Replace an existing output folder (only once the new one is complete).")
    boolean overwrite;

    @Option(names = "--json", description = "Print one JSON object instead of the merge table: out, method, layers_before, layers_after, target_sparsity, sparsity (achieved), parameters_before, parameters_after, tree, removed, calib_nll (before, after), seconds.")
    boolean json;

    @Option(names = "--distill-each", description = "Schedule mp: distil each merged layer right after its merge, before the next statistics pass (come, come-p, weightsum; needs --distill-data). For schedule sp in one command use --method NAME+distill.")
    boolean distillEach;

    @Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        CompressionMethod m = Methods.create(method, methodOptions.options());
        if (distillEach && (!m.remeasures() || methodOptions.distillData.isEmpty()))
            throw new BadInputException(null, "--distill-each needs a merging method (come, come-p, weightsum) and --distill-data");
        long start = System.nanoTime();
        Consumer<String> log = common::log;
        try (Checkpoint ckpt = Checkpoint.open(model.dir); Tokenizer tok = Tokenizer.load(ckpt)) {
            targetLayers(ckpt, target.sparsity, target.layers); // a target with nothing to do is refused before asking for --calib
            List<Path> files = m.calibrated() ? calibration.files() : List.of();
            List<Path> inputs = new java.util.ArrayList<>(files);
            inputs.add(model.dir);
            inputs.addAll(methodOptions.distillData);
            JsonNode record = new Job(out, runKey(files), Inputs.of(inputs), overwrite).run(log,
                    done -> come4j.io.UntrustedJson.readObject(done.resolve("come-merge.json"), 1L << 30), (run, output) -> {
                        try (EditStore saved = new EditStore(run)) {
                            return compress(ckpt, tok, files, m, saved, output);
                        }
                    });
            printSummary(record, start);
        }
    }

    /** The merge table and a last line on stdout, or with --json one object. */
    private void printSummary(JsonNode record, long start) {
        double seconds = (System.nanoTime() - start) / 1e9;
        if (json) {
            System.out.println(MergeSummary.json(record, out, seconds));
            return;
        }
        MergeSummary.print(record, System.out);
        System.out.printf("wrote %s (%d layers) in %.1f s%n", out, record.get("output").get("layers").asInt(), seconds);
    }

    /** Computes the compressed model into the uncommitted output; returns its come-merge.json record. */
    private ObjectNode compress(Checkpoint ckpt, Tokenizer tok, List<Path> files, CompressionMethod m, EditStore saved, AtomicOutput output)
            throws IOException {
        int L0 = ckpt.config().numLayers();
        int targetLayers = targetLayers(ckpt, target.sparsity, target.layers);
        common.log(String.format("%d layers -> %d with %s%s", L0, targetLayers, method, m.calibrated() ? "" : " (no calibration)"));
        CalibrationSet set = m.calibrated() ? calibration.build(ckpt, tok, files) : null;
        ckpt.requireFinite();
        Consumer<String> log = common::log;
        try (CalibrationContext ctx = new CalibrationContext(ckpt, set, calibration.batch).logTo(log); ScratchTensors store = new ScratchTensors();
             StepDistiller mp = distillEach ? StepDistiller.prepare(methodOptions.distillSettings(), methodOptions.distillData, ckpt, tok,
                     ctx.model(), store, log) : null) {
            WorkingModel work = new WorkingModel(ctx, store, saved, mp, log);
            Compression c = m.run(work, targetLayers, log);
            ObjectNode record = MergeRecord.build(method, RecordedCommand.of(spec), ckpt,
                    calibration.settings(files, set, targetLayers, target.sparsity), c);
            if (mp != null) record.set("distill", mp.record());
            CompressedCheckpoint.write(ckpt, c, record, output);
            return record;
        }
    }

    /**
     * What the result depends on, as the run folder's key: the command line (less --debug and --overwrite), the
     * calibration and distillation files' hashes, the identity of every file below the model folder (size, times,
     * inode: {@link Inputs#identity}), and the version. A rerun of the same command on unchanged files resumes.
     */
    private String runKey(List<Path> files) {
        ObjectNode key = JsonNodeFactory.instance.objectNode();
        List<String> args = spec.commandLine().getParseResult().originalArgs().stream()
                .filter(a -> !a.equals("--debug") && !a.equals("--overwrite")).toList(); // they change nothing computed
        key.put("version", Version.TEXT).put("args", String.join(" ", args)).put("input", model.dir.toAbsolutePath().toString());
        key.set("calib", Inputs.hashes(files, "calibration text"));
        key.set("distill_data", Inputs.hashes(methodOptions.distillData, "training text"));
        key.set("input_files", Inputs.identity(model.dir));
        return key.toPrettyString();
    }

    /** The layer count a sparsity (method.md §11) or an explicit count asks for, checked. */
    static int targetLayers(Checkpoint ckpt, Double sparsity, Integer layers) {
        int L0 = ckpt.config().numLayers();
        if (sparsity != null && !(sparsity > 0 && sparsity < 1)) throw new BadInputException(null, "--sparsity must be in (0, 1), not " + sparsity);
        int t = layers != null ? layers : L0 - ParameterCount.of(ckpt.config()).layersToRemove(sparsity);
        if (t == L0) // before any calibration: the output would be a copy of the input
            throw new BadInputException(null, (layers != null ? "--target-layers " + t + " is the model's layer count"
                    : "--sparsity " + sparsity + " removes round(S * P_total / P_layer) = 0 of the model's " + L0 + " layers")
                    + ": nothing to do (ask for fewer layers or a higher sparsity; `come inspect` lists what each sparsity removes)");
        if (t < 1 || t > L0) throw new BadInputException(null, "--target-layers " + t + " is outside 1.." + (L0 - 1) + " (the model has " + L0 + " layers)");
        return t;
    }
}
