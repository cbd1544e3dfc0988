package come4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.calib.ActivationCache;
import come4j.calib.CalibrationPass;
import come4j.calib.CalibrationSet;
import come4j.io.AtomicOutput;
import come4j.io.BadInputException;
import come4j.io.Checkpoint;
import come4j.io.Finite;
import come4j.io.IoFailureException;
import come4j.io.RunFolder;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.io.Tokenizer;
import come4j.merge.CompressedCheckpoint;
import come4j.merge.LayerRemoval;
import come4j.merge.MergeTree;
import come4j.model.ModelConfig;
import come4j.merge.MergeRecord;
import come4j.merge.MergeState;
import come4j.merge.ProgressiveMerger;
import come4j.merge.ProgressiveMerger.Method;
import come4j.model.LayerWeights;
import come4j.model.ParameterCount;
import come4j.model.Transformer;
import come4j.report.MergeReport;
import come4j.report.MergeSummary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "compress", mixinStandardHelpOptions = true,
        description = {"Merge layers with CoMe and write a checkpoint with fewer layers.", "",
                "Calibration windows stream through the model layer by layer; at each step the adjacent pair with the smallest SBI is merged by concatenating the most sensitive kv head groups and FFN channels of both layers in proportion to their BI (CoMe), or with the ratio that minimises calibration NLL (CoMe-P), until the target layer count. The output folder gets the checkpoint in the input's dtype, come-merge.json and report.html; it is written atomically and the input is never modified."})
final class CompressCommand implements Runnable {
    /** Saved in the run folder just before the output is committed: a rerun finding it and the output has nothing to do. */
    private static final String COMMITTED = "committed";

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
            description = "come (ratio from BI), come-p (ratio searched on calibration NLL), weightsum (the ablation: weighted sum with CoMe's pair and ratio), or a removal baseline: shortgpt (lowest BI), reverse (the deepest layers), magnitude / magnitude+ (lowest sum of |weights|; + keeps the first 4 and last 2), sleb (greedy on calibration NLL). Default ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--calib", paramLabel = "FILE", description = "Calibration text: plain text (one row per line) or .jsonl with a \"text\" field; repeatable. Default: the demo model's calibration text.")
    List<Path> calib = new ArrayList<>();

    @Option(names = "--calib-samples", paramLabel = "N", defaultValue = "256", description = "Rows drawn (shuffled with --seed) and joined with a blank line (default ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--seq-len", paramLabel = "N", description = "Calibration window length (default 2048, capped by max_position_embeddings).")
    Integer seqLen;

    @Option(names = "--seed", defaultValue = "10", description = "Seed of the row shuffle (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--batch", defaultValue = "2", description = "Windows per forward pass (default ${DEFAULT-VALUE}; no effect on results).")
    int batch;

    @Option(names = "--official-gqa-tiling", description = "Select query heads as the authors' code does (tiles the kv mask; wrong pairing on GQA models, for parity only).")
    boolean officialGqaTiling;

    @Option(names = "--granularity", defaultValue = "20", description = "CoMe-P ratio grid: 0, 1/G, ..., 1 (default ${DEFAULT-VALUE}).")
    int granularity;

    @Option(names = "--overwrite", description = "Replace an existing output folder (only once the new one is complete).")
    boolean overwrite;

    @Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        Method m = null;
        LayerRemoval.Method removal = null;
        switch (method) {
            case "come" -> m = Method.COME;
            case "come-p" -> m = Method.COME_P;
            case "weightsum" -> m = Method.WEIGHTSUM;
            case "shortgpt" -> removal = LayerRemoval.Method.SHORTGPT;
            case "reverse" -> removal = LayerRemoval.Method.REVERSE;
            case "magnitude" -> removal = LayerRemoval.Method.MAGNITUDE;
            case "magnitude+" -> removal = LayerRemoval.Method.MAGNITUDE_PLUS;
            case "sleb" -> removal = LayerRemoval.Method.SLEB;
            default -> throw new BadInputException(null, "--method must be one of come, come-p, weightsum, shortgpt, reverse, magnitude, magnitude+, sleb; not " + method);
        }
        if (batch < 1 || samples < 1 || granularity < 1) throw new BadInputException(null, "--batch, --calib-samples and --granularity must be >= 1");
        boolean calibrated = removal != LayerRemoval.Method.REVERSE && removal != LayerRemoval.Method.MAGNITUDE
                && removal != LayerRemoval.Method.MAGNITUDE_PLUS;
        long start = System.nanoTime();
        try (Checkpoint ckpt = Checkpoint.open(model.dir); Tokenizer tok = Tokenizer.load(ckpt)) {
            AtomicOutput.checkApart(out, model.dir); // before the run folder appears beside the output
            List<Path> files = calibrated ? calib : List.of();
            if (files.isEmpty() && calibrated) {
                files = List.of(DemoCommand.demoModel().resolve("calib.txt"));
                System.err.println("come: no --calib given: calibrating on the demo model's text " + files.getFirst());
            }
            try (RunFolder run = RunFolder.open(out, runKey(files))) {
                if (Files.exists(out) && run.load(COMMITTED).isPresent()) {
                    run.complete();
                    System.out.println("come: " + out + " was written by an interrupted run of this command");
                    return;
                }
                try (AtomicOutput output = AtomicOutput.create(out, model.dir, overwrite)) { // refuses a bad --out before any work
                    output.removeLeftovers();
                    ObjectNode record = compress(ckpt, tok, files, m, removal, run, output);
                    run.save(COMMITTED, new byte[0]);
                    try {
                        output.commit();
                    } catch (IOException | RuntimeException e) {
                        run.delete(COMMITTED);
                        throw e;
                    }
                    run.complete();
                    MergeSummary.print(record, System.out);
                    System.out.printf("wrote %s (%d layers) in %.1f s%n", out, record.get("output").get("layers").asInt(),
                            (System.nanoTime() - start) / 1e9);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            throw new IoFailureException(out, "cannot write the output (partial output removed, input untouched)",
                    e instanceof UncheckedIOException u ? u.getCause() : (IOException) e);
        }
    }

    /** Computes the compressed model into the uncommitted output; returns its come-merge.json record. */
    private ObjectNode compress(Checkpoint ckpt, Tokenizer tok, List<Path> files, Method m, LayerRemoval.Method removal,
                                RunFolder run, AtomicOutput output) throws IOException {
        var c = ckpt.config();
        int L0 = c.numLayers();
        int targetLayers = target.layers != null ? target.layers : L0 - ParameterCount.of(c).layersToRemove(target.sparsity);
        if (target.sparsity != null && (target.sparsity < 0 || target.sparsity >= 1)) throw new BadInputException(null, "--sparsity must be in [0, 1)");
        if (targetLayers < 1 || targetLayers > L0) throw new BadInputException(null, "target of " + targetLayers + " layers is outside 1.." + L0);
        int L = seqLen != null ? seqLen : Math.min(2048, c.maxPositions());
        if (L < 2 || L > c.maxPositions()) throw new BadInputException(null, "--seq-len must be in 2.." + c.maxPositions());
        CalibrationSet set = files.isEmpty() ? null : CalibrationSet.build(files, tok, samples, L, seed);
        System.err.printf("come: %d layers -> %d with %s%s%n", L0, targetLayers, method, set == null ? " (no calibration)"
                : String.format("; calibration: %d rows, %d windows x %d tokens", set.rows(), set.windows().size(), set.seqLen()));

        Finite.require(ckpt.dir(), ckpt.tensors(), "input");
        Transformer base = Transformer.load(ckpt);
        List<Map<String, TensorData>> tensors = new ArrayList<>();
        for (int i = 0; i < L0; i++) tensors.add(LayerWeights.tensors(ckpt, i));
        Consumer<String> log = msg -> System.err.println("come: " + msg);
        try (ScratchTensors store = new ScratchTensors(); MergeState state = new MergeState(run);
             ActivationCache cache = set == null ? null : new ActivationCache(set.windows().size(), set.seqLen(), c.hiddenSize())) {
            CalibrationPass pass = set == null ? null : new CalibrationPass(set, cache, batch);
            ObjectNode settings = settingsJson(files, set, targetLayers, m);
            ObjectNode record;
            if (removal != null) {
                LayerRemoval.Plan plan = LayerRemoval.plan(removal, base, tensors, pass, L0 - targetLayers, log);
                MergeTree tree = LayerRemoval.tree(L0, plan.removed());
                ModelConfig outConfig = c.withLayers(tree.firstOriginals());
                record = MergeRecord.removal(method, commandLine(), ckpt, settings, outConfig, tree, plan);
                CompressedCheckpoint.write(ckpt, outConfig, tree, Arrays.stream(tree.firstOriginals()).mapToObj(tensors::get).toList(), output);
            } else {
                var s = new ProgressiveMerger.Settings(m, targetLayers, officialGqaTiling, granularity);
                var result = ProgressiveMerger.run(base, tensors, pass, s, store, ckpt.dtype(), state, log);
                record = MergeRecord.build(method, commandLine(), ckpt, settings, result);
                CompressedCheckpoint.write(ckpt, result.config(), result.tree(), result.layers(), output);
            }
            Files.writeString(output.dir().resolve("come-merge.json"),
                    new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(record) + "\n");
            MergeReport.writeHtml(record, output.dir().resolve("report.html"));
            return record;
        }
    }

    /**
     * What the result depends on, as the run folder's key: the command line (less --debug and --overwrite), the
     * calibration files' hashes, the input files' sizes and times, and the version. A rerun of the same command on the
     * same files resumes.
     */
    private String runKey(List<Path> files) throws IOException {
        ObjectNode key = new ObjectMapper().createObjectNode();
        List<String> args = spec.commandLine().getParseResult().originalArgs().stream()
                .filter(a -> !a.equals("--debug") && !a.equals("--overwrite")).toList(); // they change nothing computed
        key.put("version", spec.root().version()[0]).put("args", String.join(" ", args)).put("input", model.dir.toAbsolutePath().toString());
        key.set("calib", calibHashes(files));
        var inputs = key.putArray("input_files");
        try (var list = Files.list(model.dir)) {
            for (Path f : list.sorted().toList())
                inputs.addObject().put("file", f.getFileName().toString()).put("bytes", Files.size(f))
                        .put("modified", Files.getLastModifiedTime(f).toMillis());
        }
        return key.toPrettyString();
    }

    private static ArrayNode calibHashes(List<Path> files) {
        ArrayNode cal = new ObjectMapper().createArrayNode();
        for (Path f : files) {
            try {
                cal.addObject().put("file", f.toString()).put("sha256", MergeRecord.sha256(java.lang.foreign.MemorySegment.ofArray(Files.readAllBytes(f))));
            } catch (IOException e) {
                throw new BadInputException(f, "cannot read: " + e.getMessage());
            }
        }
        return cal;
    }

    private String commandLine() {
        return "come " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
    }

    private ObjectNode settingsJson(List<Path> files, CalibrationSet set, int targetLayers, Method m) {
        ObjectNode s = new ObjectMapper().createObjectNode();
        s.put("target_layers", targetLayers);
        if (target.sparsity != null) s.put("sparsity", target.sparsity);
        if (set == null) return s;
        s.set("calib", calibHashes(files));
        s.put("calib_samples", samples).put("rows", set.rows()).put("seq_len", set.seqLen()).put("seed", seed)
                .put("batch", batch).put("windows", set.windows().size()).put("tokens", set.tokens())
                .put("official_gqa_tiling", officialGqaTiling).put("granularity", granularity)
                .put("sbi_tokens", m == Method.COME_P ? "all" : "last").put("remerge_fallback", "argmin_all");
        return s;
    }
}
