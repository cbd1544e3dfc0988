package come4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCardTest {
    private static final String ORIGINAL = "---\nlicense: apache-2.0\nlanguage:\n- en\n- fr\ntags:\n- base\n---\n# Tiny\n\nTrained on | pipes.\n";

    @Test
    void cardNamesTheBaseModelAndHowItWasMadeAndKeepsTheOriginalCard(@TempDir Path tmp) throws Exception {
        Path base = tmp.resolve("tiny-llama");
        Files.createDirectories(base);
        Files.writeString(base.resolve("README.md"), ORIGINAL);
        Files.writeString(base.resolve("config.json"), "{\"_name_or_path\": \"/home/me/ckpt\"}"); // a local path: not a Hub id
        Path file = tmp.resolve("README.md");
        ModelCard.write(MergeReportTest.record(), null, base, file);
        String card = Files.readString(file);
        assertTrue(card.startsWith("---\nbase_model: tiny-llama\ntags:\n- come4j\n- layer-merging\nlibrary_name: transformers\n"
                + "license: apache-2.0\nlanguage:\n- en\n- fr\n---\n\n# tiny-llama, 12 \u2192 8 layers (come-p)\n"), card);
        assertTrue(card.contains("| parameters | 10,803,456 \u2192 7,901,440 (sparsity 26.86%, 30.00% requested) |"), card);
        assertTrue(card.contains("| calibration | 37 windows \u00d7 512 tokens = 18,944 tokens, from 40 samples, seed 10 |"), card);
        assertTrue(card.contains("| calibration NLL (mean per token) | 3.5000 before \u2192 3.7000 after |"), card);
        assertTrue(card.contains("```sh\n" + MergeReportTest.COMMAND + "\n```"), card);
        assertTrue(card.contains("| 0 | [0-1] | merged (step 3) |\n| 1 | [2] | kept |\n| 2 | [3-4] | merged (step 1) |"), card);
        assertTrue(card.endsWith("## Original model card\n\nThe card of `tiny-llama`, as it came with the model:\n\n## Tiny\n\nTrained on | pipes.\n"), card);
        assertEquals(2, card.split("\n---\n", -1).length, "one front matter: the original's is not repeated");
    }

    @Test
    void originalHeadingsGoOneLevelDownButNotInCode() {
        assertEquals("## A\ntext #1\n```\n# shell comment\n```\n### B", ModelCard.demoted("# A\ntext #1\n```\n# shell comment\n```\n## B"));
    }

    @Test
    void hubIdFromConfigOrCacheFolder(@TempDir Path tmp) {
        assertEquals("meta-llama/Llama-2-7b-hf", ModelCard.hubId("{\"_name_or_path\": \"meta-llama/Llama-2-7b-hf\"}", tmp.resolve("x")));
        Path snapshot = tmp.resolve("hub/models--org--name.v2/snapshots/abc123");
        assertEquals("org/name.v2", ModelCard.hubId("{}", snapshot));
        assertEquals("abc123", ModelCard.hubId(null, tmp.resolve("abc123")));
    }

    @Test
    void removalAndDistillationCards(@TempDir Path tmp) {
        ObjectNode removal = (ObjectNode) MergeReportTest.record();
        removal.put("method", "shortgpt").remove(java.util.List.of("steps", "calib_nll"));
        removal.putArray("removed").add(3).add(9);
        removal.set("tree", MergeReportTest.JSON.valueToTree(new int[][] {{0}, {1}, {2}, {4}, {5}, {6}, {7}, {8}, {10}, {11}}));
        String card = ModelCard.card(removal, null, tmp.resolve("m"), null, null);
        assertTrue(card.contains("- layer-pruning\n") && card.contains("Removed original layers: 3, 9.") && !card.contains("Original model card"), card);

        ObjectNode d = MergeReportTest.JSON.createObjectNode().put("command", "come distill --out /o");
        d.putObject("settings").put("schedule", "sp").put("loss", "mse").put("steps", 30).put("batch", 2).put("seq_len", 256)
                .put("tokens_per_layer", 15360).put("lr", 1e-4);
        d.putArray("layers").addObject().put("layer", 2).put("loss_first", 0.5).put("loss_last", 0.02).putArray("block").add(3).add(4);
        card = ModelCard.card(MergeReportTest.record(), d, tmp.resolve("m"), null, ORIGINAL);
        assertTrue(card.contains("- distillation\n") && card.contains("| 2 | 3\u20134 | 0.5 | 0.02 |") && card.contains("`come-distill.json`"), card);
        assertTrue(card.contains("Schedule sp, mse loss, 30 steps of 2 windows \u00d7 256 tokens per merged layer (15,360 tokens)"), card);

        ((ObjectNode) d.get("settings")).put("steps", 0); // the end-to-end stage alone
        d.putArray("layers");
        ObjectNode e = d.putObject("e2e").put("lr", 1e-4).put("held_out_best", 0.25).put("best_step", 38).put("steps_run", 40);
        e.putArray("layers").add(1).add(3);
        e.putArray("held_out").addArray().add(0).add(0.5);
        card = ModelCard.card(MergeReportTest.record(), d, tmp.resolve("m"), null, ORIGINAL);
        assertTrue(card.contains("The layer-wise stage was skipped (`--steps 0`).") && !card.contains("Schedule sp")
                && card.contains("End to end: merged layers 1, 3 trained together on KL to the teacher's logits, learning rate 1e-4 (searched on"
                + " held-out windows); held-out KL 0.5 at the start, 0.25 at step 38 of 40 run."), card);
    }
}
