package come4j.eval;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import java.util.Map;

/**
 * One model's evaluation as `come eval --json` prints it: the perplexity by the paper protocol with its throughput, or
 * lm-eval's rolling one, at the top level; then the tasks by key. What was not evaluated is left out.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Scores(@JsonUnwrapped Perplexity.Result ppl, @JsonProperty("tokens_per_second") Double tokensPerSecond,
                     @JsonUnwrapped RollingPerplexity.Result rolling, Map<String, TaskScores> tasks) {

    /** The same scores with the tasks'. */
    public Scores withTasks(Map<String, TaskScores> t) {
        return new Scores(ppl, tokensPerSecond, rolling, t);
    }
}
