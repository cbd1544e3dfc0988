package come4j.report;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import come4j.eval.Perplexity;
import come4j.eval.TaskScores;
import come4j.io.RecordJson;
import java.util.List;
import java.util.Map;

/**
 * bench.json of `come bench`: the model, the command, what was evaluated (texts, tasks, the latency protocol), what the
 * run shared, and every cell with its results (a cell's results.json holds the same {@link Cell}). Written by
 * bench.Bench, read back here by {@link BenchReport}; a field this version does not know is ignored.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record BenchRecord(String format, String model, int layers, String command, RunRecord.Backend backend, List<String> methods,
                          List<Double> sparsities, List<Text> ppl, List<String> tasks, JsonNode latency, Shared shared, List<Cell> cells,
                          List<Failed> failed) {
    public static final String FORMAT = "come4j-bench/1";

    /** A perplexity text: its label, its windows and the time it took to tokenize once for the run. */
    public record Text(String label, int windows, @JsonProperty("seq_len") int seqLen, @JsonProperty("tokenize_seconds") double tokenizeSeconds) {}

    /**
     * What the run computed once for every cell: the first calibration pass (when one ran), and the cells compressed,
     * reused and the evaluations run.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Shared(@JsonProperty("first_pass_seconds") Double firstPassSeconds, @JsonProperty("first_pass_requests") Integer firstPassRequests,
                         @JsonProperty("first_pass_seconds_saved") Double firstPassSecondsSaved, @JsonProperty("cells_compressed") int cellsCompressed,
                         @JsonProperty("cells_reused") int cellsReused, int evaluations) {}

    /**
     * One method at one sparsity (the dense model: "base" at 0): its output's size, the compression's wall time, the
     * perplexity per text label, the timing (`come latency`'s phases and protocol), the scores per task, and the
     * evaluations' wall time.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Cell(String method, double sparsity, @JsonProperty("target_layers") int targetLayers, int layers, long parameters,
                       @JsonProperty("achieved_sparsity") double achievedSparsity, @JsonProperty("compress_seconds") double compressSeconds,
                       Map<String, Perplexity.Result> ppl, JsonNode latency, Map<String, TaskScores> tasks,
                       @JsonProperty("eval_seconds") Double evalSeconds) {}

    /** A cell whose method failed, and why. */
    public record Failed(String method, double sparsity, String error) {}

    /** The record {@code bench} holds (bench.json as read). */
    public static BenchRecord of(JsonNode bench) {
        return RecordJson.read(bench, BenchRecord.class);
    }
}
