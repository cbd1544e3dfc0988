package come4j.cli;

import come4j.bench.Bench;
import come4j.bench.Evaluation;
import come4j.distill.Methods;
import come4j.eval.Latency;
import come4j.eval.Item;
import come4j.eval.Task;
import come4j.io.BadInputException;
import come4j.io.Inputs;
import come4j.io.IoFailureException;
import come4j.io.RunFolder;
import come4j.io.TempFolder;
import come4j.model.Checkpoint;
import come4j.model.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.nio.file.Files;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Compare compression methods on one model: every method at every sparsity, each output evaluated alike, one table.", "",
                "Each cell (method, sparsity) is compressed as `come compress` would (checkpoint, come-merge.json, report.html under OUT/cells/METHOD_S/model) and evaluated on every --ppl text (pruning-paper protocol) and task; the dense model is the first row. OUT gets bench.md, bench.json and bench.html (perplexity against sparsity per text, one line per method). A rerun skips finished cells (their results.json) and only adds evaluations they lack. The calibration windows, the first statistics pass over the original model and the tokenized evaluation texts are computed once per run and shared by all cells."},
        footerHeading = "%nExamples:%n",
        footer = {"  come bench --model " + Examples.MODEL + " --sparsity 0.1,0.2,0.3 \\",
                "      --methods come,come-p,shortgpt --ppl-seq-len 256 \\",
                "      --ppl " + Examples.HELDOUT + " --out out/sotu-bench",
                "  come bench --model " + Examples.MODEL + " --sparsity 0.3 \\",
                "      --methods come,sleb --ppl-seq-len 256 --out out/sotu-bench-tasks \\",
                "      --ppl " + Examples.HELDOUT + " \\",
                "      --tasks boolq,piqa --data-dir " + Examples.TASK_DATA + " --json"})
final class BenchCommand implements Runnable {
    @Mixin
    ModelOption model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Bench folder (created, or resumed when it exists).")
    Path out;

    @Option(names = "--sparsity", split = ",", required = true, paramLabel = "S", description = "Parameter sparsities, e.g. 0.1,0.2,0.3 (each removes round(S * P_total / P_layer) layers).")
    List<Double> sparsities;

    @Option(names = "--methods", split = ",", required = true, paramLabel = "M", description = "Methods, as `come compress --method` takes them, e.g. come,come-p,shortgpt,sleb,laco,mka.")
    List<String> methods;

    @Option(names = "--ppl", required = true, arity = "1..*", paramLabel = "FILE", description = "Texts to score (plain text or .jsonl); repeatable.")
    List<Path> ppl;

    @Option(names = "--ppl-seq-len", paramLabel = "N", description = "Perplexity window length (default 2048, capped by max_position_embeddings).")
    Integer pplSeqLen;

    @Option(names = "--tasks", split = ",", paramLabel = "TASK", description = "Zero-shot tasks, as `come eval --tasks` takes them.")
    List<String> tasks = new ArrayList<>();

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Task data, as `come eval --data-dir`.")
    Path dataDir;

    @Option(names = "--limit", paramLabel = "N", description = "Score only the first N items of each task.")
    Integer limit;

    @Option(names = "--json", description = "Print bench.json's object (with \"out\", the bench folder) instead of the table: model, methods, sparsities, ppl, tasks, shared (cells_compressed, cells_reused, ...), cells (method, sparsity, layers, achieved_sparsity, the evaluations, compress_seconds, eval_seconds), failed.")
    boolean json;

    @Option(names = "--latency-iterations", paramLabel = "N", defaultValue = "0",
            description = "Also time every cell as `come latency` does, shortened: prompt processing (1 x 2048 tokens) with N iterations, generation (64 x (64 + 128) tokens) with ceil(N / 5), one warm-up each (sizes capped by max_position_embeddings as there); tokens/s and the speed-up over the dense model join the table. Default ${DEFAULT-VALUE}: no timing.")
    int latencyIterations;

    @Option(names = "--lm-eval-bos", description = "Encode task requests with the tokenizer's special tokens (as `come eval --lm-eval-bos`).")
    boolean bos;

    @Mixin
    CalibrationOptions calibration;

    @Mixin
    MethodOptions methodOptions;

    @Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        if (!tasks.isEmpty() && dataDir == null) throw new BadInputException(null, "--tasks needs --data-dir (task data are local files)");
        for (double s : sparsities) if (!(s > 0 && s < 1)) throw new BadInputException(null, "--sparsity values must be in (0, 1), not " + s);
        if (latencyIterations < 0) throw new BadInputException(null, "--latency-iterations must be 0 or more, not " + latencyIterations);
        Methods.Options options = methodOptions.options();
        Consumer<String> log = common::log;
        List<Path> inputs = new ArrayList<>(List.of(model.dir));
        inputs.addAll(ppl);
        inputs.addAll(calibration.calib);
        inputs.addAll(methodOptions.distillData);
        if (!tasks.isEmpty()) inputs.add(dataDir);
        try (Checkpoint ckpt = Checkpoint.open(model.dir); Tokenizer tok = Tokenizer.load(ckpt);
             RunFolder run = RunFolder.open(out, "come bench", Inputs.of(inputs))) {
            TempFolder.freeStale().line().ifPresent(log);
            int L = EvalCommand.seqLen(ckpt.config().maxPositions(), pplSeqLen);
            List<Evaluation.Text> texts = new ArrayList<>();
            for (Path f : ppl) {
                long t0 = System.nanoTime();
                List<int[]> w = EvalCommand.windows(tok, f, L);
                texts.add(new Evaluation.Text(label(f), w, (System.nanoTime() - t0) / 1e9));
            }
            List<Evaluation.TaskItems> items = new ArrayList<>();
            for (String key : tasks) {
                Task t = Task.parse(key);
                List<Item> all = t.items(dataDir);
                items.add(new Evaluation.TaskItems(t, Task.first(all, limit)));
            }
            List<Path> files = new ArrayList<>();
            Bench bench = new Bench(ckpt, out, new Evaluation(texts, EvalCommand.batch(L, null), items, tok, bos, latency(ckpt.config())),
                    () -> {
                        files.addAll(calibration.files());
                        return calibration.build(ckpt, tok, files);
                    }, calibration.batch, options,
                    (target, s, set) -> calibration.settings(files, set, target, s),
                    RecordedCommand.of(spec), log);
            Bench.Summary r = bench.run(methods, sparsities, cellInputs());
            run.complete();
            if (json) {
                System.out.println(r.json().deepCopy().put("out", out.toAbsolutePath().toString()));
                return;
            }
            System.out.print(come4j.report.BenchReport.markdown(r.json()));
            System.out.printf("wrote %s: %d cells compressed, %d reused%n", out, r.compressed(), r.reused());
        } catch (IOException | UncheckedIOException e) {
            throw new IoFailureException(out, "cannot write the bench results (no partial file left, inputs untouched)",
                    e instanceof UncheckedIOException u ? u.getCause() : (IOException) e);
        }
    }

    /**
     * The shortened `come latency` protocol of --latency-iterations (the authors' 50 : 10 ratio of prompt to
     * generation iterations), or null for none.
     */
    private Latency.Protocol latency(come4j.model.ModelConfig c) {
        if (latencyIterations == 0) return null;
        Latency.Protocol a = Latency.Protocol.authors(c);
        Latency.Protocol p = new Latency.Protocol(a.promptTokens(), latencyIterations, a.genBatch(), a.genPrompt(), a.genNewTokens(),
                (latencyIterations + 4) / 5, a.warmup(), a.seed());
        String problem = p.problem(c);
        if (problem != null) throw new BadInputException(null, "--latency-iterations: " + problem);
        return p;
    }

    /** Options a rerun may change without invalidating the cells computed so far (they add cells or evaluations, or move them). */
    private static final Set<String> NOT_KEYED = Set.of("--methods", "--sparsity", "--ppl", "--tasks", "--debug", "--out", "--latency-iterations");

    /**
     * What the cells depend on ({@link Bench#run}): fixed, the version, every other option, the model's files
     * ({@link Inputs#identity}) and the calibration and training texts by hash; per evaluation, its text's hash or its
     * task data's identity.
     */
    private ObjectNode cellInputs() {
        ObjectNode key = JsonNodeFactory.instance.objectNode(), fixed = key.putObject("fixed"), evals = key.putObject("evaluations");
        fixed.put("version", Version.TEXT);
        for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions())
            if (!NOT_KEYED.contains(o.longestName())) fixed.put(o.longestName(), String.valueOf((Object) o.getValue()));
        fixed.set("model_files", Inputs.identity(model.dir));
        fixed.set("calib", Inputs.hashes(calibration.calib, "calibration text"));
        fixed.set("distill_data", Inputs.hashes(methodOptions.distillData, "training text"));
        for (Path f : ppl) evals.set(label(f), Inputs.hashes(List.of(f), "text"));
        for (String t : tasks) {
            Path folder = dataDir.resolve(Task.parse(t).folder);
            if (Files.exists(folder)) evals.set("task " + t, Inputs.identity(folder));
        }
        return key;
    }

    /** A text's label in the tables: its folder and name (two files called test.txt stay apart). */
    static String label(Path f) {
        Path abs = f.toAbsolutePath().normalize(), parent = abs.getParent();
        return parent == null || parent.getFileName() == null ? abs.getFileName().toString()
                : parent.getFileName() + "/" + abs.getFileName();
    }
}
