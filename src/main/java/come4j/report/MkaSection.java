package come4j.report;

import static come4j.report.MergeReport.num;
import static come4j.report.MergeReport.originals;
import static come4j.report.MergeReport.ratio;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** MKA: each original layer's mean similarity (what its merge weight comes from), S itself, and every merge with its α. */
record MkaSection(JsonNode k) implements Section {
    @Override
    public List<String> shows() {
        return List.of("mka");
    }

    @Override
    public void render(StringBuilder b) {
        List<Double> means = new ArrayList<>();
        for (JsonNode row : k.path("similarity")) {
            double s = 0;
            for (JsonNode v : row) s += v.asDouble();
            means.add(s / row.size());
        }
        b.append("<h2>MKA similarity</h2>\n<p class=\"note\">Mean NPIB similarity of each original layer to all layers (x = layer).</p>\n")
                .append(Svg.bars(means, -1, "mean S", "original layer", 200)).append("\n<details><summary>S: one row per original layer</summary>")
                .append("<table>\n");
        int i = 0;
        for (JsonNode row : k.path("similarity")) {
            b.append("<tr><th>").append(i++).append("</th>");
            for (JsonNode v : row) b.append("<td class=\"n\">").append(num(v)).append("</td>");
            b.append("</tr>\n");
        }
        b.append("</table></details>\n<table><tr><th>pair</th><th>original layers</th><th>s_i</th><th>s_j</th><th>\u03b1_i</th></tr>\n");
        for (JsonNode x : k.path("merges"))
            b.append("<tr><td>").append(x.path("pair").path(0).asInt()).append('+').append(x.path("pair").path(1).asInt()).append("</td><td>")
                    .append(originals(x)).append("</td><td>").append(num(x.path("s_i"))).append("</td><td>").append(num(x.path("s_j")))
                    .append("</td><td>").append(ratio(x.path("alpha"))).append("</td></tr>\n");
        b.append("</table>\n");
    }
}
