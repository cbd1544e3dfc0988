package come4j.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.Fixtures;
import come4j.cli.Main;
import come4j.model.Checkpoint;
import come4j.model.Tokenizer;
import come4j.model.LayerHooks;
import come4j.model.Transformer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `come distill --steps 0 --e2e-steps N` on a fixture: the end-to-end stage alone. Its first held-out measurement is
 * the KL between the teacher's and the student's next-token distributions over the held-out windows, computed here
 * independently on the inference path (each model's own forward, final norm and head); training lowers it; only the
 * merged layer changes.
 */
class EndToEndTest {
    private static final int T = 16, BATCH = 2, STEPS = 40;

    @Test
    void firstHeldOutMeasurementIsTheKlOfTheTwoModelsAndTrainingLowersIt(@TempDir Path tmp) throws Exception {
        Path teacher = Fixtures.DIR.resolve("llama3-gqa-f32"), student = tmp.resolve("student"), out = tmp.resolve("out");
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        assertEquals(0, Main.execute(new String[] {"compress", "--model", teacher.toString(), "--out", student.toString(),
                "--target-layers", "2", "--calib", Fixtures.PPL_TEXT.toString(), "--calib-seq-len", "32"}, quiet));
        assertEquals(0, Main.execute(new String[] {"distill", "--teacher", teacher.toString(), "--student", student.toString(), "--data",
                Fixtures.PPL_TEXT.toString(), "--out", out.toString(), "--steps", "0", "--e2e-steps", Integer.toString(STEPS), "--batch",
                Integer.toString(BATCH), "--train-seq-len", Integer.toString(T), "--threads", "1"}, quiet));
        var e2e = new ObjectMapper().readTree(out.resolve("come-distill.json").toFile()).get("e2e");
        double first = e2e.get("held_out").get(0).get(1).asDouble();

        try (Checkpoint t = Checkpoint.open(teacher); Checkpoint s = Checkpoint.open(student); Checkpoint o = Checkpoint.open(out);
             Tokenizer tok = Tokenizer.load(s)) {
            TrainingWindows data = TrainingWindows.build(List.of(Fixtures.PPL_TEXT), tok, T, STEPS * BATCH, 0, EndToEnd.AUTO.heldOut());
            Transformer tm = Transformer.load(t), sm = Transformer.load(s);
            double sum = 0;
            for (int w : data.heldOutIds()) {
                float[] zt = logits(tm, data.windows().get(w)), zs = logits(sm, data.windows().get(w));
                sum += meanKl(zt, zs, t.config().vocabSize());
            }
            double expected = sum / data.heldOut();
            assertTrue(expected > 1e-3, "the student differs from its teacher: " + expected);
            assertEquals(expected, first, 1e-5 * expected, "the stage's held-out KL before training");
            assertTrue(e2e.get("held_out_best").asDouble() < 0.9 * first, "training lowers the held-out KL: " + e2e.get("held_out"));

            for (String frozen : List.of("model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.norm.weight", "lm_head.weight"))
                assertArrayEquals(s.tensor(frozen).toFloat(), o.tensor(frozen).toFloat(), frozen + " is frozen");
            assertFalse(java.util.Arrays.equals(s.tensor("model.layers.1.mlp.down_proj.weight").toFloat(),
                    o.tensor("model.layers.1.mlp.down_proj.weight").toFloat()), "the merged layer is trained");
        }
    }

    /** The logits of one window through the model's inference path. */
    private static float[] logits(Transformer m, int[] ids) {
        float[] h = m.embed(ids, 1, 0);
        for (int l = 0; l < m.numLayers(); l++) m.layer(l, h, 1, ids.length, 0, null, LayerHooks.NONE);
        return m.logits(m.finalNorm(h, 0, ids.length), ids.length);
    }

    /** Mean over rows of KL(softmax(zt) ‖ softmax(zs)), in double. */
    private static double meanKl(float[] zt, float[] zs, int V) {
        int rows = zt.length / V;
        double total = 0;
        for (int r = 0; r < rows; r++) {
            double lt = logSumExp(zt, r * V, V), ls = logSumExp(zs, r * V, V);
            for (int v = 0; v < V; v++) {
                double logP = zt[r * V + v] - lt, logQ = zs[r * V + v] - ls;
                total += Math.exp(logP) * (logP - logQ);
            }
        }
        return total / rows;
    }

    private static double logSumExp(float[] z, int off, int n) {
        double max = Double.NEGATIVE_INFINITY, s = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, z[off + i]);
        for (int i = 0; i < n; i++) s += Math.exp(z[off + i] - max);
        return max + Math.log(s);
    }
}
