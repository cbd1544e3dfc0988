package come4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.eval.Perplexity;
import come4j.eval.TaskScores;
import come4j.io.RecordJson;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** bench.json as a typed record: the fields in the order bench.json has them (hand-written JSON), read back equal. */
class BenchRecordTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aBenchRecordWritesItsFieldsInOrderAndReadsBackEqual() throws Exception {
        var base = new BenchRecord.Cell("base", 0.0, 12, 12, 1000, 0.0, 0.0, Map.of("t.txt", new Perplexity.Result(20.5, 256, 2, 1.5)),
                null, Map.of("arc_easy", new TaskScores(0.5, 0.25, null, null, 4, 0.5, null, null)), 2.0);
        var cell = new BenchRecord.Cell("come", 0.2, 10, 10, 800, 0.2, 3.5, Map.of("t.txt", new Perplexity.Result(30.25, 256, 2, 1.25)),
                null, null, 1.5);
        var b = new BenchRecord("come4j-bench/1", "/m", 12, "come bench --model /m", new RunRecord.Backend("vector", "float32"),
                List.of("come"), List.of(0.2), List.of(new BenchRecord.Text("t.txt", 2, 128, 0.25)), List.of("arc_easy"), null,
                new BenchRecord.Shared(4.0, 1, 0.0, 1, 0, 2), List.of(base, cell), List.of(new BenchRecord.Failed("laco", 0.2, "no threshold")));
        String json = "{\"format\":\"come4j-bench/1\",\"model\":\"/m\",\"layers\":12,\"command\":\"come bench --model /m\","
                + "\"backend\":{\"name\":\"vector\",\"compute_dtype\":\"float32\"},\"methods\":[\"come\"],\"sparsities\":[0.2],"
                + "\"ppl\":[{\"label\":\"t.txt\",\"windows\":2,\"seq_len\":128,\"tokenize_seconds\":0.25}],\"tasks\":[\"arc_easy\"],"
                + "\"shared\":{\"first_pass_seconds\":4.0,\"first_pass_requests\":1,\"first_pass_seconds_saved\":0.0,\"cells_compressed\":1,"
                + "\"cells_reused\":0,\"evaluations\":2},\"cells\":["
                + "{\"method\":\"base\",\"sparsity\":0.0,\"target_layers\":12,\"layers\":12,\"parameters\":1000,\"achieved_sparsity\":0.0,"
                + "\"compress_seconds\":0.0,\"ppl\":{\"t.txt\":{\"ppl\":20.5,\"tokens\":256,\"windows\":2,\"seconds\":1.5}},"
                + "\"tasks\":{\"arc_easy\":{\"acc\":0.5,\"acc_stderr\":0.25,\"items\":4,\"seconds\":0.5}},\"eval_seconds\":2.0},"
                + "{\"method\":\"come\",\"sparsity\":0.2,\"target_layers\":10,\"layers\":10,\"parameters\":800,\"achieved_sparsity\":0.2,"
                + "\"compress_seconds\":3.5,\"ppl\":{\"t.txt\":{\"ppl\":30.25,\"tokens\":256,\"windows\":2,\"seconds\":1.25}},\"eval_seconds\":1.5}],"
                + "\"failed\":[{\"method\":\"laco\",\"sparsity\":0.2,\"error\":\"no threshold\"}]}";
        assertEquals(json, RecordJson.tree(b).toString());
        assertEquals(b, BenchRecord.of(JSON.readTree(json)));
    }
}
