package come4j.cli;

import come4j.calib.ActivationCache;
import come4j.calib.CalibrationSet;
import come4j.io.BadInputException;
import come4j.merge.MergeRecord;
import come4j.model.Checkpoint;
import come4j.model.ModelConfig;
import come4j.model.Tokenizer;
import come4j.report.HashedFile;
import come4j.report.RunSettings;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The calibration options of `come compress` and `come bench`, and the windows and settings record they give. */
final class CalibrationOptions {
    /** Tokens the calibration set holds at most by default: above the 15-30 k tokens of the paper's 256 WikiText-2 rows. */
    static final long DEFAULT_TOKENS = 32_768;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--calib", paramLabel = "FILE", description = "Calibration data: " + CalibrationSet.FORMATS + "; repeatable. Required unless --model is the demo model (which calibrates on its own calib.txt).")
    List<Path> calib = new ArrayList<>();

    @Option(names = "--calib-field", paramLabel = "NAME", defaultValue = "text", description = "Text field of .jsonl/.json/.parquet records (default ${DEFAULT-VALUE}).")
    String field;

    @Option(names = "--calib-samples", paramLabel = "N", defaultValue = "256", description = "Rows drawn (non-blank, shuffled with --seed) and joined with a blank line (default ${DEFAULT-VALUE}, as the paper).")
    int samples;

    @Option(names = "--calib-max-len", paramLabel = "T", description = "Each row is cut to its first T tokens, so one long document cannot flood the set (default: the window length; 0 keeps rows whole, the authors' exact recipe).")
    Integer maxLen;

    @Option(names = "--calib-tokens", paramLabel = "N", defaultValue = "" + DEFAULT_TOKENS, description = "At most N tokens of windows are kept (default ${DEFAULT-VALUE}, above what the paper's 256 WikiText-2 rows give; 0: no limit).")
    long budget;

    @Option(names = "--calib-authors-recipe", description = "The authors' exact recipe (paper parity): blank rows count as rows, rows are not cut, no token limit (--calib-max-len and --calib-tokens are ignored).")
    boolean authors;

    @Option(names = "--calib-seq-len", paramLabel = "N", description = "Calibration window length (default 2048, capped by max_position_embeddings).")
    Integer seqLen;

    @Option(names = "--seed", defaultValue = "10", description = "Seed of the row shuffle (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--batch", defaultValue = "2", description = "Windows per forward pass (default ${DEFAULT-VALUE}; no effect on results).")
    int batch;

    /** The old spelling: calibration windows in `come compress`; in `come bench` it could mean either window, so it is refused. */
    @Option(names = "--seq-len", hidden = true, paramLabel = "N")
    void deprecatedSeqLen(int n) {
        if (command.name().equals("bench"))
            throw new picocli.CommandLine.ParameterException(command.commandLine(),
                    "--seq-len is ambiguous in bench: use --calib-seq-len (calibration windows) or --ppl-seq-len (perplexity windows)");
        CommonOptions.log(command, "--seq-len is deprecated here: use --calib-seq-len");
        seqLen = n;
    }

    /** The calibration files: --calib, or (for the demo model only) the demo model's calib.txt. */
    List<Path> files() {
        calib.forEach(f -> come4j.io.TextFiles.requireText(f, "calibration text")); // before hashing
        if (!calib.isEmpty()) return calib;
        Path model = command.findOption("--model").getValue(), demo = DemoCommand.demoModel();
        if (!isSame(model, demo))
            throw new BadInputException(null, "--calib FILE is needed to calibrate " + model
                    + " (e.g. a .txt or a Hugging Face dataset's .parquet/.jsonl in the model's domain); only the demo model calibrates on its own text by default");
        return List.of(demo.resolve("calib.txt"));
    }

    private static boolean isSame(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }

    /** The windows, after the plan line (samples, windows, tokens, scratch space) and the check that the temp folder holds the cache. */
    CalibrationSet build(Checkpoint ckpt, Tokenizer tok, List<Path> files) {
        if (batch < 1 || samples < 1) throw new BadInputException(null, "--batch and --calib-samples must be >= 1");
        if (budget < 0 || (maxLen != null && maxLen < 0)) throw new BadInputException(null, "--calib-tokens and --calib-max-len must be >= 0");
        ModelConfig c = ckpt.config();
        int max = c.maxPositions(), L = seqLen != null ? seqLen : Math.min(2048, max);
        if (L < 2 || L > max) throw new BadInputException(null, "--calib-seq-len must be in 2.." + max + " (max_position_embeddings)");
        CalibrationSet set = CalibrationSet.build(files, tok, authors ? CalibrationSet.Recipe.authors(samples, L, seed, field)
                : new CalibrationSet.Recipe(samples, maxLen != null ? maxLen : L, budget, L, seed, field, false));
        long cache = ActivationCache.bytesUpTo(c.numLayers(), set.windows().size(), L, c.hiddenSize());
        CalibrationSet.Drawn d = set.drawn();
        CommonOptions.log(command, String.format(Locale.ROOT, "calibration: %d of %,d rows%s, %d windows x %d tokens = %,d tokens%s; "
                        + "activation cache up to %s in %s", set.rows(), d.available(),
                authors ? " (the authors' recipe)" : String.format(Locale.ROOT, " (%d cut to %d tokens)", d.cut(), maxLen != null ? maxLen : L),
                set.windows().size(), L, set.tokens(),
                d.leftOut() > 0 ? " (" + d.leftOut() + " more windows over --calib-tokens " + budget + ")" : "", size(cache), ActivationCache.folder()));
        ActivationCache.requireSpace(cache, "lower --calib-tokens or --calib-samples");
        return set;
    }

    static String size(long bytes) {
        return bytes < 1e9 ? String.format(Locale.ROOT, "%.1f MB", bytes / 1e6) : String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
    }

    /** come-merge.json's settings: the target, then (with calibration) the files with their hashes and the windows. */
    RunSettings settings(List<Path> files, CalibrationSet set, int targetLayers, Double sparsity) {
        if (set == null) return new RunSettings(targetLayers, sparsity, null, null);
        List<HashedFile> cal = new ArrayList<>();
        for (Path f : files) {
            try {
                cal.add(new HashedFile(f.toString(), MergeRecord.sha256(MemorySegment.ofArray(Files.readAllBytes(f)))));
            } catch (IOException e) {
                throw new BadInputException(f, "cannot read: " + e.getMessage());
            }
        }
        return new RunSettings(targetLayers, sparsity, new RunSettings.Calibration(cal, samples, set.rows(), set.seqLen(), seed, batch,
                set.windows().size(), set.tokens(), authors ? "authors" : null, authors ? null : maxLen != null ? maxLen : set.seqLen(),
                authors ? null : budget, authors ? null : set.drawn().cut(),
                calib.stream().anyMatch(come4j.io.Records::isRecordFile) ? field : null), null);
    }
}
