package come4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.io.RecordJson;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Evaluation results as typed records: the JSON `come eval --json` prints and a bench cell stores (hand-written JSON is
 * the reference), read back into equal records.
 */
class TaskScoresTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** MMLU-like: groups, no acc_norm, one sample; a standard error over one item is NaN (written as lm-eval's "NaN"). */
    @Test
    void aTaskWithGroupsAndSamples() throws Exception {
        Map<String, TaskResult.Metric> groups = new TreeMap<>(Map.of("b_subject", new TaskResult.Metric(1, Double.NaN),
                "a_subject", new TaskResult.Metric(0.5, 0.25)));
        var sample = new TaskResult.Sample(List.of(new LogLikelihood.Scored(-1.5, true), new LogLikelihood.Scored(-2.25, false)), 0, 0, 1);
        var r = new TaskResult(Task.parse("mmlu"), 3, new TaskResult.Metric(2 / 3.0, 0.125), null, groups, 1.5, List.of(sample));
        String json = "{\"acc\":0.6666666666666666,\"acc_stderr\":0.125,\"items\":3,\"seconds\":1.5,"
                + "\"groups\":{\"a_subject\":{\"acc\":0.5,\"acc_stderr\":0.25},\"b_subject\":{\"acc\":1.0,\"acc_stderr\":\"NaN\"}},"
                + "\"samples\":[{\"gold\":0,\"pred\":0,\"pred_norm\":1,\"loglikelihoods\":[-1.5,-2.25],\"is_greedy\":[true,false]}]}";
        TaskScores s = TaskScores.of(r, true);
        assertEquals(json, RecordJson.tree(s).toString());
        assertEquals(s, RecordJson.read(JSON.readTree(json), TaskScores.class));
        // without --log-samples the documents are left out
        assertEquals(json.replaceAll(",\"samples\".*\\]", ""), RecordJson.tree(TaskScores.of(r, false)).toString());
    }

    /** A task with acc_norm; the perplexity's fields at the top level with its throughput, then the tasks by key. */
    @Test
    void scoresOfOneModel() throws Exception {
        var r = new TaskResult(Task.parse("arc_easy"), 8, new TaskResult.Metric(0.25, 0.5), new TaskResult.Metric(0.375, 0.5), Map.of(), 2.0,
                List.of());
        TaskScores t = TaskScores.of(List.of(r), false).get("arc_easy");
        String task = "{\"acc\":0.25,\"acc_stderr\":0.5,\"acc_norm\":0.375,\"acc_norm_stderr\":0.5,\"items\":8,\"seconds\":2.0}";
        assertEquals(task, RecordJson.tree(t).toString());
        assertEquals(t, RecordJson.read(JSON.readTree(task), TaskScores.class));
        var ppl = new Perplexity.Result(12.5, 1024, 8, 4.0);
        assertEquals("{\"ppl\":12.5,\"tokens\":1024,\"windows\":8,\"seconds\":4.0,\"tokens_per_second\":256.0,\"tasks\":{\"arc_easy\":" + task + "}}",
                RecordJson.tree(new Scores(ppl, ppl.tokensPerSecond(), null, Map.of("arc_easy", t))).toString());
        assertEquals("{\"ppl\":12.5,\"tokens\":1024,\"windows\":8,\"seconds\":4.0}", RecordJson.tree(ppl).toString()); // a bench cell's text
        assertEquals("{\"word_perplexity\":20.0,\"byte_perplexity\":2.0,\"bits_per_byte\":1.0,\"documents\":3,\"tokens\":900,\"seconds\":1.0}",
                RecordJson.tree(new Scores(null, null, new RollingPerplexity.Result(20, 2, 1, 3, 900, 1), null)).toString());
    }
}
