package come4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.Fixtures;
import come4j.model.Checkpoint;
import come4j.model.Tokenizer;
import come4j.model.Transformer;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every task against lm-evaluation-harness itself (tools/lm_eval_goldens.py ran it with the hf backend on a fixture):
 * prompt strings character by character, request tokens, per-request log-likelihoods (1e-4) and greedy flags,
 * per-document and task metrics exactly. Both encodings: lm-eval 0.4.13's default (BOS) and the classic one (no BOS).
 */
class LmEvalGoldenTest {
    static final Path EVAL = Path.of("src/test/resources/eval");

    static Stream<String> goldens() {
        return Stream.of("arc_easy", "arc_challenge", "hellaswag", "piqa", "boolq", "winogrande", "openbookqa", "mmlu", "mmlu_5shot")
                .flatMap(t -> Stream.of(t, "no_bos/" + t));
    }

    @ParameterizedTest
    @MethodSource("goldens")
    void matchesTheHarness(String name) throws Exception {
        JsonNode g = new ObjectMapper().readTree(EVAL.resolve("goldens").resolve(name + ".json").toFile());
        boolean bos = !name.startsWith("no_bos/");
        Task task = Task.parse(g.get("task").asText());
        List<Item> items = task.items(EVAL.resolve("data"));
        JsonNode docs = g.get("documents");
        assertEquals(docs.size(), items.size());
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama-mha-f32")); Tokenizer tok = Tokenizer.load(ckpt.tokenizerFile())) {
            LogLikelihood ll = new LogLikelihood(Transformer.load(ckpt), tok, bos);
            TaskResult result = TaskResult.run(task, items, ll);
            for (int i = 0; i < items.size(); i++) {
                JsonNode doc = docs.get(i), req = doc.get("requests");
                Item it = items.get(i);
                assertEquals(req.size(), it.contexts().size(), name + " doc " + i);
                TaskResult.Sample s = result.samples().get(i);
                for (int j = 0; j < req.size(); j++) {
                    JsonNode r = req.get(j);
                    assertEquals(r.get("context").asText(), it.contexts().get(j), name + " doc " + i + " context " + j);
                    assertEquals(r.get("continuation").asText(), it.continuations().get(j), name + " doc " + i + " continuation " + j);
                    LogLikelihood.Tokens t = ll.tokens(it.contexts().get(j), it.continuations().get(j));
                    assertArrayEquals(Fixtures.ints(r.get("context_tokens")), t.context(), name + " doc " + i + " context tokens " + j);
                    assertArrayEquals(Fixtures.ints(r.get("continuation_tokens")), t.continuation(), name + " doc " + i + " continuation tokens " + j);
                    double expected = r.get("loglikelihood").asDouble(), got = s.scored().get(j).ll();
                    assertTrue(Math.abs(expected - got) < 1e-4, name + " doc " + i + " request " + j + ": " + got + " vs " + expected);
                    assertEquals(r.get("is_greedy").asBoolean(), s.scored().get(j).greedy(), name + " doc " + i + " greedy " + j);
                }
                assertEquals(doc.get("metrics").get("acc").asDouble(), s.pred() == s.gold() ? 1.0 : 0.0, name + " doc " + i + " acc");
                if (doc.get("metrics").has("acc_norm"))
                    assertEquals(doc.get("metrics").get("acc_norm").asDouble(), s.predNorm() == s.gold() ? 1.0 : 0.0, name + " doc " + i + " acc_norm");
            }
            JsonNode res = g.get("results");
            assertEquals(res.get("acc").asDouble(), result.acc().value(), 1e-12);
            assertEquals(res.get("acc_stderr").asDouble(), result.acc().stderr(), 1e-12);
            if (g.has("subtasks"))
                g.get("subtasks").properties().forEach(e -> {
                    assertEquals(e.getValue().get("acc").asDouble(), result.groups().get(e.getKey()).value(), 1e-12, e.getKey());
                    assertEquals(e.getValue().get("acc_stderr").asDouble(), result.groups().get(e.getKey()).stderr(), 1e-12, e.getKey());
                });
            if (res.has("acc_norm")) {
                assertEquals(res.get("acc_norm").asDouble(), result.accNorm().value(), 1e-12);
                assertEquals(res.get("acc_norm_stderr").asDouble(), result.accNorm().stderr(), 1e-12);
            }
        }
    }

    /** lm-eval's wikitext task (rolling windows of 16 tokens), per document and in total, in both encodings. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"default", "no_bos"})
    void wikitextMatchesTheHarness(String mode) throws Exception {
        JsonNode g = new ObjectMapper().readTree(EVAL.resolve("goldens/wikitext.json").toFile()).get("modes").get(mode);
        boolean bos = mode.equals("default");
        List<String> pages = come4j.io.TextFiles.documents(EVAL.resolve("data/wikitext/test.jsonl"));
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama-mha-f32")); Tokenizer tok = Tokenizer.load(ckpt.tokenizerFile())) {
            Transformer m = Transformer.load(ckpt);
            for (int i = 0; i < pages.size(); i++) {
                String text = RollingPerplexity.detokenize(pages.get(i));
                int[] ids = bos ? tok.encode(text) : tok.encodePlain(text);
                double ll = RollingPerplexity.logLikelihood(m, ids, m.config().bosTokenId(), 16);
                double expected = g.get("documents").get(i).get("loglikelihood").asDouble();
                assertTrue(Math.abs(ll - expected) < 1e-3, mode + " page " + i + ": " + ll + " vs " + expected);
            }
            RollingPerplexity.Result r = RollingPerplexity.evaluate(m, tok, pages, 16, bos);
            assertEquals(1, r.wordPerplexity() / g.get("word_perplexity").asDouble(), 1e-5);
            assertEquals(1, r.bytePerplexity() / g.get("byte_perplexity").asDouble(), 1e-6);
            assertEquals(g.get("bits_per_byte").asDouble(), r.bitsPerByte(), 1e-6);
        }
    }
}
