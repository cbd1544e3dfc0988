package come4j.eval;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.RecordJson;
import come4j.io.Progress;
import come4j.model.KVCache;
import come4j.model.ModelConfig;
import come4j.model.Transformer;
import come4j.tensor.VectorOps;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Inference latency by the CoMe authors' protocol (their latency.py, utils/latency_utils.py): <b>prompt
 * processing</b>, one sequence of 2048 random tokens (capped here by max_position_embeddings) through the whole model
 * without a cache, logits included; <b>generation</b>, a batch of 64 random 64-token prompts continued by 128 new
 * tokens (greedy, no stop at EOS, as their min_new_tokens = max_new_tokens) with a KV cache, the prefill included.
 * Each phase runs one warm-up iteration, then the timed ones (50 and 10). The authors time the loop as a whole and
 * report its mean; here every iteration is timed, so the spread comes with the mean. Two models are timed
 * interleaved, iteration by iteration, so that both see the same machine and each pair gives a speed-up.
 */
public final class Latency {
    private Latency() {}

    /** Phase sizes; an iteration count of 0 skips that phase. */
    public record Protocol(@JsonProperty("prompt_tokens") int promptTokens, int iterations, @JsonProperty("gen_batch") int genBatch,
                           @JsonProperty("gen_prompt") int genPrompt, @JsonProperty("gen_new_tokens") int genNewTokens,
                           @JsonProperty("gen_iterations") int genIterations, int warmup, int seed) {
        /**
         * The authors' protocol: prompt 1 x 2048, 50 iterations; generation 64 x (64 + 128), 10. Capped by the model's
         * max positions M: the prompt to M tokens, the generation's prompts to M / 3 and its new tokens to the rest.
         */
        public static Protocol authors(ModelConfig c) {
            int M = c.maxPositions(), genPrompt = Math.min(64, Math.max(1, M / 3));
            return new Protocol(Math.min(2048, M), 50, 64, genPrompt, Math.min(128, M - genPrompt + 1), 10, 1, 0);
        }

        /** Why this protocol cannot run on a model; null when it can. */
        public String problem(ModelConfig c) {
            if (promptTokens < 1 || genBatch < 1 || genPrompt < 1 || genNewTokens < 1 || iterations < 0 || genIterations < 0 || warmup < 0)
                return "latency sizes must be at least 1 and iteration counts at least 0";
            if (iterations > 0 && promptTokens > c.maxPositions())
                return "prompt of " + promptTokens + " tokens exceeds max_position_embeddings " + c.maxPositions();
            if (genIterations > 0 && genPrompt + genNewTokens - 1 > c.maxPositions())
                return "generation of " + genPrompt + " + " + genNewTokens + " tokens exceeds max_position_embeddings " + c.maxPositions();
            return null;
        }

        public ObjectNode json() {
            return RecordJson.tree(this);
        }
    }

    /**
     * One phase's timed iterations (milliseconds each). {@code tokens}: tokens an iteration processes (prompt) or
     * generates (all sequences); {@code perToken}: what one token's latency divides (the prompt's tokens, or the new
     * tokens of one sequence: the time between two tokens of a sequence).
     */
    public record Timing(double[] ms, int tokens, int perToken) {
        public double mean() {
            return Arrays.stream(ms).average().orElse(Double.NaN);
        }

        /** Sample standard deviation (n - 1). */
        public double sd() {
            double m = mean();
            return ms.length < 2 ? 0 : Math.sqrt(Arrays.stream(ms).map(x -> (x - m) * (x - m)).sum() / (ms.length - 1));
        }

        public double tokensPerSecond() {
            return tokens / (mean() / 1000);
        }

        public double msPerToken() {
            return mean() / perToken;
        }

        public ObjectNode json() {
            return RecordJson.tree(new Summary(ms.length, tokens, tokensPerSecond(), msPerToken(), mean(), sd(), Spread.of(ms), ms));
        }

        /** How a phase is recorded: its iterations and tokens, the throughput and per-token time, every iteration's time and their spread. */
        private record Summary(int iterations, int tokens, @JsonProperty("tokens_per_second") double tokensPerSecond,
                               @JsonProperty("ms_per_token") double msPerToken, @JsonProperty("ms_mean") double msMean,
                               @JsonProperty("ms_sd") double msSd, @JsonUnwrapped(prefix = "ms_") Spread spread, double[] ms) {}
    }

    /** The speed-up of b over a in one phase: mean a / mean b (the authors' figure), and per iteration pair. */
    public static ObjectNode speedup(Timing a, Timing b) {
        double[] pairs = new double[Math.min(a.ms().length, b.ms().length)];
        for (int i = 0; i < pairs.length; i++) pairs[i] = a.ms()[i] / b.ms()[i];
        return RecordJson.tree(new Speedup(a.mean() / b.mean(), Spread.of(pairs)));
    }

    /** The speed-up of the means, and the spread of the speed-ups of the iteration pairs. */
    private record Speedup(double mean, @JsonUnwrapped Spread spread) {}

    /** min, median and max (NaN of none). */
    private record Spread(double min, double median, double max) {
        static Spread of(double[] xs) {
            double[] s = xs.clone();
            Arrays.sort(s);
            double median = s.length == 0 ? Double.NaN : s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
            return new Spread(s.length == 0 ? Double.NaN : s[0], median, s.length == 0 ? Double.NaN : s[s.length - 1]);
        }
    }

    /** Prompt processing of every model, interleaved: one Timing per model, or none when the phase is skipped. */
    public static List<Timing> prompt(List<Transformer> models, Protocol p) {
        if (p.iterations() == 0) return List.of();
        List<Runnable> work = models.stream().<Runnable>map(m -> {
            int[] ids = randomIds(m.config(), p.promptTokens(), p.seed());
            return () -> m.forward(ids, 1);
        }).toList();
        double[][] ms;
        try (Progress bar = Progress.start("prompt processing", (long) models.size() * (p.warmup() + p.iterations()), "passes")) {
            ms = time(work, p.warmup(), p.iterations(), () -> bar.step(1));
        }
        return Arrays.stream(ms).map(t -> new Timing(t, p.promptTokens(), p.promptTokens())).toList();
    }

    /** Generation by every model, interleaved: one Timing per model, or none when the phase is skipped. */
    public static List<Timing> generation(List<Transformer> models, Protocol p) {
        if (p.genIterations() == 0) return List.of();
        try (Progress bar = Progress.start("generation", (long) models.size() * (p.warmup() + p.genIterations()) * p.genNewTokens(), "steps")) {
            List<Runnable> work = models.stream().<Runnable>map(m -> {
                int[] prompts = randomIds(m.config(), p.genBatch() * p.genPrompt(), p.seed() + 1);
                return () -> generate(m, prompts, p.genBatch(), p.genNewTokens(), () -> bar.step(1));
            }).toList();
            double[][] ms = time(work, p.warmup(), p.genIterations(), () -> {});
            return Arrays.stream(ms).map(t -> new Timing(t, p.genBatch() * p.genNewTokens(), p.genNewTokens())).toList();
        }
    }

    /**
     * Greedy continuation of {@code batch} prompts (concatenated) by {@code newTokens} tokens each, with one KV cache
     * for the batch: the prompts' pass gives the first new token, each further step one token per sequence. Returns
     * the new tokens, [batch x newTokens].
     */
    public static int[] generate(Transformer m, int[] prompts, int batch, int newTokens, Runnable onStep) {
        int d = m.config().hiddenSize(), V = m.config().vocabSize();
        KVCache cache = new KVCache(m.config(), batch, prompts.length / batch + newTokens - 1);
        int[] out = new int[batch * newTokens], ids = prompts;
        for (int step = 0; step < newTokens; step++) {
            int T = ids.length / batch;
            float[] h = m.extend(ids, batch, cache), last = new float[batch * d];
            for (int b = 0; b < batch; b++) System.arraycopy(h, (b * T + T - 1) * d, last, b * d, d);
            float[] logits = m.logits(m.finalNorm(last, 0, batch), batch);
            ids = new int[batch];
            for (int b = 0; b < batch; b++) out[b * newTokens + step] = ids[b] = VectorOps.argmax(logits, b * V, V);
            onStep.run();
        }
        return out;
    }

    /** Runs each work item {@code warmup} times, then times {@code iterations} rounds of all of them in turn: [item][round] ms. */
    private static double[][] time(List<Runnable> work, int warmup, int iterations, Runnable onIteration) {
        for (Runnable w : work)
            for (int i = 0; i < warmup; i++) {
                w.run();
                onIteration.run();
            }
        double[][] ms = new double[work.size()][iterations];
        for (int i = 0; i < iterations; i++)
            for (int j = 0; j < work.size(); j++) {
                long t0 = System.nanoTime();
                work.get(j).run();
                ms[j][i] = (System.nanoTime() - t0) / 1e6;
                onIteration.run();
            }
        return ms;
    }

    /** Random token ids below min(vocab, 31999), as the authors' torch.randint(0, 31999); the same for every model of one vocabulary. */
    static int[] randomIds(ModelConfig c, int n, long seed) {
        Random r = new Random(seed);
        int bound = Math.min(c.vocabSize(), 31999);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = r.nextInt(bound);
        return ids;
    }
}
