package come4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.Fixtures;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Incremental decoding and batching must not change what the model computes. */
class DecodingTest {
    static final int[] IDS = {5, 17, 42, 99, 7, 250, 3, 64, 128, 11, 200, 33, 71, 150};

    @ParameterizedTest
    @ValueSource(strings = {"mistral-f32", "qwen3-f32", "llama3-gqa-f32", "opt-f32", "opt350-f32", "gemma3-f32"})
    void kvCacheStepsEqualTheFullForwardPass(String name) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(name))) {
            Transformer m = Transformer.load(ckpt);
            int V = m.config().vocabSize();
            float[] full = m.forward(IDS, 1);
            KVCache cache = new KVCache(m.config(), IDS.length);
            int prefix = 5; // a batch prefill, then one token at a time
            for (int start = 0; start < IDS.length; ) {
                int len = start == 0 ? prefix : 1;
                float[] h = m.embed(Arrays.copyOfRange(IDS, start, start + len), 1, start); // OPT: learned positions from start
                for (int i = 0; i < m.numLayers(); i++) m.layer(i, h, 1, len, start, cache, LayerHooks.NONE);
                cache.advance(len);
                float[] logits = m.logits(m.finalNorm(h, len - 1, 1), 1);
                int row = start + len - 1;
                for (int v = 0; v < V; v++)
                    assertTrue(Math.abs(logits[v] - full[row * V + v]) < 1e-4, name + " position " + row);
                start += len;
            }
        }
    }

    /**
     * A batch of sequences decoded together through one cache (a prefill, then one token per sequence per step, as
     * `come latency` generates) gives each sequence the logits it gets decoded alone, and those of the uncached pass.
     */
    @ParameterizedTest
    @ValueSource(strings = {"mistral-f32", "qwen3-f32", "llama3-gqa-f32"})
    void batchedKvCacheEqualsEachSequenceAloneAndTheFullPass(String name) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(name))) {
            Transformer m = Transformer.load(ckpt);
            int V = m.config().vocabSize(), batch = 3, prefix = 4, steps = 6, len = prefix + steps;
            int[][] seqs = new int[batch][len];
            for (int b = 0; b < batch; b++)
                for (int t = 0; t < len; t++) seqs[b][t] = IDS[(t + 5 * b) % IDS.length]; // different sequences
            KVCache together = new KVCache(m.config(), batch, len);
            KVCache[] alone = new KVCache[batch];
            for (int b = 0; b < batch; b++) alone[b] = new KVCache(m.config(), len);
            for (int start = 0; start < len; ) {
                int T = start == 0 ? prefix : 1;
                int[] ids = new int[batch * T];
                for (int b = 0; b < batch; b++) System.arraycopy(seqs[b], start, ids, b * T, T);
                float[] h = m.extend(ids, batch, together);
                float[] logits = m.logits(m.finalNorm(h, 0, batch * T), batch * T);
                for (int b = 0; b < batch; b++) {
                    float[] hb = m.extend(Arrays.copyOfRange(seqs[b], start, start + T), alone[b]);
                    float[] single = m.logits(m.finalNorm(hb, 0, T), T);
                    float[] full = m.forward(Arrays.copyOf(seqs[b], start + T), 1);
                    float[] mine = Arrays.copyOfRange(logits, b * T * V, (b + 1) * T * V);
                    assertArrayEquals(single, mine, 1e-5f, name + " sequence " + b + " at " + start);
                    assertArrayEquals(Arrays.copyOfRange(full, start * V, (start + T) * V), mine, 1e-5f,
                            name + " sequence " + b + " at " + start + " against the uncached pass");
                }
                start += T;
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen2-f32", "llama-mha-bf16", "opt350-bf16", "gemma3-bf16"})
    void batchedWindowsEqualSingleWindows(String name) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(name))) {
            Transformer m = Transformer.load(ckpt);
            int T = 7;
            int[] a = Arrays.copyOfRange(IDS, 0, T), b = Arrays.copyOfRange(IDS, T, 2 * T);
            float[] both = m.forward(IDS, 2);
            float[] one = m.forward(a, 1), two = m.forward(b, 1);
            float[] joined = Arrays.copyOf(one, one.length + two.length);
            System.arraycopy(two, 0, joined, one.length, two.length);
            assertArrayEquals(joined, both, 1e-5f);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-mha-f32"})
    void greedyGenerationFollowsTheArgmaxOfTheFullPass(String name) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(name))) {
            Transformer m = Transformer.load(ckpt);
            int[] prompt = Arrays.copyOf(IDS, 4);
            int[] out = Generator.greedy(m, prompt, 6, t -> {});
            int[] seq = prompt;
            for (int t : out) { // each generated token is the argmax of a fresh full pass over what came before
                float[] logits = m.forward(seq, 1);
                int V = m.config().vocabSize();
                assertTrue(come4j.tensor.VectorOps.argmax(logits, (seq.length - 1) * V, V) == t);
                seq = Arrays.copyOf(seq, seq.length + 1);
                seq[seq.length - 1] = t;
            }
        }
    }
}
