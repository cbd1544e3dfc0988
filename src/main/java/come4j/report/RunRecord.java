package come4j.report;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import come4j.io.RecordJson;
import java.util.List;
import java.util.Map;

/**
 * come-merge.json's common part (docs/come-merge-format.md), what every compression records before its method's own
 * fields: written by merge.MergeRecord, read back here by the report, the model card and the terminal summary. Jackson
 * writes the fields in this order and leaves an absent one out; reading ignores fields it does not know (older
 * records), which the report still lists under "Other recorded fields".
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record RunRecord(String format, String method, String command, Backend backend, Input input, Output output, RunSettings settings,
                        List<List<Integer>> tree) {

    /** What the products ran on, as --backend and --dtype resolved (statistics and merges are fp32 whatever it is). */
    public record Backend(String name, @JsonProperty("compute_dtype") String computeDtype) {}

    /** The input checkpoint; {@code tensors}: each tensor's name and the SHA-256 of its stored bytes, in file order. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Input(String dir, String architecture, int layers, String dtype, long parameters,
                        @JsonProperty("parameters_per_layer") long parametersPerLayer, Map<String, String> tensors) {}

    /** The output's layers and parameters, and the parameter sparsity they give. */
    public record Output(int layers, long parameters, double sparsity) {}

    /** The common part of {@code record} (a come-merge.json as read). */
    public static RunRecord of(JsonNode record) {
        return RecordJson.read(record, RunRecord.class);
    }
}
