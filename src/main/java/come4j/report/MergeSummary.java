package come4j.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.RecordJson;
import java.nio.file.Path;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The compact terminal table of a compression, from come-merge.json: one line per step, then the tree and the NLL. */
public final class MergeSummary {
    private static final String[] HEAD = {"step", "pair", "original layers", "ratio a/b", "heads a+b", "channels a+b", "calibration NLL"};

    private MergeSummary() {}

    public static void print(JsonNode merge, PrintStream out) {
        List<String[]> rows = new ArrayList<>();
        rows.add(HEAD);
        for (JsonNode s : merge.path("steps")) {
            int a = s.path("pair").path(0).asInt();
            JsonNode kept = s.path("kept");
            rows.add(new String[] {s.path("step").asText(), a + "+" + (a + 1), MergeReport.originals(s),
                    MergeReport.ratio(s.path("ratio").path(0)) + "/" + MergeReport.ratio(s.path("ratio").path(1)),
                    kept.isMissingNode() ? "all" : kept.path("heads").path(0).asInt() + "+" + kept.path("heads").path(1).asInt(),
                    kept.isMissingNode() ? "all" : kept.path("channels").path(0).asInt() + "+" + kept.path("channels").path(1).asInt(),
                    MergeReport.nll(s.path("calib_nll_before")) + " -> " + MergeReport.nll(s.path("calib_nll_after"))
                            + (s.path("fallback").asBoolean() ? "  (fallback: every pair excluded)" : "")});
        }
        if (rows.size() > 1) table(rows, out); // removal baselines have no steps
        if (merge.has("removed")) out.println("removed: " + merge.get("removed"));
        JsonNode laco = merge.path("laco");
        if (!laco.isMissingNode())
            out.printf(Locale.ROOT, "LaCo: T = %.6f, C = %d, I = %d, L_low = %d, %d tries%n", laco.path("threshold").asDouble(),
                    laco.path("c").asInt(), laco.path("i").asInt(), laco.path("l_low").asInt(), laco.path("tries").size());
        for (JsonNode x : merge.path("mka").path("merges"))
            out.printf(Locale.ROOT, "MKA: merged %s, alpha %s%n", MergeReport.originals(x), MergeReport.ratio(x.path("alpha")));
        List<String> tree = new ArrayList<>();
        for (JsonNode e : merge.path("tree")) tree.add(MergeReport.ranges(e));
        out.println("tree (" + tree.size() + " layers): " + String.join(" ", tree));
        JsonNode nll = MergeReport.calibNll(merge);
        if (nll != null) out.println("calibration NLL: " + MergeReport.nll(nll.path("before")) + " -> " + MergeReport.nll(nll.path("after")));
    }

    /**
     * The summary as one JSON object (`come compress --json`): the output, the method, layers and parameters before
     * and after, the requested and achieved sparsity, the merge tree, the removed layers and the calibration NLL.
     */
    public static ObjectNode json(JsonNode merge, Path out, double seconds) {
        RunRecord r = RunRecord.of(merge);
        return RecordJson.tree(new Json(out.toAbsolutePath().toString(), r.method(), r.input().layers(), r.output().layers(),
                r.settings().sparsity(), r.output().sparsity(), r.input().parameters(), r.output().parameters(), r.tree(), merge.get("removed"),
                MergeReport.calibNll(merge), seconds));
    }

    /** `come compress --json`: every field written, a null where the run has none (no sparsity asked, no calibration), but {@code removed}. */
    private record Json(String out, String method, @JsonProperty("layers_before") int layersBefore, @JsonProperty("layers_after") int layersAfter,
                        @JsonProperty("target_sparsity") Double targetSparsity, double sparsity, @JsonProperty("parameters_before") long parametersBefore,
                        @JsonProperty("parameters_after") long parametersAfter, List<List<Integer>> tree,
                        @JsonInclude(JsonInclude.Include.NON_NULL) JsonNode removed, @JsonProperty("calib_nll") JsonNode calibNll, double seconds) {}

    /** Columns as wide as their widest cell; the last column is not padded (it carries the fallback note). */
    private static void table(List<String[]> rows, PrintStream out) {
        int[] w = new int[HEAD.length];
        for (String[] r : rows) for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], r[i].length());
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < w.length - 1; i++) line.append(r[i]).append(" ".repeat(w[i] - r[i].length() + 2));
            out.println(line.append(r[w.length - 1]));
        }
    }
}
