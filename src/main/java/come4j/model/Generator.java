package come4j.model;

import java.util.function.IntConsumer;

/** Greedy decoding with a KV cache: the prompt is run once as a batch, then one token per step. */
public final class Generator {
    private Generator() {}

    /** Generates up to maxNew tokens after the prompt, stopping at EOS; each new token is passed to onToken. */
    public static int[] greedy(Transformer model, int[] prompt, int maxNew, IntConsumer onToken) {
        ModelConfig c = model.config();
        KVCache cache = new KVCache(c, prompt.length + maxNew);
        int[] out = new int[maxNew];
        int n = 0;
        int[] input = prompt;
        while (n < maxNew) {
            int T = input.length;
            float[] h = model.extend(input, cache);
            float[] logits = model.logits(model.finalNorm(h, T - 1, 1), 1);
            int next = come4j.tensor.VectorOps.argmax(logits, 0, logits.length);
            out[n++] = next;
            onToken.accept(next);
            if (next == c.eosTokenId()) break;
            input = new int[] {next};
        }
        return java.util.Arrays.copyOf(out, n);
    }
}
