package come4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.model.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `come distill` (schedule sp) and `come compress --distill-each` (schedule mp) end to end on a fixture. */
class DistillCommandTest {
    @TempDir
    static Path tmp;
    static Path student;

    @BeforeAll
    static void compress() {
        student = tmp.resolve("student");
        CliTest.Run r = CliTest.run("compress", "--model", CliTest.FIXTURE.toString(), "--out", student.toString(),
                "--target-layers", "2", "--calib", CliTest.PPL.toString(), "--calib-seq-len", "32");
        assertEquals(0, r.code(), r.err());
    }

    private static CliTest.Run distill(Path out, String... extra) {
        String[] base = {"distill", "--teacher", CliTest.FIXTURE.toString(), "--student", student.toString(), "--data",
                CliTest.PPL.toString(), "--out", out.toString(), "--train-seq-len", "16", "--batch", "4"};
        String[] args = Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CliTest.run(args);
    }

    @Test
    void distillationLowersTheLossAndChangesOnlyMergedLayers() throws Exception {
        for (String loss : new String[] {"kl_hidden", "mse", "logit_lens_kl"}) {
            Path out = tmp.resolve("sp-" + loss);
            CliTest.Run r = distill(out, "--steps", "60", "--lr", "3e-3", "--loss", loss);
            assertEquals(0, r.code(), r.err());
            JsonNode rec = new ObjectMapper().readTree(out.resolve("come-distill.json").toFile());
            assertEquals(loss, rec.path("settings").path("loss").asText());
            JsonNode layer = rec.path("layers").get(0);
            assertEquals(60, layer.path("loss").size());
            assertTrue(layer.path("loss_last").asDouble() < 0.8 * layer.path("loss_first").asDouble(), loss + ": " + layer.path("loss_first") + " -> " + layer.path("loss_last"));
            int merged = layer.path("layer").asInt();
            try (Checkpoint in = Checkpoint.open(student); Checkpoint o = Checkpoint.open(out)) {
                for (var e : in.tensors().entrySet()) {
                    byte[] before = e.getValue().data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                    byte[] after = o.tensors().get(e.getKey()).data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                    boolean trained = e.getKey().startsWith("model.layers." + merged + ".");
                    assertEquals(!trained, Arrays.equals(before, after), e.getKey());
                }
            }
            assertTrue(Files.readString(out.resolve("report.html")).contains("Hierarchical distillation"));
            String card = Files.readString(out.resolve("README.md"));
            assertTrue(card.startsWith("---\nbase_model: llama3-gqa-bf16\n") && card.contains("- distillation\n")
                    && card.contains(" --teacher " + CliTest.FIXTURE.toAbsolutePath() + " "), "a card naming the teacher: " + card);
            assertTrue(Files.exists(out.resolve("come-merge.json")) && Files.exists(out.resolve("tokenizer.json")));
        }
    }

    @Test
    void methodPlusDistillCompressesThenDistils() throws Exception {
        Path out = tmp.resolve("come+distill");
        CliTest.Run r = CliTest.run("compress", "--model", CliTest.FIXTURE.toString(), "--out", out.toString(), "--target-layers", "2",
                "--calib", CliTest.PPL.toString(), "--calib-seq-len", "32", "--method", "come+distill", "--distill-data", CliTest.PPL.toString(),
                "--distill-steps", "30", "--distill-lr", "3e-3");
        assertEquals(0, r.code(), r.err());
        JsonNode rec = new ObjectMapper().readTree(out.resolve("come-merge.json").toFile());
        assertEquals("come+distill", rec.path("method").asText());
        JsonNode layer = rec.path("distill").path("layers").get(0);
        assertEquals(30, layer.path("loss").size());
        assertTrue(layer.path("loss_last").asDouble() < layer.path("loss_first").asDouble());
        assertEquals(rec.path("tree"), new ObjectMapper().readTree(student.resolve("come-merge.json").toFile()).path("tree"), "same merges as come");
        try (Checkpoint a = Checkpoint.open(out); Checkpoint b = Checkpoint.open(student)) {
            String name = "model.layers." + layer.path("layer").asInt() + ".mlp.up_proj.weight";
            assertFalse(Arrays.equals(a.tensor(name).toFloat(), b.tensor(name).toFloat()), "the merged layer was trained");
        }
        assertEquals(2, CliTest.run("compress", "--model", CliTest.FIXTURE.toString(), "--out", tmp.resolve("nodata").toString(),
                "--target-layers", "2", "--calib", CliTest.PPL.toString(), "--method", "come+distill").code());
    }

    @Test
    void methodPlusDistillWithDefaultsIsComeDistillWithDefaults() throws Exception {
        // a bench row NAME+distill must be the model `come distill` gives with the same (automatic) schedule
        Path cell = tmp.resolve("cell"), alone = tmp.resolve("alone");
        CliTest.Run r = CliTest.run("compress", "--model", CliTest.FIXTURE.toString(), "--out", cell.toString(), "--target-layers", "2",
                "--calib", CliTest.PPL.toString(), "--calib-seq-len", "32", "--method", "come+distill", "--distill-data", CliTest.PPL.toString(),
                "--distill-steps", "40");
        assertEquals(0, r.code(), r.err());
        r = CliTest.run("distill", "--teacher", CliTest.FIXTURE.toString(), "--student", student.toString(), "--data", CliTest.PPL.toString(),
                "--out", alone.toString(), "--steps", "40");
        assertEquals(0, r.code(), r.err());
        JsonNode layer = new ObjectMapper().readTree(alone.resolve("come-distill.json").toFile()).path("layers").get(0);
        assertTrue(layer.has("lr_search") && layer.has("best_step"), "the automatic schedule ran: " + layer);
        assertEquals(layer.path("lr_search"), new ObjectMapper().readTree(cell.resolve("come-merge.json").toFile())
                .path("distill").path("layers").get(0).path("lr_search"));
        assertTrue(Arrays.equals(Files.readAllBytes(cell.resolve("model.safetensors")), Files.readAllBytes(alone.resolve("model.safetensors"))),
                "come+distill and come distill give the same weights");
    }

    @Test
    void badInputIsOneLineWithExitCode2() throws Exception {
        CliTest.Run r = distill(tmp.resolve("x1"), "--loss", "cosine");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown loss 'cosine'"), r.err());
        r = CliTest.run("distill", "--teacher", CliTest.FIXTURE.toString(), "--student", CliTest.FIXTURE.toString(), "--data",
                CliTest.PPL.toString(), "--out", tmp.resolve("x2").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("has no come-merge.json"), r.err());
        r = CliTest.run("distill", "--teacher", Path.of("src/test/resources/fixtures/qwen3-f32").toString(), "--student", student.toString(),
                "--data", CliTest.PPL.toString(), "--out", tmp.resolve("x3").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("not a compressed version of the teacher") || r.err().contains("layers"), r.err());
        assertFalse(Files.exists(tmp.resolve("x1")) || Files.exists(tmp.resolve("x2")) || Files.exists(tmp.resolve("x3")));
    }

    @Test
    void scheduleMpDistilsEachMergeBeforeTheNextStatistics() throws Exception {
        Path plain = tmp.resolve("mp-plain"), mp = tmp.resolve("mp");
        java.util.List<String> common = java.util.List.of("compress", "--model", CliTest.FIXTURE.toString(), "--target-layers", "1",
                "--calib", CliTest.PPL.toString(), "--calib-seq-len", "32");
        java.util.List<String> a = new java.util.ArrayList<>(common), b = new java.util.ArrayList<>(common);
        a.addAll(java.util.List.of("--out", plain.toString()));
        b.addAll(java.util.List.of("--out", mp.toString(), "--distill-each", "--distill-data", CliTest.PPL.toString(), "--distill-steps", "20"));
        CliTest.Run p = CliTest.run(a.toArray(String[]::new));
        assertEquals(0, p.code(), p.err());
        CliTest.Run r = CliTest.run(b.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        JsonNode rec = new ObjectMapper().readTree(mp.resolve("come-merge.json").toFile());
        assertEquals("mp", rec.path("distill").path("settings").path("schedule").asText());
        assertEquals(2, rec.path("distill").path("layers").size(), "one distillation per merge step");
        JsonNode plainRec = new ObjectMapper().readTree(plain.resolve("come-merge.json").toFile());
        // the second step's statistics ran on the distilled layer: its calibration NLL before the step differs
        assertNotEquals(plainRec.path("steps").get(1).path("calib_nll_before").asDouble(), rec.path("steps").get(1).path("calib_nll_before").asDouble());
        assertEquals(2, CliTest.run("compress", "--model", CliTest.FIXTURE.toString(), "--out", tmp.resolve("mp-bad").toString(),
                "--target-layers", "2", "--method", "shortgpt", "--distill-each", "--distill-data", CliTest.PPL.toString()).code());
    }
}
