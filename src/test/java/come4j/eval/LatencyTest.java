package come4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.Fixtures;
import come4j.model.Checkpoint;
import come4j.model.Transformer;
import come4j.tensor.VectorOps;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LatencyTest {
    /** The timed generation is real decoding: each sequence of the batch gets the greedy tokens of a full pass over its own prefix. */
    @Test
    void batchedGenerationFollowsEachSequencesFullPassArgmax() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama3-gqa-f32"))) {
            Transformer m = Transformer.load(ckpt);
            int V = m.config().vocabSize(), batch = 3, P = 4, N = 5;
            int[] prompts = Latency.randomIds(m.config(), batch * P, 7);
            int[] out = Latency.generate(m, prompts, batch, N, () -> {});
            for (int b = 0; b < batch; b++) {
                int[] seq = Arrays.copyOfRange(prompts, b * P, (b + 1) * P), expected = new int[N];
                for (int t = 0; t < N; t++) {
                    expected[t] = VectorOps.argmax(m.forward(seq, 1), (seq.length - 1) * V, V);
                    seq = Arrays.copyOf(seq, seq.length + 1);
                    seq[seq.length - 1] = expected[t];
                }
                assertArrayEquals(expected, Arrays.copyOfRange(out, b * N, (b + 1) * N), "sequence " + b);
            }
        }
    }

    /** Statistics by hand: times 10, 20, 60 ms of 100 tokens (4 per token-latency unit). */
    @Test
    void timingStatisticsAndSpeedup() {
        Latency.Timing a = new Latency.Timing(new double[] {10, 20, 60}, 100, 4);
        assertEquals(30, a.mean(), 1e-12);
        assertEquals(Math.sqrt((400 + 100 + 900) / 2.0), a.sd(), 1e-12);
        assertEquals(100 / 0.030, a.tokensPerSecond(), 1e-9);
        assertEquals(7.5, a.msPerToken(), 1e-12);
        ObjectNode j = a.json();
        assertEquals(10, j.get("ms_min").asDouble());
        assertEquals(20, j.get("ms_median").asDouble());
        assertEquals(60, j.get("ms_max").asDouble());
        Latency.Timing b = new Latency.Timing(new double[] {5, 20, 20}, 100, 4);
        ObjectNode s = Latency.speedup(a, b); // pairs 2, 1, 3
        assertEquals(2, s.get("mean").asDouble(), 1e-12);
        assertEquals(1, s.get("min").asDouble());
        assertEquals(2, s.get("median").asDouble());
        assertEquals(3, s.get("max").asDouble());
        assertEquals(15, new Latency.Timing(new double[] {10, 20}, 1, 1).json().get("ms_median").asDouble()); // even count
    }
}
