package come4j.eval;

import come4j.model.KVCache;
import come4j.model.Tokenizer;
import come4j.model.Transformer;
import come4j.tensor.VectorOps;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * lm-eval's loglikelihood requests (evaluation.md §3.2-3.3): tokenization of (context, continuation) pairs exactly as
 * the harness does it, and the summed log-probability of the continuation. The context of an item is run once into a
 * KV cache and every continuation is scored from there, so an item costs one context pass plus its continuations.
 */
public final class LogLikelihood {
    /** Log-likelihood of one continuation and whether greedy decoding would have produced it. */
    public record Scored(double ll, boolean greedy) {}

    record Tokens(int[] context, int[] continuation) {}

    private final Transformer model;
    private final Tokenizer tok;
    private final boolean specialTokens;
    private final int maxLength, prefixToken;

    /**
     * specialTokens: false = classic lm-eval (&lt;= 0.4.9, what pruning papers used): no BOS in the requests; true = the
     * tokenizer's default (lm-eval &gt;= 0.4.10).
     */
    public LogLikelihood(Transformer model, Tokenizer tok, boolean specialTokens) {
        this.model = model;
        this.tok = tok;
        this.specialTokens = specialTokens;
        this.maxLength = model.config().maxPositions();
        int bos = model.config().bosTokenId();
        this.prefixToken = bos >= 0 ? bos : model.config().eosTokenId();
    }

    private int[] encode(String s) {
        return specialTokens ? tok.encode(s) : tok.encodePlain(s);
    }

    /** Trailing whitespace moves to the continuation; the pair is encoded jointly and split at the context's length. */
    Tokens tokens(String context, String continuation) {
        if (context.isEmpty()) return new Tokens(new int[] {prefixToken}, encode(continuation));
        String ctx = PyText.rstrip(context);
        String cont = context.substring(ctx.length()) + continuation;
        int[] whole = encode(ctx + cont), c = encode(ctx);
        return new Tokens(c, Arrays.copyOfRange(whole, Math.min(c.length, whole.length), whole.length));
    }

    /** Scores every request of an item, in order. */
    public List<Scored> score(Item item) {
        int n = item.contexts().size();
        Tokens[] req = new Tokens[n];
        for (int j = 0; j < n; j++) req[j] = tokens(item.contexts().get(j), item.continuations().get(j));
        Scored[] out = new Scored[n];
        for (int j = 0; j < n; j++) {
            if (out[j] != null) continue;
            List<Integer> group = new ArrayList<>(); // requests with the same context tokens share its pass
            for (int k = j; k < n; k++) if (out[k] == null && Arrays.equals(req[k].context(), req[j].context())) group.add(k);
            int longest = group.stream().mapToInt(k -> req[k].continuation().length).max().orElse(0);
            if (req[j].context().length + longest - 1 > maxLength) {
                for (int k : group) out[k] = truncated(req[k]);
            } else {
                shared(req, group, out);
            }
        }
        return List.of(out);
    }

    private void shared(Tokens[] req, List<Integer> group, Scored[] out) {
        int[] ctx = req[group.getFirst()].context();
        int longest = group.stream().mapToInt(k -> req[k].continuation().length).max().orElse(0);
        KVCache cache = new KVCache(model.config(), ctx.length + longest);
        float[] h = model.extend(ctx, cache);
        int V = model.config().vocabSize();
        float[] first = model.logits(model.finalNorm(h, ctx.length - 1, 1), 1);
        for (int k : group) {
            int[] cont = req[k].continuation();
            cache.rewind(ctx.length);
            double ll = logProb(first, 0, cont[0]);
            boolean greedy = VectorOps.argmax(first, 0, first.length) == cont[0];
            if (cont.length > 1) {
                int[] feed = Arrays.copyOf(cont, cont.length - 1);
                float[] logits = model.logits(model.finalNorm(model.extend(feed, cache), 0, feed.length), feed.length);
                for (int t = 1; t < cont.length; t++) {
                    ll += logProb(logits, t - 1, cont[t]);
                    greedy &= VectorOps.argmax(logits, (t - 1) * V, V) == cont[t];
                }
            }
            out[k] = new Scored(ll, greedy);
        }
    }

    /** Longer than the model's window: keep the last maxLength + 1 tokens, as lm-eval does, and run them whole. */
    private Scored truncated(Tokens r) {
        int[] all = new int[r.context().length + r.continuation().length];
        System.arraycopy(r.context(), 0, all, 0, r.context().length);
        System.arraycopy(r.continuation(), 0, all, r.context().length, r.continuation().length);
        int[] window = Arrays.copyOfRange(all, Math.max(0, all.length - maxLength - 1), all.length);
        int[] input = Arrays.copyOf(window, window.length - 1);
        float[] logits = model.forward(input, 1);
        double ll = 0;
        boolean greedy = true;
        int m = r.continuation().length, V = model.config().vocabSize();
        for (int t = input.length - m; t < input.length; t++) {
            ll += logProb(logits, t, window[t + 1]);
            greedy &= VectorOps.argmax(logits, t * V, V) == window[t + 1];
        }
        return new Scored(ll, greedy);
    }

    private double logProb(float[] logits, int row, int token) {
        int V = model.config().vocabSize();
        return logits[row * V + token] - VectorOps.logSumExp(logits, row * V, V);
    }
}
