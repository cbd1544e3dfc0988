package come4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parquet as the Hub serves it reads into the same records as JSON Lines, nested columns included. */
class RecordsTest {
    static final String ARC = """
            {"id": "a1", "question": "Which gas do plants absorb?", "choices": {"text": ["carbon dioxide", "oxygen"], "label": ["A", "B"]}, "answerKey": "A"}
            {"id": "a2", "question": "Déjà vu — “quoted”?", "choices": {"text": ["yes", "no", "maybe"], "label": ["1", "2", "3"]}, "answerKey": "3"}
            """;

    @Test
    void parquetShardsEqualJsonLines(@TempDir Path tmp) throws Exception {
        Path jsonDir = tmp.resolve("json"), pqDir = tmp.resolve("pq");
        Files.createDirectories(jsonDir);
        Files.createDirectories(pqDir);
        Files.writeString(jsonDir.resolve("test.jsonl"), ARC);
        try (var c = DriverManager.getConnection("jdbc:duckdb:"); var st = c.createStatement()) {
            // two shards named as the Hub names them, written by DuckDB from the same records
            st.execute("COPY (SELECT * FROM read_json_auto('" + jsonDir.resolve("test.jsonl") + "') LIMIT 1) TO '"
                    + pqDir.resolve("test-00000-of-00002.parquet") + "' (FORMAT parquet)");
            st.execute("COPY (SELECT * FROM read_json_auto('" + jsonDir.resolve("test.jsonl") + "') OFFSET 1) TO '"
                    + pqDir.resolve("test-00001-of-00002.parquet") + "' (FORMAT parquet)");
        }
        List<JsonNode> fromJson = Records.read(jsonDir, "test"), fromParquet = Records.read(pqDir, "test");
        assertEquals(2, fromParquet.size());
        assertEquals(fromJson, fromParquet);
        assertEquals("3", fromParquet.get(1).get("answerKey").asText());
        assertEquals(3, fromParquet.get(1).get("choices").get("text").size());
    }

    @Test
    void missingSplitNamesWhatWasExpected(@TempDir Path tmp) {
        BadInputException e = assertThrows(BadInputException.class, () -> Records.read(tmp, "validation"));
        assertTrue(e.getMessage().contains("validation.parquet"), e.getMessage());
        assertTrue(e.file().toString().endsWith("validation.jsonl"));
    }
}
