package come4j.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.Locale;

/** The compact terminal table of a compression, from come-merge.json. */
public final class MergeSummary {
    private MergeSummary() {}

    public static void print(JsonNode m, PrintStream out) {
        out.printf("%-4s %-6s %-22s %-13s %-9s %-13s %s%n", "step", "pair", "original layers", "ratio a/b", "heads", "channels", "calibration NLL");
        for (JsonNode s : m.path("steps")) {
            JsonNode kept = s.path("kept");
            String heads = kept.isMissingNode() ? "sum" : kept.path("heads").get(0).asInt() + "+" + kept.path("heads").get(1).asInt();
            String ch = kept.isMissingNode() ? "sum" : kept.path("channels").get(0).asInt() + "+" + kept.path("channels").get(1).asInt();
            out.printf(Locale.ROOT, "%-4d %-6s %-22s %-13s %-9s %-13s %.4f -> %.4f%s%n", s.path("step").asInt(),
                    s.path("pair").get(0).asInt() + "+" + s.path("pair").get(1).asInt(),
                    s.path("original").get(0) + "+" + s.path("original").get(1),
                    String.format(Locale.ROOT, "%.3f/%.3f", s.path("ratio").get(0).asDouble(), s.path("ratio").get(1).asDouble()),
                    heads, ch, s.path("calib_nll_before").asDouble(), s.path("calib_nll_after").asDouble(),
                    s.path("fallback").asBoolean() ? "  (fallback: re-merge)" : "");
        }
        if (m.has("removed")) out.println("removed: " + m.get("removed"));
        out.println("tree: " + m.path("tree"));
    }
}
