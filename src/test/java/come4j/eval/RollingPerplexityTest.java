package come4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import come4j.Fixtures;
import come4j.model.Checkpoint;
import come4j.model.Transformer;
import come4j.tensor.VectorOps;
import org.junit.jupiter.api.Test;

class RollingPerplexityTest {
    @Test
    void detokenizerRulesInOrder() {
        assertEquals("the players' scores", RollingPerplexity.detokenize("the players ' scores"));
        assertEquals("1-2, 3,000.5", RollingPerplexity.detokenize("1 @-@ 2 , 3 @,@ 000 @.@ 5"));
        assertEquals("a: b; c. d! e? f, g", RollingPerplexity.detokenize("a : b ; c . d ! e ? f , g"));
        assertEquals("(a b) [c] {d} \"e\" 'f'", RollingPerplexity.detokenize("( a b ) [ c ] { d } \" e \" ' f '"));
        assertEquals("==== H ====\n=== I ===\n== J ==", RollingPerplexity.detokenize("= = = = H = = = =\n= = = I = = =\n= = J = ="));
        assertEquals("5°C\nnext", RollingPerplexity.detokenize("5 ° C \n next"));
        assertEquals("in 1 cases, it's", RollingPerplexity.detokenize("in N cases , it 's"));
    }

    /** N = 10 tokens, M = 4: windows predict t0-3 (after the prefix), t4-7 (after t3 only), t8-9 (after t5-7). */
    @Test
    void rollingWindowsConditionAsTheHarnessDoes() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama-mha-f32"))) {
            Transformer m = Transformer.load(ckpt);
            int[] t = {5, 17, 42, 99, 7, 250, 3, 64, 128, 11};
            int prefix = 1;
            double expected = sum(m, new int[] {prefix, 5, 17, 42}, new int[] {5, 17, 42, 99}, 0)
                    + sum(m, new int[] {99, 7, 250, 3}, new int[] {7, 250, 3, 64}, 0)
                    + sum(m, new int[] {250, 3, 64, 128}, new int[] {128, 11}, 2);
            assertEquals(expected, RollingPerplexity.logLikelihood(m, t, prefix, 4), 1e-9);
            // a window longer than the document: one pass, every token conditioned on everything before it
            double whole = sum(m, new int[] {prefix, 5, 17, 42, 99, 7, 250, 3, 64, 128}, t, 0);
            assertEquals(whole, RollingPerplexity.logLikelihood(m, t, prefix, 64), 1e-9);
        }
    }

    /** Σ log P(targets[k] | input up to row from + k). */
    private static double sum(Transformer m, int[] input, int[] targets, int from) {
        float[] logits = m.forward(input, 1);
        int V = m.config().vocabSize();
        double s = 0;
        for (int k = 0; k < targets.length; k++) {
            int row = from + k;
            s += logits[row * V + targets[k]] - VectorOps.logSumExp(logits, row * V, V);
        }
        return s;
    }
}
