package come4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * `come compress` end to end: for every fixture, the compressed checkpoint (L-1 and L-2 layers) loads in transformers
 * with logits equal to come4j's (goldens by tools/compressed_goldens.py), and the same run gives the same bytes.
 */
class CompressTest {
    static Stream<String> fixtures() {
        return Fixtures.forwardNames();
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void compressedOutputMatchesTransformersAndIsDeterministic(String name, @TempDir Path tmp) throws Exception {
        Path fixture = Fixtures.DIR.resolve(name), goldens = fixture.resolve("compressed.json");
        assertTrue(Files.exists(goldens), "missing " + goldens + " (tools/compressed_goldens.py)");
        int n = 0;
        for (JsonNode g : new ObjectMapper().readTree(goldens.toFile())) {
            Path out = tmp.resolve("out" + n++);
            List<String> args = new ArrayList<>(List.of("compress", "--model", fixture.toString(), "--out", out.toString()));
            g.get("args").forEach(a -> args.add(a.asText()));
            CliTest.Run r = CliTest.run(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
            assertEquals(g.get("model_sha256").asText(),
                    MergeRecord.sha256(MemorySegment.ofArray(Files.readAllBytes(out.resolve("model.safetensors")))), name + " " + args);
            try (Checkpoint ckpt = Checkpoint.open(out)) {
                assertEquals(g.get("target_layers").asInt(), ckpt.config().numLayers());
                float[] logits = Transformer.load(ckpt).forward(Fixtures.ints(g.get("input_ids")), 1);
                double diff = Fixtures.maxAbsDiff(logits, g.get("logits"));
                assertTrue(diff < 1e-4, name + " " + args + ": max |logit - transformers| = " + diff);
            }
        }
    }

    @Test
    void outputHasTheRecordTheReportAndTheTokenizer(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("o");
        CliTest.Run r = CliTest.run("compress", "--model", CliTest.FIXTURE.toString(), "--out", out.toString(), "--target-layers", "2",
                "--calib", CliTest.PPL.toString(), "--calib-seq-len", "32");
        assertEquals(0, r.code(), r.err());
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json", "generation_config.json", "come-merge.json", "report.html",
                "README.md"})
            assertTrue(Files.exists(out.resolve(f)), f);
        JsonNode rec = new ObjectMapper().readTree(out.resolve("come-merge.json").toFile());
        String command = rec.get("command").asText();
        assertTrue(command.startsWith("come compress --model " + CliTest.FIXTURE.toAbsolutePath() + " --out " + out.toAbsolutePath())
                && command.contains(" --calib " + CliTest.PPL.toAbsolutePath() + " "), "paths recorded absolute: " + command);
        String card = Files.readString(out.resolve("README.md"));
        assertTrue(card.startsWith("---\nbase_model: llama3-gqa-bf16\n") && card.contains("```sh\n" + command + "\n```"), card);
        assertEquals(1, rec.get("steps").size());
        assertEquals(2, rec.get("tree").size());
        try (Checkpoint in = Checkpoint.open(CliTest.FIXTURE)) {
            assertEquals(in.tensors().size(), rec.get("input").get("tensors").size());
        }
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(out), files.toList(), "no temp folder left beside the output");
        }
    }

    /** --seq-len is the old spelling of --calib-seq-len in compress; in bench it could mean either window and is refused. */
    @Test
    void seqLenSpellings(@TempDir Path tmp) throws Exception {
        CliTest.Run r = CliTest.run("bench", "--model", CliTest.FIXTURE.toString(), "--out", tmp.resolve("b").toString(), "--sparsity", "0.5",
                "--methods", "come", "--ppl", CliTest.PPL.toString(), "--calib", CliTest.PPL.toString(), "--seq-len", "32");
        assertEquals(2, r.code(), r.err()); // a usage error: picocli prints "--seq-len is ambiguous in bench: ..." with the usage
        r = CliTest.run("compress", "--model", CliTest.FIXTURE.toString(), "--out", tmp.resolve("c").toString(), "--target-layers", "2",
                "--calib", CliTest.PPL.toString(), "--seq-len", "32");
        assertEquals(0, r.code(), r.err());
        assertEquals(32, new ObjectMapper().readTree(tmp.resolve("c/come-merge.json").toFile()).path("settings").path("seq_len").asInt());
    }

    @Test
    void refusesBadTargetsAndLeavesNothingBehind(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("o");
        CliTest.assertBadInput(CliTest.run("compress", "--model", CliTest.FIXTURE.toString(), "--out", out.toString(), "--target-layers", "9",
                "--calib", CliTest.PPL.toString()), "outside 1..2");
        for (String[] nothing : List.of(new String[] {"--target-layers", "3"}, new String[] {"--sparsity", "0.01"}))
            CliTest.assertBadInput(CliTest.run("compress", "--model", CliTest.FIXTURE.toString(), "--out", out.toString(), nothing[0], nothing[1],
                    "--calib", CliTest.PPL.toString()), "nothing to do");
        for (String s : List.of("0", "NaN"))
            CliTest.assertBadInput(CliTest.run("compress", "--model", CliTest.FIXTURE.toString(), "--out", out.toString(), "--sparsity", s,
                    "--calib", CliTest.PPL.toString()), "--sparsity must be in (0, 1), not");
        CliTest.assertBadInput(CliTest.run("compress", "--model", CliTest.FIXTURE.toString(), "--out", out.toString(), "--target-layers", "2"),
                "--calib FILE is needed");
        CliTest.assertBadInput(CliTest.run("compress", "--model", CliTest.FIXTURE.toString(), "--out", out.toString(), "--target-layers", "3"),
                "nothing to do"); // the target is checked before --calib is asked for
        CliTest.assertBadInput(CliTest.run("compress", "--model", CliTest.FIXTURE.toString(), "--out", out.toString(), "--sparsity", "1.5",
                "--calib", CliTest.PPL.toString()), "--sparsity");
        CliTest.assertBadInput(CliTest.run("compress", "--model", CliTest.FIXTURE.toString(), "--out", out.toString(), "--target-layers", "2",
                "--calib", tmp.resolve("missing.txt").toString()), "missing.txt");
        assertFalse(Files.exists(out));
        try (var files = Files.list(tmp)) {
            assertEquals(0, files.count(), "no temp folder left after a failed run");
        }
    }

    @Test
    void refusesToWriteInsideTheInput(@TempDir Path tmp) throws Exception {
        Path model = CliTest.copyFixture(tmp);
        CliTest.Run r = CliTest.run("compress", "--model", model.toString(), "--out", model.resolve("small").toString(),
                "--target-layers", "2", "--calib", CliTest.PPL.toString(), "--calib-seq-len", "32");
        assertEquals(2, r.code(), r.err());
        assertFalse(Files.exists(model.resolve("small")));
    }

    /** A removal baseline writes the kept layers renumbered: its logits are the original model's without that layer. */
    @Test
    void removalOutputIsTheModelWithoutTheRemovedLayers(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("o");
        CliTest.Run r = CliTest.run("compress", "--model", CliTest.FIXTURE.toString(), "--out", out.toString(), "--target-layers", "2",
                "--method", "shortgpt", "--calib", CliTest.PPL.toString(), "--calib-seq-len", "32");
        assertEquals(0, r.code(), r.err());
        JsonNode rec = new ObjectMapper().readTree(out.resolve("come-merge.json").toFile());
        int removed = rec.get("removed").get(0).asInt();
        int[] ids = {1, 5, 17, 42, 99, 7, 250, 3};
        try (Checkpoint in = Checkpoint.open(CliTest.FIXTURE); Checkpoint o = Checkpoint.open(out)) {
            Transformer full = Transformer.load(in);
            List<Integer> kept = new ArrayList<>(List.of(0, 1, 2));
            kept.remove(removed);
            List<come4j.model.LayerWeights> w = new ArrayList<>(full.layers());
            w.remove(removed);
            float[] expected = full.withLayers(full.config().withLayers(kept.stream().mapToInt(Integer::intValue).toArray()), w).forward(ids, 1);
            org.junit.jupiter.api.Assertions.assertArrayEquals(expected, Transformer.load(o).forward(ids, 1));
            assertEquals(2, o.config().numLayers());
        }
    }

    /**
     * Every method (and CoMe followed by distillation) runs on Phi-3, fused tensors and all: the output holds exactly the
     * input's tensor names per layer (qkv_proj and gate_up_proj stacked again, no separate parts) and computes finite logits.
     */
    @ParameterizedTest
    @MethodSource("phi3Methods")
    void everyMethodRunsOnPhi3(String method, @TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("o"), model = Fixtures.deepened("phi3-f32", 8, tmp.resolve("m8"));
        List<String> args = new ArrayList<>(List.of("compress", "--model", model.toString(), "--out", out.toString(), "--target-layers", "6",
                "--method", method, "--calib", CliTest.PPL.toString(), "--calib-seq-len", "32", "--granularity", "2"));
        if (method.endsWith(come4j.distill.Distilled.SUFFIX))
            args.addAll(List.of("--distill-data", CliTest.PPL.toString(), "--distill-steps", "30", "--distill-lr", "3e-3"));
        CliTest.Run r = CliTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        for (JsonNode layer : new ObjectMapper().readTree(out.resolve("come-merge.json").toFile()).path("distill").path("layers"))
            assertTrue(layer.path("loss_last").asDouble() < layer.path("loss_first").asDouble(), "distillation lowers the loss: " + layer);
        try (Checkpoint in = Checkpoint.open(model); Checkpoint o = Checkpoint.open(out)) {
            assertEquals(6, o.config().numLayers());
            for (int i = 0; i < 6; i++) assertEquals(Fixtures.layerTensorNames(in, 0), Fixtures.layerTensorNames(o, i), method + " layer " + i);
            for (float v : Transformer.load(o).forward(new int[] {1, 5, 17, 42}, 1)) assertTrue(Float.isFinite(v));
        }
    }

    static Stream<String> phi3Methods() {
        return Stream.concat(methods(), Stream.of("come" + come4j.distill.Distilled.SUFFIX));
    }

    static Stream<String> methods() {
        return come4j.distill.Methods.names().stream();
    }

    /**
     * Every method's tree: output layers stand for contiguous ascending blocks of originals; merging methods account
     * for every original layer, removal methods for every kept one, and each removed layer is in no entry (no successor).
     */
    @ParameterizedTest
    @MethodSource("methods")
    void everyMethodRecordsItsTree(String method, @TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("o"), model = Fixtures.deepened("llama-mha-f32", 8, tmp.resolve("m8")); // Magnitude+ protects 6 layers
        CliTest.Run r = CliTest.run("compress", "--model", model.toString(), "--out", out.toString(), "--target-layers", "6",
                "--method", method, "--calib", CliTest.PPL.toString(), "--calib-seq-len", "32", "--granularity", "2");
        assertEquals(0, r.code(), r.err());
        JsonNode rec = new ObjectMapper().readTree(out.resolve("come-merge.json").toFile());
        assertEquals(method, rec.get("method").asText());
        List<Integer> covered = new ArrayList<>();
        for (JsonNode e : rec.get("tree")) {
            for (int i = 1; i < e.size(); i++) assertEquals(e.get(i - 1).asInt() + 1, e.get(i).asInt(), rec.get("tree").toString());
            e.forEach(o -> covered.add(o.asInt()));
        }
        assertEquals(6, rec.get("tree").size());
        rec.path("removed").forEach(o -> covered.add(o.asInt()));
        covered.sort(null);
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), covered, "each original layer is kept, merged or removed exactly once");
        assertTrue(rec.has("removed") != (rec.has("steps") || rec.has("laco") || rec.has("mka") || rec.has("span")), method);
        assertTrue(Files.exists(out.resolve("report.html")));
        try (Checkpoint o = Checkpoint.open(out)) {
            assertEquals(6, o.config().numLayers());
            for (float v : Transformer.load(o).forward(new int[] {1, 5, 17, 42}, 1)) assertTrue(Float.isFinite(v));
        }
    }

    /**
     * Every method on Gemma 3 (deepened to 8 layers: sliding, full, sliding, sliding, full, ...) runs, and each output
     * layer keeps the attention type (window and RoPE) of the first original layer it stands for; CoMe-LS is refused
     * (exit 2, one line: Gemma's output norms make the layer non-linear in o_proj and down_proj).
     */
    @ParameterizedTest
    @MethodSource("methods")
    void everyMethodRunsOnGemma3(String method, @TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("o"), model = Fixtures.deepened("gemma3-f32", 8, tmp.resolve("m8"));
        CliTest.Run r = CliTest.run("compress", "--model", model.toString(), "--out", out.toString(), "--target-layers", "6",
                "--method", method, "--calib", CliTest.PPL.toString(), "--calib-seq-len", "32", "--granularity", "2");
        if (method.contains("-ls")) { // come-ls, come-p-ls and the come-ls variants
            assertEquals(2, r.code(), r.err());
            assertEquals("come: the least-squares correction (come-ls, come-p-ls) needs layers whose output is linear in o_proj and "
                    + "down_proj; Gemma3ForCausalLM norms both sublayer outputs before the residual adds",
                    r.err().strip().lines().reduce((first, last) -> last).orElse("")); // after the calibration's progress lines
            return;
        }
        assertEquals(0, r.code(), r.err());
        JsonNode tree = new ObjectMapper().readTree(out.resolve("come-merge.json").toFile()).get("tree");
        JsonNode types = new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("layer_types");
        assertEquals(6, types.size());
        for (int j = 0; j < 6; j++)
            assertEquals(tree.get(j).get(0).asInt() % 3 == 1 ? "full_attention" : "sliding_attention", types.get(j).asText(), method + " layer " + j);
        try (Checkpoint o = Checkpoint.open(out)) {
            for (float v : Transformer.load(o).forward(new int[] {1, 5, 17, 42}, 1)) assertTrue(Float.isFinite(v));
        }
    }
}
