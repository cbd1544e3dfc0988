package come4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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

    /** The records of split {@code split} in folder {@code dir}, in file order. */
    public static List<JsonNode> read(Path dir, String split) {
        Path jsonl = dir.resolve(split + ".jsonl");
        if (Files.isRegularFile(jsonl)) return jsonl(jsonl);
        List<Path> parquet = new ArrayList<>();
        if (Files.isDirectory(dir))
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(f -> f.getFileName().toString().matches(java.util.regex.Pattern.quote(split) + "(-\\d+-of-\\d+)?\\.parquet"))
                        .sorted().forEach(parquet::add);
            } catch (IOException e) {
                throw new BadInputException(dir, "cannot list: " + e.getMessage());
            }
        if (parquet.isEmpty())
            throw new BadInputException(jsonl, "not found, nor " + split + ".parquet (task data: one folder per task with its split as JSON Lines or Parquet)");
        List<JsonNode> out = new ArrayList<>();
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
    public static List<JsonNode> file(Path file) {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".parquet")) return parquet(file);
        if (name.endsWith(".json")) {
            List<JsonNode> array = jsonArray(file);
            if (array != null) return array;
        }
        return jsonl(file);
    }

    /** The records of a file holding one JSON array, or null when it holds something else (JSON Lines). */
    private static List<JsonNode> jsonArray(Path file) {
        try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(Files.newInputStream(file),
                StandardCharsets.UTF_8.newDecoder()))) {
            in.mark(1 << 16);
            int c;
            do c = in.read(); while (c >= 0 && Character.isWhitespace(c));
            if (c != '[') return null;
            in.reset();
            JsonNode root = JSON.readTree(in);
            List<JsonNode> out = new ArrayList<>();
            root.forEach(out::add);
            return out;
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new BadInputException(file, "is not UTF-8 text (a binary file?)");
        } catch (IOException e) {
            throw new BadInputException(file, "is not a JSON array of records: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    static List<JsonNode> jsonl(Path file) {
        List<JsonNode> out = new ArrayList<>();
        try {
            int n = 0;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                n++;
                if (line.isBlank()) continue;
                try {
                    out.add(JSON.readTree(line));
                } catch (IOException e) {
                    throw new BadInputException(file, "line " + n + " is not valid JSON");
                }
            }
        } catch (java.nio.charset.MalformedInputException e) {
            throw new BadInputException(file, "is not UTF-8 text (a binary file?)");
        } catch (IOException e) {
            throw new BadInputException(file, "cannot read: " + e.getMessage());
        }
        return out;
    }

    static List<JsonNode> parquet(Path file) {
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
             PreparedStatement q = c.prepareStatement("SELECT to_json(t)::VARCHAR FROM read_parquet(?) t")) {
            q.setString(1, file.toString());
            List<JsonNode> out = new ArrayList<>();
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) out.add(JSON.readTree(rs.getString(1)));
            }
            return out;
        } catch (SQLException | IOException e) {
            throw new BadInputException(file, "cannot read Parquet: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }
}
