package come4j.merge;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.RecordJson;
import come4j.report.DistillRecord;
import java.util.List;

/**
 * A method's own fields of come-merge.json (docs/come-merge-format.md): one record class per kind, which Jackson
 * writes as the fields the format documents, in this order, an optional one left out when absent. report.html has a
 * section per kind (report.Section) and lists any field a section does not show.
 */
public sealed interface MethodRecord permits MethodRecord.Steps, MethodRecord.Removal, MethodRecord.LacoSearch, MethodRecord.MkaMerges,
        MethodRecord.StreamlineSpan {
    /** The top-level fields this record adds to come-merge.json. */
    default ObjectNode json() {
        return RecordJson.tree(this);
    }

    /** CoMe's methods: every step, and the calibration NLL before the first and after the last. */
    record Steps(List<MergeStep> steps, @JsonProperty("calib_nll") Nll calibNll) implements MethodRecord {}

    /** A mean token NLL on the calibration windows. */
    record Nll(double before, double after) {}

    /** A removal baseline: which original layers went, and the scores (one pass) or the SLEB rounds that chose them. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Removal(int[] removed, double[] scores, @JsonInclude(JsonInclude.Include.NON_EMPTY) List<double[]> rounds) implements MethodRecord {}

    /** LaCo: the threshold found, the walk at it, every walk of the search and every collapse measured. */
    record LacoSearch(Laco laco) implements MethodRecord {
        record Laco(double threshold, int c, @JsonProperty("c_requested") int cRequested, int i, @JsonProperty("l_low") int lLow,
                    String similarity, List<come4j.merge.Laco.Try> tries, List<Walk> search, List<Measured> measured) {}

        /** A walk of the search: its C, its threshold and the layer count it ends at. */
        record Walk(int c, double threshold, int layers) {}

        /** A collapse (as the state it was tried in) and its cosine. */
        record Measured(String collapse, double cosine) {}
    }

    /** MKA: the similarity S of the original layers, and every merge with its weights. */
    record MkaMerges(Mka mka) implements MethodRecord {
        record Mka(double[][] similarity, List<Merge> merges) {}

        /** Current layers i and i + 1 merged: the originals of each, their mean similarities, and i's weight α. */
        record Merge(int[] pair, List<List<Integer>> original, @JsonProperty("s_i") double si, @JsonProperty("s_j") double sj, double alpha) {}
    }

    /** LLM-Streamline: the span of original layers replaced, the similarity of every span, and the trained layer. */
    record StreamlineSpan(int[] span, @JsonProperty("span_similarity") double[] spanSimilarity, DistillRecord.Layer replacement) implements MethodRecord {}
}
