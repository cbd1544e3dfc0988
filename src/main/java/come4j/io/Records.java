package come4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Dataset records as the Hugging Face Hub serves them, one JSON object each: JSON Lines ({@code <split>.jsonl}) or
 * Parquet ({@code <split>.parquet} or shards {@code <split>-00000-of-0000N.parquet}). Parquet is read through DuckDB's
 * embedded engine: one maintained dependency with no Hadoop stack, which reads nested columns (ARC's choices struct)
 * and turns each row into the same JSON the .jsonl files hold.
 */
public final class Records {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Records() {}

    /** One record and where it came from, for messages: its file and "record K (line N)" (JSON Lines) or "record K" (a Parquet row), from 1. */
    public record Record(Path file, String where, JsonNode json) {}

    /** The records of split {@code split} in folder {@code dir}, in file order. */
    public static List<JsonNode> read(Path dir, String split) {
        return located(dir, split).stream().map(Record::json).toList();
    }

    /** The records of a split with their file and line or row. */
    public static List<Record> located(Path dir, String split) {
        Path jsonl = dir.resolve(split + ".jsonl");
        if (Files.exists(jsonl)) return jsonl(jsonl);
        List<Path> parquet = parquetFiles(dir, split);
        if (parquet.isEmpty())
            throw new BadInputException(jsonl, "not found, nor " + split + ".parquet (task data: one folder per task with its split as JSON Lines or Parquet)");
        List<Record> out = new ArrayList<>();
        for (Path p : parquet) out.addAll(parquet(p));
        return out;
    }

    /** Whether {@link #file} reads this file: .jsonl, .json or .parquet. */
    public static boolean isRecordFile(Path file) {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".parquet");
    }

    /**
     * The records of one dataset file: JSON Lines, Parquet, or .json (a JSON array of records, or JSON Lines, both of
     * which the Hub's "json" builder reads).
     */
    public static List<Record> file(Path file) {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".parquet")) return parquet(file);
        if (name.endsWith(".json")) {
            String text = TextFiles.text(file);
            if (text.stripLeading().startsWith("[")) return jsonArray(file, text);
        }
        return jsonl(file);
    }

    private static List<Record> jsonArray(Path file, String text) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (IOException e) {
            throw new BadInputException(file, "is not a JSON array of records: " + e.getMessage().lines().findFirst().orElse(""));
        }
        List<Record> out = new ArrayList<>();
        for (JsonNode rec : root) out.add(new Record(file, "record " + (out.size() + 1), rec));
        return out;
    }

    /** The Parquet files of a split, in shard order. */
    private static List<Path> parquetFiles(Path dir, String split) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().matches(java.util.regex.Pattern.quote(split) + "(-\\d+-of-\\d+)?\\.parquet"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new BadInputException(dir, "cannot list: " + e.getMessage());
        }
    }

    /** The file that {@link #located} reads a split from, for messages: the .jsonl, or the (first) Parquet file. */
    public static Path source(Path dir, String split) {
        Path jsonl = dir.resolve(split + ".jsonl");
        if (Files.exists(jsonl)) return jsonl;
        List<Path> parquet = parquetFiles(dir, split);
        return parquet.isEmpty() ? jsonl : parquet.getFirst();
    }

    static List<Record> jsonl(Path file) {
        List<Record> out = new ArrayList<>();
        int n = 0;
        for (String line : TextFiles.lines(file)) {
            n++;
            if (line.isBlank()) continue;
            try {
                out.add(new Record(file, "record " + (out.size() + 1) + " (line " + n + ")", JSON.readTree(line)));
            } catch (IOException e) {
                throw new BadInputException(file, "line " + n + " is not valid JSON");
            }
        }
        return out;
    }

    static List<Record> parquet(Path file) {
        TextFiles.requireRegular(file, Long.MAX_VALUE, "Parquet file");
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
             PreparedStatement q = c.prepareStatement("SELECT to_json(t)::VARCHAR FROM read_parquet(?) t")) {
            q.setString(1, file.toString());
            List<Record> out = new ArrayList<>();
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) out.add(new Record(file, "record " + (out.size() + 1), JSON.readTree(rs.getString(1))));
            }
            return out;
        } catch (SQLException | IOException e) {
            throw new BadInputException(file, "cannot read Parquet: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }
}
