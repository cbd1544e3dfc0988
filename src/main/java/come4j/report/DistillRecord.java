package come4j.report;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.RecordJson;
import java.util.List;

/**
 * A distillation's record (docs/come-merge-format.md): come-distill.json (format, command, settings, every trained
 * layer, the end-to-end stage when it ran) and come-merge.json's "distill" (settings and layers only).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DistillRecord(String format, String command, DistillSettings settings, List<Layer> layers, EndToEnd e2e) {
    /** The record {@code node} holds (come-distill.json, or come-merge.json's "distill"). */
    public static DistillRecord of(JsonNode node) {
        return RecordJson.read(node, DistillRecord.class);
    }

    /**
     * One run of the schedule: the first loss and the mean of the last tenth; with the automatic schedule the rate
     * chosen, each searched rate's held-out loss, the steps run, the best measurement and every measurement; the loss
     * per step.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Run(@JsonProperty("loss_first") double lossFirst, @JsonProperty("loss_last") double lossLast, Double lr,
                      @JsonProperty("lr_search") List<Double> lrSearch, @JsonProperty("steps_run") Integer stepsRun,
                      @JsonProperty("best_step") Integer bestStep, @JsonProperty("held_out_best") Double heldOutBest,
                      @JsonProperty("held_out") List<HeldOut> heldOut, List<Double> loss) {}

    /** A held-out measurement, written as [step, loss]. */
    @JsonFormat(shape = JsonFormat.Shape.ARRAY)
    @JsonPropertyOrder({"step", "loss"})
    public record HeldOut(int step, double loss) {}

    /** A trained layer: its index in the student, the original layers it replaced [first, last], and its run. */
    public record Layer(int layer, List<Integer> block, @JsonUnwrapped Run run) {
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        static Layer read(ObjectNode n) {
            return new Layer(n.path("layer").asInt(), List.of(RecordJson.read(n.path("block"), Integer[].class)), RecordJson.read(n, Run.class));
        }
    }

    /** The end-to-end stage: the merged layers trained together, their run, and the seconds the stage took. */
    public record EndToEnd(List<Integer> layers, @JsonUnwrapped Run run, double seconds) {
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        static EndToEnd read(ObjectNode n) {
            return new EndToEnd(List.of(RecordJson.read(n.path("layers"), Integer[].class)), RecordJson.read(n, Run.class),
                    n.path("seconds").asDouble());
        }
    }
}
