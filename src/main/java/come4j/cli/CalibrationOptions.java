package come4j.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.calib.CalibrationSet;
import come4j.io.BadInputException;
import come4j.io.Checkpoint;
import come4j.io.Tokenizer;
import come4j.merge.MergeRecord;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The calibration options of `come compress` and `come bench`, and the windows and settings record they give. */
final class CalibrationOptions {
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

    /** The calibration files: --calib, or the demo model's text (said on stderr). */
    List<Path> files() {
        calib.forEach(f -> come4j.io.TextFiles.requireText(f, "calibration text")); // before hashing
        if (!calib.isEmpty()) return calib;
        Path demo = DemoCommand.demoModel().resolve("calib.txt");
        System.err.println("come: no --calib given: calibrating on the demo model's text " + demo);
        return List.of(demo);
    }

    CalibrationSet build(Checkpoint ckpt, Tokenizer tok, List<Path> files) {
        if (batch < 1 || samples < 1) throw new BadInputException(null, "--batch and --calib-samples must be >= 1");
        int max = ckpt.config().maxPositions(), L = seqLen != null ? seqLen : Math.min(2048, max);
        if (L < 2 || L > max) throw new BadInputException(null, "--seq-len must be in 2.." + max);
        return CalibrationSet.build(files, tok, samples, L, seed);
    }

    /** come-merge.json's settings: the target, then (with calibration) the files with their hashes and the windows. */
    ObjectNode settingsJson(List<Path> files, CalibrationSet set, int targetLayers, Double sparsity) {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("target_layers", targetLayers);
        if (sparsity != null) s.put("sparsity", sparsity);
        if (set == null) return s;
        var cal = s.putArray("calib");
        for (Path f : files) {
            try {
                cal.addObject().put("file", f.toString()).put("sha256", MergeRecord.sha256(MemorySegment.ofArray(Files.readAllBytes(f))));
            } catch (IOException e) {
                throw new BadInputException(f, "cannot read: " + e.getMessage());
            }
        }
        s.put("calib_samples", samples).put("rows", set.rows()).put("seq_len", set.seqLen()).put("seed", seed)
                .put("batch", batch).put("windows", set.windows().size()).put("tokens", set.tokens());
        return s;
    }
}
