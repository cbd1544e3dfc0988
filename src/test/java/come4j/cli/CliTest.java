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
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The command line as a user meets it: help texts, output formats, and one clear line with exit code 2 on bad input. */
class CliTest {
    static final Path FIXTURE = Path.of("src/test/resources/fixtures/llama3-gqa-bf16");
    static final Path PPL = Path.of("src/test/resources/fixtures/ppl.txt");

    /** A run through the real entry point: exit code, stdout, the error stream it was given, and what reached System.err instead. */
    record Run(int code, String out, String err, String stray) {}

    static synchronized Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream(), stray = new ByteArrayOutputStream();
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
             PrintStream s = new PrintStream(stray, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            System.setErr(s);
            int code = Main.execute(args, e);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8),
                    stray.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** A bf16 checkpoint left at --dtype's default (float32) says once that --dtype auto computes it as transformers 5 does. */
    @Test
    void aBf16CheckpointAtTheDefaultDtypeSaysHowToComputeInBf16() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty("come4j.dtype") == null && System.getProperty("come4j.backend") == null,
                "the suite runs with a dtype or backend of its own");
        String hint = "come: products in float32 on this bf16 checkpoint (the default: exact); --dtype auto runs them in bf16";
        Run plain = run("inspect", "--model", FIXTURE.toString());
        assertEquals(0, plain.code(), plain.err());
        assertEquals(1, plain.err().lines().filter(l -> l.startsWith(hint)).count(), plain.err());
        for (String[] chosen : new String[][] {{"--dtype", "float32"}, {"--dtype", "auto"}, {"--backend", "vector"}}) {
            Run r = run("inspect", "--model", FIXTURE.toString(), chosen[0], chosen[1]);
            assertEquals(0, r.code(), r.err());
            assertFalse(r.err().contains("--dtype auto"), String.join(" ", chosen) + ": " + r.err());
        }
        Run fp32 = run("inspect", "--model", Path.of("src/test/resources/fixtures/llama-mha-f32").toString());
        assertFalse(fp32.err().contains("--dtype auto"), fp32.err());
    }

    static final String[] COMMANDS = {"demo", "compress", "bench", "inspect", "eval", "generate", "latency", "logits", "distill", "completion"};

    @ParameterizedTest
    @ValueSource(strings = {"", "demo", "compress", "bench", "inspect", "eval", "generate", "latency", "logits", "distill", "completion"})
    void everyCommandExplainsItselfWithExamples(String command) {
        Run r = command.isEmpty() ? run("--help") : run(command, "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("Usage: come"), r.out());
        assertTrue(r.out().length() > 200, "help for '" + command + "' is too thin: " + r.out());
        assertEquals("", r.stray(), "picocli could not format the help (an unescaped %?)");
        String examples = r.out().substring(r.out().indexOf("\nExamples:\n") + 1);
        assertTrue(examples.lines().skip(1).findFirst().orElse("").matches("  (come|source <\\(come) .*"), examples);
        if (!command.equals("completion") && !command.isEmpty())
            assertTrue(examples.contains("  come " + command), "no example of come " + command + ": " + examples);
        for (String line : r.out().split("\n")) assertTrue(line.codePointCount(0, line.length()) <= 80, "wider than 80 columns: " + line);
    }

    @ParameterizedTest
    @ValueSource(strings = {"--version", "-V"})
    void everyCommandSaysItsVersion(String flag) {
        assertEquals(Version.TEXT, run(flag).out().strip());
        for (String command : COMMANDS) {
            Run r = run(command, flag);
            assertEquals(0, r.code(), command);
            assertEquals(Version.TEXT, r.out().strip(), command);
        }
    }

    /** Placeholders mean one thing everywhere: DIR a folder, FILE a file, N a count, X and S a real number. */
    @Test
    void placeholdersAreConsistentAcrossCommands() {
        var root = new picocli.CommandLine(new Main()).getCommandSpec();
        for (var sub : root.subcommands().values()) {
            for (var o : sub.getCommandSpec().options()) {
                if (o.arity().max() == 0) continue;
                Class<?> t = o.typeInfo().isCollection() || o.typeInfo().isArray() ? o.typeInfo().getAuxiliaryTypes()[0] : o.type();
                String where = sub.getCommandName() + " " + o.longestName() + "=" + o.paramLabel() + " (" + t.getSimpleName() + ")";
                switch (o.paramLabel()) {
                    case "DIR", "FILE" -> assertEquals(Path.class, t, where);
                    case "N" -> assertTrue(List.of(int.class, Integer.class, long.class, Long.class).contains(t), where);
                    case "X", "S" -> assertTrue(t == double.class || t == Double.class, where);
                    default -> { }
                }
            }
        }
    }

    @Test
    void usageErrorsAreOneLineWithAPointerToTheHelp(@TempDir Path tmp) {
        String model = FIXTURE.toString(), out = tmp.resolve("o").toString();
        assertUsage(run("compress", "--modle", model, "--out", out, "--sparsity", "0.3"),
                "unknown option '--modle' (did you mean --model?); see 'come compress --help'");
        assertUsage(run("compress", "--model", model, "--out", out, "--sparsity", "abc"),
                "invalid value for option '--sparsity': 'abc' is not a double; see 'come compress --help'");
        assertUsage(run("inspect", "--model", model, "--threads", "0"), "--threads must be at least 1, not 0; see 'come inspect --help'");
        assertUsage(run("compres", "--model", model), "unknown command 'compres' (did you mean compress?); see 'come --help'");
        assertUsage(run("help", "inpsect"), "unknown command 'inpsect' (did you mean inspect?); see 'come --help'");
        assertUsage(run("eval", "--model", model, "--ppl=" + PPL, "--seq-len", "32", "--jsn"), "unknown option '--jsn' (did you mean --json?)");
        assertUsage(run("inspect", "--model", model, "extra"), "unexpected argument 'extra'; see 'come inspect --help'");
        assertUsage(run("compress", "--model", model, "--out", out), "--sparsity", "--target-layers", "see 'come compress --help'");
    }

    static void assertUsage(Run r, String... mentions) {
        assertBadInput(r, mentions);
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertEquals("", r.out(), "no usage dump on stdout");
    }

    @Test
    void unknownNamesGetASuggestion(@TempDir Path tmp) {
        String model = FIXTURE.toString(), out = tmp.resolve("o").toString();
        assertBadInput(run("compress", "--model", model, "--out", out, "--sparsity", "0.3", "--method", "comep"),
                "unknown method 'comep' (did you mean come-p?)", "shortgpt");
        assertBadInput(run("bench", "--model", model, "--out", out, "--sparsity", "0.3", "--methods", "come,shortgtp", "--ppl", PPL.toString(),
                        "--ppl-seq-len", "32"),
                "unknown method 'shortgtp' (did you mean shortgpt?)");
        assertBadInput(run("eval", "--model", model, "--tasks", "hellaswg", "--data-dir", tmp.toString()),
                "unknown task 'hellaswg' (did you mean hellaswag?)");
        assertBadInput(run("distill", "--teacher", model, "--student", model, "--data", PPL.toString(), "--out", out, "--loss", "kl-hiden"),
                "unknown loss 'kl-hiden' (did you mean kl_hidden?)", "logit_lens_kl");
        assertBadInput(run("eval", "--model", model, "--ppl", PPL.toString(), "--ppl-mode", "rollin"), "(did you mean rolling?)");
    }

    @Test
    void inspectJsonMatchesTheTable() throws Exception {
        Run text = run("inspect", "--model", FIXTURE.toString()), json = run("inspect", "--model", FIXTURE.toString(), "--json");
        assertEquals(0, json.code(), json.err());
        JsonNode o = new ObjectMapper().readTree(json.out());
        assertEquals(FIXTURE.toAbsolutePath().toString(), o.get("model").asText());
        assertEquals("LlamaForCausalLM", o.get("architecture").asText());
        assertEquals("BF16", o.get("dtype").asText());
        assertTrue(text.out().contains(String.format("parameters     %,d total, %,d per decoder layer", o.get("parameters").asLong(),
                o.get("parameters_per_layer").asLong())), text.out());
        for (JsonNode s : o.get("sparsity")) {
            int k = s.get("remove").asInt();
            assertEquals(o.get("layers").asInt() - k, s.get("layers").asInt());
            assertEquals((double) k * o.get("parameters_per_layer").asLong() / o.get("parameters").asLong(), s.get("achieved").asDouble(), 1e-12);
            assertTrue(text.out().contains(String.format("remove %d layer%s -> %d layers", k, k == 1 ? "" : "s", s.get("layers").asInt())));
        }
    }

    /** --json: only the summary on stdout, equal to the output's come-merge.json; the logs on the command's error stream. */
    @Test
    void compressJsonSummarisesTheRecordAndLogsStayOnTheErrorStream(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("o");
        Run r = run("compress", "--model", FIXTURE.toString(), "--out", out.toString(), "--sparsity", "0.3", "--json",
                "--calib", PPL.toString(), "--seq-len", "32");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.stray(), "logged around the command's error stream");
        assertTrue(r.err().lines().allMatch(l -> l.startsWith("come: ")) && r.err().contains(" layers -> "), r.err());
        JsonNode o = new ObjectMapper().readTree(r.out()), record = new ObjectMapper().readTree(out.resolve("come-merge.json").toFile());
        assertEquals(out.toAbsolutePath().toString(), o.get("out").asText());
        assertEquals("come", o.get("method").asText());
        assertEquals(record.get("input").get("layers").asInt(), o.get("layers_before").asInt());
        assertEquals(record.get("output").get("layers").asInt(), o.get("layers_after").asInt());
        assertTrue(o.get("layers_after").asInt() < o.get("layers_before").asInt());
        assertEquals(0.3, o.get("target_sparsity").asDouble());
        assertEquals(record.get("output").get("sparsity").asDouble(), o.get("sparsity").asDouble());
        assertEquals(record.get("tree"), o.get("tree"));
        assertEquals(record.get("steps").get(0).get("calib_nll_before"), o.get("calib_nll").get("before"));
        assertTrue(o.get("calib_nll").get("after").asDouble() > 0 && o.get("seconds").asDouble() > 0);
    }

    @Test
    void benchJsonIsTheBenchRecord(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("b");
        Run r = run("bench", "--model", FIXTURE.toString(), "--out", out.toString(), "--sparsity", "0.3", "--methods", "shortgpt",
                "--ppl", PPL.toString(), "--ppl-seq-len", "32", "--json", "--calib", PPL.toString(), "--calib-seq-len", "32");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.stray());
        JsonNode o = new ObjectMapper().readTree(r.out()), file = new ObjectMapper().readTree(out.resolve("bench.json").toFile());
        assertEquals(out.toAbsolutePath().toString(), o.get("out").asText());
        ((com.fasterxml.jackson.databind.node.ObjectNode) o).remove("out");
        assertEquals(file, o);
        assertEquals(2, o.get("cells").size()); // the dense model and shortgpt at 0.3
    }

    @Test
    void completionScriptKnowsEveryCommand() throws Exception {
        Run r = run("completion");
        assertEquals(0, r.code(), r.err());
        for (String command : COMMANDS) assertTrue(r.out().contains(command), command);
        assertTrue(r.out().contains("--target-layers") && r.out().contains("complete -F"), r.out());
        Path script = Files.createTempFile("come-completion", ".bash");
        try {
            Files.writeString(script, r.out());
            // bash loads it and then completes `come comp` to the two commands starting so
            Process p = new ProcessBuilder("bash", "-c", "source '" + script + "' && COMP_WORDS=(come comp) COMP_CWORD=1 COMP_LINE='come comp' "
                    + "COMP_POINT=9 && _complete_come && echo \"${COMPREPLY[@]}\"").redirectErrorStream(true).start();
            String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertEquals(0, p.waitFor(), said);
            assertEquals(java.util.Set.of("compress", "completion"), java.util.Set.of(said.split("\\s+")), said);
        } finally {
            Files.delete(script);
        }
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

    /**
     * Bad input: exit 2 and one line, the last, naming the problem (no exception name without --debug); lines before it
     * can only be the command's progress log, which the problem interrupted.
     */
    static void assertBadInput(Run r, String... mentions) {
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().strip().lines().allMatch(l -> l.startsWith("come: ")), "only come: lines: " + r.err());
        String line = errorLine(r);
        assertFalse(line.contains("Exception"), "no stack trace or exception name without --debug: " + line);
        for (String m : mentions) assertTrue(line.contains(m), "'" + m + "' missing from: " + line);
    }

    /** The error line of a failed run: its last line on the error stream. */
    static String errorLine(Run r) {
        return r.err().strip().lines().reduce((a, b) -> b).orElse("");
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
