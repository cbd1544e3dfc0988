package come4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import come4j.Fixtures;
import come4j.tensor.VectorOps;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The per-token NLL computed a chunk of rows at a time equals the one read off the whole [rows x vocab] logits. */
class TokenNllTest {
    @Test
    void chunksOfRowsGiveTheWholeLogitsNll() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama3-gqa-f32"))) {
            Transformer m = Transformer.load(ckpt);
            int V = ckpt.config().vocabSize(), batch = 3, n = 20, rows = batch * n;
            int[] ids = new int[rows], target = new int[rows];
            Random rnd = new Random(9);
            for (int i = 0; i < rows; i++) ids[i] = rnd.nextInt(V);
            for (int i = 0; i < rows; i++) target[i] = i % 5 == 4 ? -1 : rnd.nextInt(V); // some rows not scored
            float[] normed = m.finalStates(ids, batch), logits = m.logits(normed, rows);
            double[] whole = m.tokenNll(normed, rows, target), sevens = m.tokenNll(normed, rows, target, 7);
            for (int r = 0; r < rows; r++) {
                double expected = target[r] < 0 ? 0 : VectorOps.logSumExp(logits, r * V, V) - logits[r * V + target[r]];
                assertEquals(expected, whole[r], 0, "row " + r);
                assertEquals(expected, sevens[r], 0, "row " + r + " in chunks of 7 rows (the last of 4)");
            }
            // the perplexity loss from them: the mean over each window's tokens 1..n-1
            double total = 0;
            for (int b = 0; b < batch; b++) {
                double s = 0;
                for (int p = 0; p < n - 1; p++) s += VectorOps.logSumExp(logits, (b * n + p) * V, V) - logits[(b * n + p) * V + ids[b * n + p + 1]];
                total += s / (n - 1);
            }
            assertEquals(total, NextTokenLoss.sumOfWindowLosses(m, normed, ids, batch, n), 0);
        }
    }
}
