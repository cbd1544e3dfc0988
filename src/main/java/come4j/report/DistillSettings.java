package come4j.report;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.RecordJson;
import java.util.List;

/**
 * come-distill.json's "settings" (docs/come-merge-format.md), also the "distill" settings of a compression that
 * distilled its merged layers: the schedule, the teacher and student (`come distill` only), the training settings, the
 * end-to-end stage's (when it ran), the training text, and the windows it gave. One flat object, as the format has
 * always had it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DistillSettings(String schedule, String teacher, String student, @JsonProperty("layers_trained") Integer layersTrained,
                              @JsonUnwrapped Training training, EndToEnd e2e, @JsonUnwrapped Data data, Integer windows,
                              @JsonProperty("windows_available") Long windowsAvailable,
                              @JsonProperty("held_out_windows") Integer heldOutWindows) {

    /**
     * These settings with the windows the text gave; {@code heldOut} takes the place of the schedule's own count when it
     * searches the rate (as it always has), else it follows the windows.
     */
    public DistillSettings withWindows(int windows, long available, Integer heldOut) {
        boolean searched = training != null && training.heldOutWindows() != null;
        return new DistillSettings(schedule, teacher, student, layersTrained, searched && heldOut != null ? training.withHeldOut(heldOut) : training,
                e2e, data, windows, available, searched ? null : heldOut);
    }

    /** The settings {@code settings} holds (a record without them reads as empty ones). */
    public static DistillSettings of(com.fasterxml.jackson.databind.JsonNode settings) {
        return read(settings instanceof ObjectNode o ? o : com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode());
    }

    /** Reads the flat object back: a held-out count goes with the training settings when they search the rate. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static DistillSettings read(ObjectNode n) {
        Training t = RecordJson.read(n, Training.class);
        boolean searched = n.has("lr_candidates");
        Integer heldOut = n.has("held_out_windows") ? n.get("held_out_windows").asInt() : null;
        return new DistillSettings(text(n, "schedule"), text(n, "teacher"), text(n, "student"),
                n.has("layers_trained") ? n.get("layers_trained").asInt() : null, searched ? t : t.withHeldOut(null),
                n.has("e2e") ? RecordJson.read(n.get("e2e"), EndToEnd.class) : null, RecordJson.read(n, Data.class),
                n.has("windows") ? n.get("windows").asInt() : null, n.has("windows_available") ? n.get("windows_available").asLong() : null,
                searched ? null : heldOut);
    }

    private static String text(ObjectNode n, String key) {
        return n.has(key) ? n.get(key).asText() : null;
    }

    /**
     * The layer-wise training: loss, steps, batch, the rate ({@code lr}: a number, or "auto" with the candidates, the
     * search's steps, the held-out windows, how often the held-out loss is measured and the patience), then AdamW's.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Training(String loss, double tau, int steps, int batch, Object lr, @JsonProperty("lr_candidates") List<Double> lrCandidates,
                           @JsonProperty("search_steps") Integer searchSteps, @JsonProperty("held_out_windows") Integer heldOutWindows,
                           @JsonProperty("eval_every") Integer evalEvery, Integer patience, int warmup,
                           @JsonProperty("min_lr_ratio") double minLrRatio, @JsonProperty("weight_decay") double weightDecay, double clip,
                           double beta1, double beta2, double eps) {
        /** Whether the rate is searched per layer ("auto"), with early stopping on held-out windows. */
        public boolean searched() {
            return "auto".equals(lr);
        }

        Training withHeldOut(Integer n) {
            return new Training(loss, tau, steps, batch, lr, lrCandidates, searchSteps, n, evalEvery, patience, warmup, minLrRatio,
                    weightDecay, clip, beta1, beta2, eps);
        }
    }

    /** The end-to-end stage (issue 17): its loss, budget, the rates searched, the search's steps, measurements, patience, warm-up. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record EndToEnd(String loss, int steps, @JsonProperty("lr_candidates") List<Double> lrCandidates,
                           @JsonProperty("search_steps") int searchSteps, @JsonProperty("eval_every") int evalEvery, int patience, int warmup) {}

    /** The training text: window length, seed, tokens each layer trains on, and the files with their hashes. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Data(@JsonProperty("seq_len") int seqLen, long seed, @JsonProperty("tokens_per_layer") long tokensPerLayer, List<HashedFile> data) {}

    /** LLM-Streamline's training of its replacement layer: the training settings, on the calibration windows. */
    public record Streamline(@JsonUnwrapped Training training, String data) {
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        static Streamline read(ObjectNode n) {
            return new Streamline(RecordJson.read(n, Training.class), n.path("data").asText());
        }
    }
}
