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
 * come-merge.json's "settings" (docs/come-merge-format.md): the target, then the calibration (absent for a method that
 * reads no text), then the method's own settings, all in one flat object as the format has always had them.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunSettings(@JsonProperty("target_layers") int targetLayers, Double sparsity, @JsonUnwrapped Calibration calibration,
                          @JsonUnwrapped MethodSettings method) {

    /** These settings with the method's own. */
    public RunSettings with(MethodSettings m) {
        return new RunSettings(targetLayers, sparsity, calibration, m);
    }

    /**
     * Reads the flat object back: the calibration when it has windows, the method's settings by the fields only that
     * kind writes (older records lack some, which read as null).
     */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static RunSettings read(ObjectNode n) {
        Calibration cal = n.has("windows") ? RecordJson.read(n, Calibration.class) : null;
        MethodSettings m = n.has("sbi_tokens") || n.has("granularity") ? RecordJson.read(n, MethodSettings.Progressive.class)
                : n.has("streamline_training") ? RecordJson.read(n, MethodSettings.Streamline.class) : new MethodSettings.None();
        return new RunSettings(n.path("target_layers").asInt(), n.has("sparsity") ? n.get("sparsity").asDouble() : null, cal, m);
    }

    /**
     * The calibration set: the files with their hashes, the rows drawn, the windows and tokens; then the row recipe
     * (the authors' exact one, or the row cut and token limit) and the record field read from .jsonl/.json/.parquet.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Calibration(List<HashedFile> calib, @JsonProperty("calib_samples") Integer samples, Integer rows,
                              @JsonProperty("seq_len") Integer seqLen, Long seed, Integer batch, Integer windows, Long tokens,
                              @JsonProperty("calib_recipe") String recipe, @JsonProperty("calib_max_len") Integer maxLen,
                              @JsonProperty("calib_tokens") Long tokenLimit, @JsonProperty("rows_cut") Integer rowsCut,
                              @JsonProperty("calib_field") String field) {}

    /** A method's own settings: one kind per family of methods that has any. */
    public sealed interface MethodSettings {
        /** The settings of a method that has none of its own. */
        MethodSettings NONE = new None();

        /**
         * CoMe's methods: the query-head tiling, CoMe-P's ratio grid, the tokens SBI is taken over, what a step does when
         * every pair is excluded; CoMe-LS's correction settings.
         */
        @JsonInclude(JsonInclude.Include.NON_NULL)
        @JsonIgnoreProperties(ignoreUnknown = true)
        record Progressive(@JsonProperty("official_gqa_tiling") Boolean officialGqaTiling, Integer granularity,
                           @JsonProperty("sbi_tokens") String sbiTokens, @JsonProperty("remerge_fallback") String remergeFallback,
                           @JsonProperty("ls_correction") LsCorrection lsCorrection) implements MethodSettings {}

        /** CoMe-LS: which windows are held out, how many pairs are tried per step, the ridge strengths searched. */
        @JsonIgnoreProperties(ignoreUnknown = true)
        record LsCorrection(@JsonProperty("held_out") String heldOut, @JsonProperty("pair_candidates") int pairCandidates,
                            @JsonProperty("alpha_grid") List<Double> alphaGrid) {}

        /** LLM-Streamline: the replacement layer's training settings (come-distill.json's form). */
        @JsonIgnoreProperties(ignoreUnknown = true)
        record Streamline(@JsonProperty("streamline_training") DistillSettings.Streamline training) implements MethodSettings {}

        /** A method with no settings of its own (the removal baselines, LaCo's and MKA's are in their records). */
        record None() implements MethodSettings {}
    }
}
