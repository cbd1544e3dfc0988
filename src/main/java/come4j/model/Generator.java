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
            int T = input.length, pos = cache.length();
            float[] h = model.embed(input);
            for (int i = 0; i < model.numLayers(); i++) model.layer(i, h, 1, T, pos, cache, LayerHooks.NONE);
            cache.advance(T);
            float[] logits = model.logits(model.finalNorm(h, T - 1, 1), 1);
            int next = argmax(logits);
            out[n++] = next;
            onToken.accept(next);
            if (next == c.eosTokenId()) break;
            input = new int[] {next};
        }
        return java.util.Arrays.copyOf(out, n);
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
