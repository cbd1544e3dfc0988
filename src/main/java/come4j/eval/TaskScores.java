package come4j.eval;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A task's scores as `come eval --json` prints them and a bench cell's results.json stores them: acc and acc_norm
 * (absent for tasks without it) with their standard errors, items, seconds, MMLU's subjects ({@code groups}, absent
 * elsewhere) and, with --log-samples, every document's log-likelihoods.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record TaskScores(double acc, @JsonProperty("acc_stderr") double accStderr, @JsonProperty("acc_norm") Double accNorm,
                         @JsonProperty("acc_norm_stderr") Double accNormStderr, int items, double seconds, Map<String, Group> groups,
                         List<Sample> samples) {

    /** A group's (MMLU subject's) accuracy and its standard error. */
    public record Group(double acc, @JsonProperty("acc_stderr") double accStderr) {}

    /** A document: gold and predicted choices, and each choice's log-likelihood and whether it is the greedy continuation. */
    public record Sample(int gold, int pred, @JsonProperty("pred_norm") int predNorm, List<Double> loglikelihoods,
                         @JsonProperty("is_greedy") List<Boolean> isGreedy) {}

    /** The scores of {@code r}; {@code samples}: with its documents. */
    public static TaskScores of(TaskResult r, boolean samples) {
        Map<String, Group> groups = null;
        if (!r.groups().isEmpty()) {
            groups = new LinkedHashMap<>();
            for (var e : r.groups().entrySet()) groups.put(e.getKey(), new Group(e.getValue().value(), e.getValue().stderr()));
        }
        List<Sample> docs = null;
        if (samples) {
            docs = new ArrayList<>();
            for (TaskResult.Sample s : r.samples())
                docs.add(new Sample(s.gold(), s.pred(), s.predNorm(), s.scored().stream().map(LogLikelihood.Scored::ll).toList(),
                        s.scored().stream().map(LogLikelihood.Scored::greedy).toList()));
        }
        return new TaskScores(r.acc().value(), r.acc().stderr(), r.accNorm() == null ? null : r.accNorm().value(),
                r.accNorm() == null ? null : r.accNorm().stderr(), r.items(), r.seconds(), groups, docs);
    }

    /** The scores of several tasks by key, in the order run. */
    public static Map<String, TaskScores> of(List<TaskResult> results, boolean samples) {
        Map<String, TaskScores> out = new LinkedHashMap<>();
        for (TaskResult r : results) out.put(r.task().key, of(r, samples));
        return out;
    }
}
