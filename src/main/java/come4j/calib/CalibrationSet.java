package come4j.calib;

import come4j.io.BadInputException;
import come4j.io.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Calibration windows by the authors' recipe (method.md §2): rows of the calibration files (lines of a text file, or
 * records of a .jsonl) are shuffled with the seed, the first n are joined with "\n\n", tokenized once, and cut into
 * non-overlapping windows (tail dropped; a text shorter than one window becomes one window of its own length).
 * The shuffle is a seeded Fisher-Yates of java.util.Random, not NumPy's PCG64: a documented non-parity choice.
 */
public record CalibrationSet(List<int[]> windows, int rows, long tokens) {

    public static CalibrationSet build(List<Path> files, Tokenizer tok, int samples, int seqLen, long seed) {
        List<String> rows = new ArrayList<>();
        for (Path f : files) rows.addAll(rows(f));
        if (rows.isEmpty()) throw new BadInputException(files.getFirst(), "calibration text has no rows");
        Collections.shuffle(rows, new Random(seed));
        List<String> chosen = rows.subList(0, Math.min(samples, rows.size()));
        int[] ids = tok.encode(String.join("\n\n", chosen));
        if (ids.length < 2) throw new BadInputException(files.getFirst(), "calibration text gives fewer than 2 tokens");
        List<int[]> windows = new ArrayList<>();
        if (ids.length < seqLen) windows.add(ids);
        for (int i = 0; i + seqLen <= ids.length; i += seqLen) windows.add(Arrays.copyOfRange(ids, i, i + seqLen));
        return new CalibrationSet(List.copyOf(windows), chosen.size(), (long) windows.size() * windows.getFirst().length);
    }

    static List<String> rows(Path file) {
        if (file.getFileName().toString().endsWith(".jsonl")) return come4j.io.TextFiles.documents(file);
        return come4j.io.TextFiles.lines(file); // plain files only, size-capped, strict UTF-8
    }

    public int seqLen() {
        return windows.getFirst().length;
    }
}
