package come4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.calib.CalibrationContext;
import come4j.calib.CalibrationSet;
import come4j.distill.Methods;
import come4j.io.AtomicOutput;
import come4j.io.Inputs;
import come4j.io.IoFailureException;
import come4j.io.Job;
import come4j.io.RecordJson;
import come4j.io.ScratchTensors;
import come4j.io.TempFolder;
import come4j.merge.CompressedCheckpoint;
import come4j.merge.Compression;
import come4j.merge.CompressionMethod;
import come4j.merge.MergeRecord;
import come4j.merge.EditStore;
import come4j.merge.WorkingModel;
import come4j.model.Checkpoint;
import come4j.model.ParameterCount;
import come4j.model.Transformer;
import come4j.report.BenchRecord;
import come4j.report.BenchReport;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * `come bench`: every method at every sparsity on one model, each output evaluated alike, in one table (bench.md,
 * bench.json, bench.html). A cell (method label, sparsity) lives in OUT/cells/LABEL_S/: the checkpoint folder `model`
 * (with its come-merge.json and report.html) and results.json, written last. A cell with results.json is not
 * recomputed on a rerun; only the evaluations it lacks are added. The dense model is the cell "base" (sparsity 0).
 * Every file is replaced atomically (a killed run leaves the old file or the new one); a record that cannot be read is
 * recomputed. {@code cells/inputs.json} holds what the cells were computed from: when an input changed, every cell is.
 *
 * <p>Shared by the cells of one run, each made at most once: the calibration windows and the first statistics pass
 * ({@link CalibrationContext}, created only when a cell needs calibration), and the tokenized evaluation windows
 * ({@link Evaluation}).
 */
public final class Bench {
    /** come-merge.json's settings of a cell; {@code set} is null for a method without calibration. */
    public interface Settings {
        come4j.report.RunSettings of(int targetLayers, double sparsity, CalibrationSet set);
    }

    /** What a run did: cells compressed now, cells found finished, evaluations run, and bench.json. */
    public record Summary(int compressed, int reused, int evaluations, ObjectNode json) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Checkpoint ckpt;
    private final Path out;
    private final Evaluation eval;
    private final Supplier<CalibrationSet> calibration;
    private final int batch;
    private final Methods.Options options;
    private final Settings settings;
    private final String command;
    private final Consumer<String> log;
    private CalibrationContext ctx;
    private JsonNode fixedInputs;
    private int compressed, reused, evaluations;

    public Bench(Checkpoint ckpt, Path out, Evaluation eval, Supplier<CalibrationSet> calibration, int batch,
                 Methods.Options options, Settings settings, String command, Consumer<String> log) {
        ckpt.requireFinite(); // before any cell or table is written
        this.ckpt = ckpt;
        this.out = out;
        this.eval = eval;
        this.calibration = calibration;
        this.batch = batch;
        this.options = options;
        this.settings = settings;
        this.command = command;
        this.log = log;
    }

    /**
     * Runs (or resumes) every cell; tables are rewritten after each cell, so a long run can be read as it goes.
     * {@code inputs}: what the cells depend on, {"fixed": {...}, "evaluations": {name: identity}}; cells computed from
     * other fixed inputs, or from another identity of an evaluation both runs name, are discarded.
     */
    public Summary run(List<String> methods, List<Double> sparsities, ObjectNode inputs) throws IOException {
        List<CompressionMethod> ms = methods.stream().map(m -> Methods.create(m, options)).toList(); // unknown names fail first
        Files.createDirectories(out.resolve("cells"));
        keepCellsOf(inputs);
        fixedInputs = inputs.path("fixed");
        List<ObjectNode> cells = new ArrayList<>();
        List<ObjectNode> failed = new ArrayList<>();
        try {
            cells.add(base());
            write(methods, sparsities, cells, failed);
            for (CompressionMethod m : ms)
                for (double s : sparsities) {
                    try {
                        cells.add(cell(m, s));
                    } catch (UncheckedIOException e) {
                        throw e.getCause(); // an output failure ends the run (exit 3), it is not the cell's
                    } catch (RuntimeException e) {
                        log.accept(m.name() + " at " + s + " failed: " + e.getMessage());
                        failed.add(JSON.createObjectNode().put("method", m.name()).put("sparsity", s).put("error", String.valueOf(e.getMessage())));
                    }
                    write(methods, sparsities, cells, failed);
                }
            return new Summary(compressed, reused, evaluations, write(methods, sparsities, cells, failed));
        } finally {
            if (ctx != null) ctx.close();
        }
    }

    /** Discards the cells when the inputs they were computed from changed; records the inputs of the cells kept. */
    private void keepCellsOf(ObjectNode given) throws IOException {
        Path cells = out.resolve("cells"), file = cells.resolve("inputs.json");
        JsonNode inputs = JSON.readTree(JSON.writeValueAsString(given)); // numbers typed as they read back
        ObjectNode had = read(file), now = (ObjectNode) inputs.deepCopy();
        List<String> changed = new ArrayList<>();
        if (had != null) {
            had.path("fixed").properties().forEach(e -> {
                if (!e.getValue().equals(inputs.path("fixed").get(e.getKey()))) changed.add(e.getKey());
            });
            had.path("evaluations").properties().forEach(e -> {
                JsonNode mine = inputs.path("evaluations").get(e.getKey());
                if (mine == null) now.withObject("evaluations").set(e.getKey(), e.getValue()); // kept, not asked for now
                else if (!mine.equals(e.getValue())) changed.add(e.getKey());
            });
        } else {
            try (var entries = Files.list(cells)) {
                if (entries.findAny().isPresent()) changed.add("no record of them");
            }
        }
        if (!changed.isEmpty()) {
            log.accept("the inputs changed since the cells in " + out + " were computed (" + String.join(", ", changed) + "): recomputing every cell");
            try (var entries = Files.list(cells)) {
                for (Path p : entries.toList()) TempFolder.deleteTree(p);
            }
        }
        if (!now.equals(had)) save(file, now); // a finished bench's files stay as they are
    }

    /** A record saved by an earlier run; null if there is none or it cannot be read (then it is recomputed). */
    private ObjectNode read(Path file) {
        if (!Files.exists(file)) return null;
        try {
            if (JSON.readTree(file.toFile()) instanceof ObjectNode o) return o;
        } catch (IOException e) {
            // said below
        }
        log.accept(file + " cannot be read (left by a killed run?): recomputing it");
        return null;
    }

    private ObjectNode base() throws IOException {
        Path dir = out.resolve("cells").resolve("base"), file = dir.resolve("results.json");
        ObjectNode r = read(file);
        if (r == null) {
            Files.createDirectories(dir);
            r = JSON.createObjectNode().put("method", "base").put("sparsity", 0.0).put("target_layers", ckpt.config().numLayers())
                    .put("layers", ckpt.config().numLayers()).put("parameters", ParameterCount.of(ckpt.config()).total())
                    .put("achieved_sparsity", 0.0).put("compress_seconds", 0.0);
        }
        if (eval.lacksAny(r)) {
            evaluate(r, ckpt);
            save(file, r);
        } else {
            reused++;
        }
        return r;
    }

    private ObjectNode cell(CompressionMethod m, double s) throws IOException {
        Path dir = out.resolve("cells").resolve(m.name() + "_" + plain(s)), file = dir.resolve("results.json"), model = dir.resolve("model");
        ObjectNode r0 = read(file);
        if (r0 != null) {
            ObjectNode r = r0;
            if (!eval.lacksAny(r)) {
                reused++;
                log.accept(m.name() + " at " + plain(s) + ": done before, reused");
                return r;
            }
            try (Checkpoint c = Checkpoint.open(model)) {
                evaluate(r, c);
            }
            save(file, r);
            return r;
        }
        int L0 = ckpt.config().numLayers(), target = L0 - ParameterCount.of(ckpt.config()).layersToRemove(s);
        if (target < 1) throw new IllegalArgumentException("sparsity " + s + " leaves no layer");
        log.accept(m.name() + " at " + plain(s) + ": " + L0 + " -> " + target + " layers");
        CalibrationContext c = m.calibrated() ? context() : contextWithoutCalibration();
        double shared = c.firstPassSeconds();
        long t0 = System.nanoTime();
        Consumer<String> cellLog = msg -> log.accept(m.name() + " " + plain(s) + ": " + msg);
        // the cell's checkpoint is a job of its own, as `come compress` runs it: a killed cell resumes from its saved steps
        Job job = new Job(model, cellKey(m, s), Inputs.of(ckpt.dir()), true);
        try {
            job.run(cellLog, done -> null, (run, o) -> {
                try (ScratchTensors store = new ScratchTensors(); EditStore saved = new EditStore(run)) {
                    Compression result = m.run(new WorkingModel(c, store, saved, null, cellLog), target, cellLog);
                    ObjectNode record = MergeRecord.build(m.name(), command, ckpt, settings.of(target, s, m.calibrated() ? c.set() : null), result);
                    CompressedCheckpoint.write(ckpt, result, record, o);
                    return record;
                }
            });
        } catch (IoFailureException e) {
            throw (IOException) e.getCause(); // a failure to write ends the bench (exit 3), it is not the cell's
        }
        // the shared first pass is the run's, not this cell's: its time is reported once, in bench.json
        double seconds = (System.nanoTime() - t0) / 1e9 - (c.firstPassSeconds() - shared);
        compressed++;
        ObjectNode r = JSON.createObjectNode().put("method", m.name()).put("sparsity", s).put("target_layers", target);
        try (Checkpoint written = Checkpoint.open(model)) {
            ParameterCount p0 = ParameterCount.of(ckpt.config()), p1 = ParameterCount.of(written.config());
            r.put("layers", written.config().numLayers()).put("parameters", p1.total())
                    .put("achieved_sparsity", 1 - (double) p1.total() / p0.total()).put("compress_seconds", seconds);
            evaluate(r, written);
        }
        save(file, r);
        return r;
    }

    /** A cell's run key: the cell and the fixed inputs of {@link #run} (a cell's saved steps are resumed only under both). */
    private String cellKey(CompressionMethod m, double s) {
        ObjectNode key = JSON.createObjectNode().put("method", m.name()).put("sparsity", plain(s));
        key.set("fixed", fixedInputs);
        return key.toPrettyString();
    }

    private void evaluate(ObjectNode r, Checkpoint c) {
        long t0 = System.nanoTime();
        evaluations += eval.complete(r, Transformer.load(c));
        r.put("eval_seconds", r.path("eval_seconds").asDouble() + (System.nanoTime() - t0) / 1e9);
    }

    private CalibrationContext context() {
        if (ctx == null || ctx.set() == null) {
            if (ctx != null) ctx.close();
            ctx = new CalibrationContext(ckpt, calibration.get(), batch);
        }
        return ctx;
    }

    /** Methods without calibration (Reverse, Magnitude) do not build the calibration windows. */
    private CalibrationContext contextWithoutCalibration() {
        if (ctx == null) ctx = new CalibrationContext(ckpt, null, batch);
        return ctx;
    }

    private ObjectNode write(List<String> methods, List<Double> sparsities, List<ObjectNode> cells, List<ObjectNode> failed) throws IOException {
        List<BenchRecord.Text> texts = eval.texts().stream().map(t -> new BenchRecord.Text(t.label(), t.windows().size(),
                t.windows().getFirst().length, t.tokenizeSeconds())).toList();
        boolean firstPass = ctx != null && ctx.firstPassRan();
        int n = firstPass ? ctx.firstPassRequests() : 0;
        var shared = new BenchRecord.Shared(firstPass ? ctx.firstPassSeconds() : null, firstPass ? n : null,
                firstPass ? (n - 1) * ctx.firstPassSeconds() : null, compressed, reused, evaluations);
        ObjectNode b = RecordJson.tree(new BenchRecord(BenchRecord.FORMAT, ckpt.dir().toAbsolutePath().normalize().toString(),
                ckpt.config().numLayers(), command, MergeRecord.backend(come4j.tensor.Backends.forModel(ckpt.dtype())), methods, sparsities,
                texts, eval.tasks().isEmpty() ? null : eval.tasks().stream().map(t -> t.task().key).toList(),
                eval.latency() == null ? null : eval.latency().json(), shared,
                cells.stream().map(c -> RecordJson.read(c, BenchRecord.Cell.class)).toList(),
                failed.stream().map(f -> RecordJson.read(f, BenchRecord.Failed.class)).toList()));
        save(out.resolve("bench.json"), b);
        AtomicOutput.replaceFile(out.resolve("bench.md"), tmp -> Files.writeString(tmp, BenchReport.markdown(b)));
        AtomicOutput.replaceFile(out.resolve("bench.html"), tmp -> BenchReport.writeHtml(b, tmp));
        return b;
    }

    /** 0.1 as "0.1", 0.30 as "0.3": the cell's folder name. */
    static String plain(double s) {
        return BigDecimal.valueOf(s).stripTrailingZeros().toPlainString();
    }

    private static void save(Path file, ObjectNode node) throws IOException {
        String text = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n";
        AtomicOutput.replaceFile(file, tmp -> Files.writeString(tmp, text));
    }
}
