package come4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.Fixtures;
import come4j.merge.MergeRecord;
import come4j.model.Checkpoint;
import come4j.model.Transformer;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `come bench` on a 3-layer fixture: 2 methods x 2 sparsities, then a rerun that recomputes nothing, then a new text. */
class BenchTest {
    static final Path MODEL = Fixtures.DIR.resolve("llama-mha-f32");
    static final String[] COMMON = {"--model", MODEL.toString(), "--calib", CliTest.PPL.toString(), "--calib-seq-len", "32"};

    static CliTest.Run bench(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("bench", "--out", out.toString(), "--sparsity", "0.2,0.5", "--methods", "come,shortgpt",
                "--ppl-seq-len", "32", "--threads", "2"));
        a.addAll(List.of(COMMON));
        a.addAll(List.of(extra));
        return CliTest.run(a.toArray(String[]::new));
    }

    static JsonNode json(Path f) throws Exception {
        return new ObjectMapper().readTree(f.toFile());
    }

    @Test
    void benchTablesEveryCellAndResumesWithoutRecomputing(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("bench");
        CliTest.Run r = bench(out, "--ppl", CliTest.PPL.toString());
        assertEquals(0, r.code(), r.err());
        for (String f : new String[] {"bench.md", "bench.json", "bench.html"}) assertTrue(Files.exists(out.resolve(f)), f);
        JsonNode b = json(out.resolve("bench.json"));
        assertEquals(5, b.get("cells").size()); // the dense model and 2 x 2 cells
        JsonNode shared = b.get("shared");
        assertEquals(4, shared.get("cells_compressed").asInt());
        assertEquals(4, shared.get("first_pass_requests").asInt()); // one first pass served come and shortgpt twice each
        assertEquals(5, shared.get("evaluations").asInt());
        JsonNode base = b.get("cells").get(0);
        assertEquals("base", base.get("method").asText());
        assertEquals(Fixtures.golden("llama-mha-f32").get("ppl").asDouble(), base.get("ppl").get("fixtures/ppl.txt").get("ppl").asDouble(), 1e-3);

        // a bench cell is what `come compress` writes, byte for byte, and its perplexity is that checkpoint's
        Path single = tmp.resolve("single");
        List<String> a = new ArrayList<>(List.of("compress", "--out", single.toString(), "--sparsity", "0.5", "--method", "come"));
        a.addAll(List.of(COMMON));
        assertEquals(0, CliTest.run(a.toArray(String[]::new)).code());
        Path cell = out.resolve("cells/come_0.5");
        assertEquals(sha(single.resolve("model.safetensors")), sha(cell.resolve("model/model.safetensors")));
        JsonNode results = json(cell.resolve("results.json"));
        assertEquals(1, results.get("layers").asInt());
        try (Checkpoint c = Checkpoint.open(single); var tok = come4j.model.Tokenizer.load(c.tokenizerFile())) {
            double ppl = EvalCommand.evaluate(Transformer.load(c), tok, CliTest.PPL, 32, null).ppl();
            assertEquals(ppl, results.get("ppl").get("fixtures/ppl.txt").get("ppl").asDouble(), 1e-9);
        }
        String md = Files.readString(out.resolve("bench.md"));
        assertTrue(md.contains("| come | 482.067 |"), md);
        assertTrue(Files.readString(out.resolve("bench.html")).contains("<polyline"), "chart missing");

        Map<Path, FileTime> before = times(out);
        CliTest.Run again = bench(out, "--ppl", CliTest.PPL.toString());
        assertEquals(0, again.code(), again.err());
        shared = json(out.resolve("bench.json")).get("shared");
        assertEquals(0, shared.get("cells_compressed").asInt());
        assertEquals(5, shared.get("cells_reused").asInt());
        assertEquals(0, shared.get("evaluations").asInt());
        assertTrue(!shared.has("first_pass_requests"), "no calibration pass on a finished bench");
        assertEquals(before, times(out), "a finished cell's files are not rewritten");
        assertEquals(md.replaceAll("\\d+ cells compressed.*\\n", ""), Files.readString(out.resolve("bench.md")).replaceAll("\\d+ cells compressed.*\\n", ""));

        // a new text: only its evaluations run, on the stored checkpoints
        Path other = Files.createDirectories(tmp.resolve("other")).resolve("ppl.txt");
        Files.copy(CliTest.PPL, other);
        CliTest.Run more = bench(out, "--ppl", CliTest.PPL.toString(), "--ppl", other.toString());
        assertEquals(0, more.code(), more.err());
        shared = json(out.resolve("bench.json")).get("shared");
        assertEquals(0, shared.get("cells_compressed").asInt());
        assertEquals(5, shared.get("evaluations").asInt());
        assertEquals(sha(single.resolve("model.safetensors")), sha(cell.resolve("model/model.safetensors")));
    }

    /**
     * --latency-iterations times every cell (protocol capped by the fixture's 128 positions) and tables tokens/s with
     * the speed-up over the dense model; a rerun without it keeps the timings, one with another count re-times the
     * cells without compressing them again.
     */
    @Test
    void latencyColumnTimesEveryCellAndIsAddedWithoutRecompressing(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("bench");
        List<String> a = new ArrayList<>(List.of("bench", "--out", out.toString(), "--sparsity", "0.5", "--methods", "shortgpt",
                "--ppl-seq-len", "32", "--threads", "2", "--ppl", CliTest.PPL.toString()));
        a.addAll(List.of(COMMON));
        List<String> timed = new ArrayList<>(a);
        timed.addAll(List.of("--latency-iterations", "1"));
        CliTest.Run r = CliTest.run(timed.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        JsonNode b = json(out.resolve("bench.json")), p = b.get("latency");
        assertEquals(128, p.get("prompt_tokens").asInt());
        assertEquals(1, p.get("gen_iterations").asInt());
        assertEquals(42, p.get("gen_prompt").asInt()); // 128 / 3
        assertEquals(87, p.get("gen_new_tokens").asInt()); // 42 + 87 - 1 = 128 positions
        JsonNode base = b.get("cells").get(0).get("latency"), cell = b.get("cells").get(1).get("latency");
        for (JsonNode l : new JsonNode[] {base, cell}) {
            assertEquals(p, l.get("protocol"));
            assertEquals(1, l.get("prompt").get("ms").size());
            assertEquals(128, l.get("prompt").get("tokens").asInt());
            assertEquals(64 * 87, l.get("generation").get("tokens").asInt());
        }
        String md = Files.readString(out.resolve("bench.md"));
        assertTrue(md.contains("| prompt tok/s | generation tok/s |"), md);
        String speedup = String.format(" (%.3fx)", base.get("generation").get("ms_mean").asDouble() / cell.get("generation").get("ms_mean").asDouble());
        assertTrue(md.contains(String.format("%.1f", cell.get("generation").get("tokens_per_second").asDouble()) + speedup), md);

        CliTest.Run plain = CliTest.run(a.toArray(String[]::new)); // timings kept, nothing re-timed
        assertEquals(0, plain.code(), plain.err());
        JsonNode again = json(out.resolve("bench.json"));
        assertEquals(0, again.get("shared").get("evaluations").asInt());
        assertEquals(cell, again.get("cells").get(1).get("latency"));

        timed.set(timed.size() - 1, "2");
        CliTest.Run more = CliTest.run(timed.toArray(String[]::new));
        assertEquals(0, more.code(), more.err());
        JsonNode shared = json(out.resolve("bench.json")).get("shared");
        assertEquals(0, shared.get("cells_compressed").asInt());
        assertEquals(2, shared.get("evaluations").asInt()); // base and the cell, re-timed
        assertEquals(2, json(out.resolve("cells/shortgpt_0.5/results.json")).get("latency").get("prompt").get("iterations").asInt());
    }

    /** Modification times of every cell's checkpoint and results. */
    static Map<Path, FileTime> times(Path out) throws Exception {
        Map<Path, FileTime> t = new LinkedHashMap<>();
        try (var files = Files.walk(out.resolve("cells"))) {
            for (Path p : files.sorted().toList()) if (Files.isRegularFile(p)) t.put(p, Files.getLastModifiedTime(p));
        }
        return t;
    }

    static String sha(Path f) throws Exception {
        return MergeRecord.sha256(MemorySegment.ofArray(Files.readAllBytes(f)));
    }
}
