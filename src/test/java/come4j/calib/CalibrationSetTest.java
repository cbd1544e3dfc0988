package come4j.calib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.io.BadInputException;
import come4j.model.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The calibration recipe's bounds (per-row cap, token budget, blank rows) and the files it refuses. */
class CalibrationSetTest {
    static Tokenizer tok;
    @TempDir
    static Path dir;

    @BeforeAll
    static void load() {
        tok = Tokenizer.load(Path.of("src/test/resources/fixtures/llama3-gqa-bf16/tokenizer.json"));
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    static CalibrationSet build(Path f, int maxLen, long budget, int T) {
        return CalibrationSet.build(List.of(f), tok, new CalibrationSet.Recipe(256, maxLen, budget, T, 10, "text", false));
    }

    /** One long document cannot flood the set: each row is cut to maxLen tokens, and the budget bounds the windows. */
    @Test
    void longRowsAreCutAndTheBudgetBoundsTheWindows() throws Exception {
        String longRow = "the state of the union is strong and the people are free ".repeat(200);
        Path f = Files.writeString(dir.resolve("long.txt"), longRow + "\n\n   \nshort row of words\n" + longRow + "\n");
        int whole = tok.encodePlain(longRow).length;
        assertTrue(whole > 1000, "a long row: " + whole);
        CalibrationSet authors = CalibrationSet.build(List.of(f), tok, CalibrationSet.Recipe.authors(256, 16, 10, "text"));
        assertEquals(5, authors.rows(), "the authors' recipe counts blank rows");
        CalibrationSet cut = build(f, 16, 0, 16);
        assertEquals(3, cut.rows(), "blank rows skipped");
        assertEquals(2, cut.drawn().cut());
        assertTrue(cut.tokens() <= 3 * 16 + 2 * 16, "rows cut to 16 tokens: " + cut.tokens());
        assertTrue(authors.tokens() > 2 * whole - 32, "whole rows: " + authors.tokens());
        CalibrationSet budget = build(f, 0, 40, 16);
        assertEquals(2, budget.windows().size(), "40 tokens hold 2 windows of 16");
        assertEquals(32, budget.tokens());
        assertEquals(authors.windows().size() - 2, budget.drawn().leftOut());
    }

    @Test
    void tooLittleTextIsBadInputNamingTheFileAndTheFix() throws Exception {
        Path blank = Files.writeString(dir.resolve("blank.txt"), " \n\t\n\n");
        Path tiny = Files.writeString(dir.resolve("tiny.txt"), "ab");
        for (Path f : List.of(blank, tiny)) {
            BadInputException e = assertThrows(BadInputException.class, () -> build(f, 32, 0, 32));
            assertEquals(f, e.file());
            assertTrue(e.getMessage().contains("--calib-seq-len"), e.getMessage());
        }
    }

    @Test
    void refusesBinaryUnknownAndFieldlessFiles() throws Exception {
        Path binary = Files.write(dir.resolve("bin.txt"), new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, (byte) 0xc3});
        assertTrue(assertThrows(BadInputException.class, () -> build(binary, 32, 0, 32)).getMessage().contains("UTF-8"));
        Path csv = Files.writeString(dir.resolve("rows.csv"), "a,b\n");
        assertTrue(assertThrows(BadInputException.class, () -> build(csv, 32, 0, 32)).getMessage().contains(".parquet"));
        Path jsonl = Files.writeString(dir.resolve("rows.jsonl"), "{\"content\": \"words\"}\n");
        String m = assertThrows(BadInputException.class, () -> build(jsonl, 32, 0, 32)).getMessage();
        assertTrue(m.contains("\"text\"") && m.contains("content") && m.contains("--calib-field"), m);
    }

    /** A Hugging Face dataset's Parquet file calibrates from the --calib-field column, as eval reads its task data. */
    @Test
    void readsParquetRecords() throws Exception {
        Path parquet = dir.resolve("train-00000-of-00001.parquet"), jsonl = dir.resolve("same.jsonl");
        String row = "the people of the united states in order to form a more perfect union establish justice";
        try (var c = java.sql.DriverManager.getConnection("jdbc:duckdb:"); var st = c.createStatement()) {
            st.execute("COPY (SELECT '" + row + " ' || i AS content FROM range(6) t(i) ORDER BY i) TO '" + parquet + "' (FORMAT parquet)");
        }
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 6; i++) lines.append("{\"content\": \"").append(row).append(' ').append(i).append("\"}\n");
        Files.writeString(jsonl, lines);
        var r = new CalibrationSet.Recipe(256, 0, 0, 16, 10, "content", false);
        CalibrationSet a = CalibrationSet.build(List.of(parquet), tok, r), b = CalibrationSet.build(List.of(jsonl), tok, r);
        assertEquals(6, a.rows());
        assertEquals(b.windows().size(), a.windows().size());
        for (int w = 0; w < a.windows().size(); w++) assertArrayEquals(b.windows().get(w), a.windows().get(w));
    }

    /** A .json array of records and a .jsonl of the same records give the same windows. */
    @Test
    void readsJsonArraysAsRecords() throws Exception {
        String row = "{\"body\": \"the people of the united states in order to form a more perfect union\"}";
        Path json = Files.writeString(dir.resolve("rows.json"), "[" + row + ",\n" + row + "," + row + "]");
        Path jsonl = Files.writeString(dir.resolve("rows2.jsonl"), row + "\n" + row + "\n\n" + row + "\n");
        var r = new CalibrationSet.Recipe(256, 8, 0, 8, 10, "body", false);
        CalibrationSet a = CalibrationSet.build(List.of(json), tok, r), b = CalibrationSet.build(List.of(jsonl), tok, r);
        assertEquals(3, a.rows());
        assertEquals(a.windows().size(), b.windows().size());
        for (int w = 0; w < a.windows().size(); w++) assertArrayEquals(a.windows().get(w), b.windows().get(w));
    }
}
