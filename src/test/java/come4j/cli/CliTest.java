package come4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The command line as a user meets it: help texts, output formats, and one clear line with exit code 2 on bad input. */
class CliTest {
    static final Path FIXTURE = Path.of("src/test/resources/fixtures/llama3-gqa-bf16");
    static final Path PPL = Path.of("src/test/resources/fixtures/ppl.txt");

    record Run(int code, String out, String err) {}

    static synchronized Run run(String... args) {
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            int code = Main.execute(args, e);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "demo", "compress", "bench", "inspect", "eval", "generate", "logits"})
    void everyCommandExplainsItself(String command) {
        Run r = command.isEmpty() ? run("--help") : run(command, "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("Usage: come"), r.out());
        assertTrue(r.out().length() > 200, "help for '" + command + "' is too thin: " + r.out());
    }

    @Test
    void inspectShowsArchitectureParametersAndSparsityTable() {
        Run r = run("inspect", "--model", FIXTURE.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("LlamaForCausalLM"));
        assertTrue(r.out().contains("BF16"));
        assertTrue(r.out().contains("llama3 scaling"));
        assertTrue(r.out().contains("sparsity 30%"));
    }

    @Test
    void evalJsonIsOneObjectWithTheDocumentedKeys() throws Exception {
        Run r = run("eval", "--model", FIXTURE.toString(), "--ppl", PPL.toString(), "--ppl-seq-len", "32", "--json", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        JsonNode o = new ObjectMapper().readTree(r.out());
        for (String key : new String[] {"ppl", "tokens", "windows", "seconds", "tokens_per_second"}) assertTrue(o.has(key), key);
        assertEquals(o.get("windows").asLong() * 32, o.get("tokens").asLong());
        assertTrue(o.get("ppl").asDouble() > 1);
    }

    @Test
    void generateContinuesThePrompt() {
        Run r = run("generate", "--model", FIXTURE.toString(), "--prompt", "We hold these", "--max-new-tokens", "5");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("We hold these"), r.out());
    }

    static void assertBadInput(Run r, String... mentions) {
        assertEquals(2, r.code(), r.err());
        String line = r.err().strip();
        assertFalse(line.contains("\n"), "expected one line, got: " + r.err());
        assertTrue(line.startsWith("come: "), line);
        assertFalse(line.contains("Exception"), "no stack trace or exception name without --debug: " + line);
        for (String m : mentions) assertTrue(line.contains(m), "'" + m + "' missing from: " + line);
    }

    static Path copyFixture(Path tmp) throws Exception {
        Path dir = tmp.resolve("model");
        Files.createDirectories(dir);
        try (var files = Files.list(FIXTURE)) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        return dir;
    }

    @Test
    void missingFolder(@TempDir Path tmp) {
        assertBadInput(run("inspect", "--model", tmp.resolve("nope").toString()), "nope", "not a checkpoint folder");
    }

    @Test
    void malformedConfig(@TempDir Path tmp) throws Exception {
        Path dir = copyFixture(tmp);
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"], ");
        assertBadInput(run("inspect", "--model", dir.toString()), "config.json", "malformed JSON");
    }

    @Test
    void truncatedWeights(@TempDir Path tmp) throws Exception {
        Path dir = copyFixture(tmp);
        Path st = dir.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(st);
        Files.write(st, java.util.Arrays.copyOf(all, all.length / 2));
        assertBadInput(run("eval", "--model", dir.toString(), "--ppl", PPL.toString()), "model.safetensors");
    }

    @Test
    void missingTokenizer(@TempDir Path tmp) throws Exception {
        Path dir = copyFixture(tmp);
        Files.delete(dir.resolve("tokenizer.json"));
        assertBadInput(run("eval", "--model", dir.toString(), "--ppl", PPL.toString()), "tokenizer.json", "missing tokenizer");
    }

    @Test
    void textShorterThanOneWindow(@TempDir Path tmp) throws Exception {
        Path txt = tmp.resolve("short.txt");
        Files.writeString(txt, "Too short.");
        assertBadInput(run("eval", "--model", FIXTURE.toString(), "--ppl", txt.toString(), "--ppl-seq-len", "64"), "short.txt", "fewer than one window");
    }

    @Test
    void debugShowsTheStackTrace(@TempDir Path tmp) {
        Run r = run("inspect", "--model", tmp.resolve("nope").toString(), "--debug");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("BadInputException"), r.err());
    }

    @Test
    void taskDataProblemsAreOneLine(@TempDir Path tmp) throws Exception {
        assertBadInput(run("eval", "--model", FIXTURE.toString(), "--tasks", "piqa", "--data-dir", tmp.toString()),
                "validation.jsonl", "not found");
        Files.createDirectories(tmp.resolve("piqa"));
        Files.writeString(tmp.resolve("piqa/validation.jsonl"), "{\"goal\": \"Open a jar\", \"sol1\": \"Twist.\", \"label\": 0}\n");
        assertBadInput(run("eval", "--model", FIXTURE.toString(), "--tasks", "piqa", "--data-dir", tmp.toString()),
                "record 1", "sol2");
        assertBadInput(run("eval", "--model", FIXTURE.toString(), "--tasks", "squad", "--data-dir", tmp.toString()),
                "unknown task 'squad'", "hellaswag");
        assertBadInput(run("eval", "--model", FIXTURE.toString()), "nothing to evaluate");
    }

    @Test
    void tasksJsonCarriesMetricsAndSamples() throws Exception {
        Run r = run("eval", "--model", FIXTURE.toString(), "--tasks", "boolq,mmlu", "--data-dir", "src/test/resources/eval/data",
                "--json", "--log-samples", "--limit", "3");
        assertEquals(0, r.code(), r.err());
        JsonNode t = new ObjectMapper().readTree(r.out()).get("tasks");
        assertEquals(3, t.get("boolq").get("items").asInt());
        assertEquals(3, t.get("boolq").get("samples").size());
        assertEquals(2, t.get("boolq").get("samples").get(0).get("loglikelihoods").size());
        assertTrue(t.get("mmlu").get("groups").has("elementary_mathematics"));
        assertTrue(t.get("boolq").has("acc_stderr") && !t.get("boolq").has("acc_norm"));
    }
}
