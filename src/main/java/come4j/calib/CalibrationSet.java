package come4j.calib;

import com.fasterxml.jackson.databind.JsonNode;
import come4j.io.BadInputException;
import come4j.io.Records;
import come4j.io.TextFiles;
import come4j.model.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Calibration windows by the authors' recipe (method.md §2), bounded as llm-compressor bounds its samples: the rows of
 * the calibration files (lines of a .txt file, or the {@code field} of each record of a .jsonl, .json or .parquet file),
 * blank ones skipped, are shuffled with the seed, the first {@code samples} are taken, each is cut to its first
 * {@code maxLen} tokens, they are joined with "\n\n", tokenized once and cut into non-overlapping windows (tail
 * dropped), of which at most {@code budget} tokens' worth are kept. {@link Recipe#authors} is the authors' recipe
 * exactly. The shuffle is a seeded Fisher-Yates of java.util.Random, not NumPy's PCG64: a documented non-parity choice.
 */
public record CalibrationSet(List<int[]> windows, int rows, long tokens, Drawn drawn) {
    /** The file types calibration reads, as bad-input messages name them. */
    public static final String FORMATS = ".txt (one row per line), .jsonl, .json or .parquet (Hugging Face dataset records)";

    /** How the set was drawn: rows available, rows cut to the cap, windows the token budget left out. */
    public record Drawn(int available, int cut, int leftOut) {}

    /**
     * The recipe: {@code maxLen} 0 keeps rows whole, {@code budget} 0 keeps every window; {@code blankRows} counts blank
     * rows as rows, as the authors' code does (WikiText-2 has many).
     */
    public record Recipe(int samples, int maxLen, long budget, int seqLen, long seed, String field, boolean blankRows) {
        /** The authors' exact recipe: every row as stored, whole, no budget (paper parity). */
        public static Recipe authors(int samples, int seqLen, long seed, String field) {
            return new Recipe(samples, 0, 0, seqLen, seed, field, true);
        }
    }

    public CalibrationSet(List<int[]> windows, int rows, long tokens) {
        this(windows, rows, tokens, new Drawn(rows, 0, 0));
    }

    public static CalibrationSet build(List<Path> files, Tokenizer tok, Recipe r) {
        List<String> rows = new ArrayList<>();
        for (Path f : files) rows.addAll(rows(f, r.field()));
        if (!r.blankRows()) rows.removeIf(String::isBlank);
        int T = r.seqLen();
        if (rows.stream().allMatch(String::isBlank)) throw tooLittle(files, "has no text (only blank rows)");
        int available = rows.size();
        Collections.shuffle(rows, new Random(r.seed()));
        List<String> chosen = new ArrayList<>(rows.subList(0, Math.min(r.samples(), rows.size())));
        int cut = 0;
        if (r.maxLen() > 0)
            for (int i = 0; i < chosen.size(); i++) {
                int[] ids = tok.encodePlain(chosen.get(i));
                if (ids.length <= r.maxLen()) continue;
                chosen.set(i, tok.decode(Arrays.copyOf(ids, r.maxLen())));
                cut++;
            }
        int[] ids = tok.encode(String.join("\n\n", chosen));
        if (ids.length < T) throw tooLittle(files, "gives " + ids.length + " tokens, fewer than one calibration window of " + T);
        int all = ids.length / T, kept = r.budget() > 0 ? (int) Math.clamp(r.budget() / T, 1, all) : all;
        List<int[]> windows = new ArrayList<>();
        for (int w = 0; w < kept; w++) windows.add(Arrays.copyOfRange(ids, w * T, (w + 1) * T));
        return new CalibrationSet(List.copyOf(windows), chosen.size(), (long) kept * T, new Drawn(available, cut, all - kept));
    }

    private static BadInputException tooLittle(List<Path> files, String problem) {
        return new BadInputException(files.getFirst(), (files.size() > 1 ? "with the other --calib files " : "") + problem
                + ": give more calibration text (--calib) or shorter windows (--calib-seq-len)");
    }

    /** The rows of one calibration file (read as every text input is: plain files only, size-capped, strict UTF-8). */
    static List<String> rows(Path file, String field) {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".txt")) return TextFiles.lines(file);
        if (!Records.isRecordFile(file))
            throw new BadInputException(file, "unsupported calibration file type; calibration reads " + FORMATS);
        List<String> rows = new ArrayList<>();
        for (Records.Record r : Records.file(file)) {
            JsonNode text = r.json().get(field);
            if (text == null || !text.isTextual())
                throw new BadInputException(file, r.where() + " has no \"" + field + "\" string field (fields: "
                        + String.join(", ", (Iterable<String>) r.json()::fieldNames) + "); name the text field with --calib-field");
            rows.add(text.asText());
        }
        return rows;
    }

    public int seqLen() {
        return windows.getFirst().length;
    }
}
