package come4j.report;

import static come4j.report.MergeReport.ranges;
import static come4j.report.Svg.f;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** LaCo's walk at the threshold found (every tried collapse with its similarity, kept or rejected) and its search. */
record LacoSection(JsonNode l) implements Section {
    @Override
    public List<String> shows() {
        return List.of("laco");
    }

    @Override
    public void render(StringBuilder b) {
        b.append("<h2>LaCo search</h2>\n<p class=\"note\">").append(f("T = %.6f, C = %d (requested %d), I = %d, L_low = %d; ",
                l.path("threshold").asDouble(), l.path("c").asInt(), l.path("c_requested").asInt(), l.path("i").asInt(), l.path("l_low").asInt()))
                .append(l.path("search").size()).append(" walks searched T so that the walk ends at the target. Similarity: ")
                .append(Html.escape(l.path("similarity").asText())).append(".</p>\n<table><tr><th>l</th><th>m</th><th>original layers</th>")
                .append("<th>cosine</th><th>decision</th></tr>\n");
        for (JsonNode t : l.path("tries"))
            b.append("<tr><td>").append(t.path("l").asInt()).append("</td><td>").append(t.path("m").asInt()).append("</td><td>")
                    .append(ranges(t.path("original"))).append("</td><td>").append(f("%.6f", t.path("cosine").asDouble())).append("</td><td>")
                    .append(t.path("kept").asBoolean() ? "kept (&gt; T)" : "rejected").append("</td></tr>\n");
        b.append("</table>\n");
        if (!l.path("search").isEmpty())
            b.append("<h3>The search: each walk's C, T and the layers it ends at</h3>\n").append(OtherFields.table(l.get("search")));
        if (!l.path("measured").isEmpty())
            b.append("<h3>Every collapse measured</h3>\n").append(OtherFields.table(l.get("measured")));
    }
}
