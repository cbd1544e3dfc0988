package come4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** `come latency` on the demo model with tiny iteration counts: its JSON fields agree with its own per-iteration times. */
class LatencyCommandTest {
    static final String DEMO = Examples.MODEL;
    static final String[] TINY = {"--prompt-tokens", "32", "--iterations", "3", "--gen-batch", "2", "--gen-prompt", "4",
            "--gen-new-tokens", "3", "--gen-iterations", "2", "--threads", "1"};

    /** `come latency` with the tiny sizes, of which {@code args} (option, value pairs, or a flag) replace some. */
    static CliTest.Run latency(String... args) {
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of("latency", "--model", DEMO));
        java.util.List<String> given = Arrays.asList(args);
        for (int i = 0; i < TINY.length; i += 2)
            if (!given.contains(TINY[i])) all.addAll(java.util.List.of(TINY[i], TINY[i + 1]));
        all.addAll(given);
        return CliTest.run(all.toArray(String[]::new));
    }

    @Test
    void jsonReportsEachPhaseAndTheSpeedupFromTheIterationTimes() throws Exception {
        CliTest.Run r = latency("--compare", DEMO, "--json"); // the same model twice: every figure is checked, not the ratio's size
        assertEquals(0, r.code(), r.err());
        JsonNode o = new ObjectMapper().readTree(r.out());
        JsonNode p = o.get("protocol");
        assertEquals(32, p.get("prompt_tokens").asInt());
        assertEquals(3, p.get("gen_new_tokens").asInt());
        assertEquals(1, p.get("warmup").asInt());
        assertEquals(1, o.get("threads").asInt());
        for (String m : new String[] {"model", "compare"}) {
            assertEquals(12, o.get(m).get("layers").asInt());
            check(o.get(m).get("prompt"), 3, 32, 32);
            check(o.get(m).get("generation"), 2, 2 * 3, 3);
        }
        for (String phase : new String[] {"prompt", "generation"}) {
            double[] a = ms(o.get("model").get(phase)), b = ms(o.get("compare").get(phase)), pairs = new double[a.length];
            for (int i = 0; i < a.length; i++) pairs[i] = a[i] / b[i];
            JsonNode s = o.get("speedup").get(phase);
            assertEquals(o.get("model").get(phase).get("ms_mean").asDouble() / o.get("compare").get(phase).get("ms_mean").asDouble(),
                    s.get("mean").asDouble(), 1e-12);
            assertEquals(Arrays.stream(pairs).min().orElseThrow(), s.get("min").asDouble(), 1e-12);
            assertEquals(Arrays.stream(pairs).max().orElseThrow(), s.get("max").asDouble(), 1e-12);
        }
    }

    /** One phase: its iteration times, and every figure derived from them. */
    private static void check(JsonNode t, int iterations, int tokens, int perToken) {
        double[] ms = ms(t);
        assertEquals(iterations, ms.length);
        assertEquals(iterations, t.get("iterations").asInt());
        assertEquals(tokens, t.get("tokens").asInt());
        double mean = Arrays.stream(ms).average().orElseThrow();
        assertTrue(Arrays.stream(ms).allMatch(x -> x > 0), t.toString());
        assertEquals(mean, t.get("ms_mean").asDouble(), 1e-9);
        assertEquals(tokens / (mean / 1000), t.get("tokens_per_second").asDouble(), 1e-6);
        assertEquals(mean / perToken, t.get("ms_per_token").asDouble(), 1e-9);
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        assertEquals(sorted[0], t.get("ms_min").asDouble());
        assertEquals(sorted[sorted.length - 1], t.get("ms_max").asDouble());
    }

    private static double[] ms(JsonNode t) {
        double[] ms = new double[t.get("ms").size()];
        for (int i = 0; i < ms.length; i++) ms[i] = t.get("ms").get(i).asDouble();
        return ms;
    }

    @Test
    void textTableAndSkippedPhase() {
        CliTest.Run r = latency("--gen-iterations", "0");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("Prompt processing: 1 x 32 tokens, no cache; 1 warm-up + 3 timed iterations\n"), r.out());
        assertTrue(r.out().contains("  " + DEMO + "     12 "), r.out());
        assertTrue(!r.out().contains("Generation"), r.out());
    }

    @Test
    void sizesBeyondTheModelsPositionsAreBadInput() {
        CliTest.assertBadInput(latency("--prompt-tokens", "513"), "prompt of 513 tokens exceeds max_position_embeddings 512");
        CliTest.assertBadInput(latency("--gen-prompt", "400", "--gen-new-tokens", "114"), "generation of 400 + 114 tokens exceeds max_position_embeddings 512");
        CliTest.assertBadInput(latency("--gen-batch", "0"), "at least 1");
    }
}
