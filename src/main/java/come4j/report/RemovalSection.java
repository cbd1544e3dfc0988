package come4j.report;

import static come4j.report.MergeReport.doubles;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** What the removal baselines record instead of steps: the layers removed, the layer scores (one pass) or the SLEB rounds. */
record RemovalSection(JsonNode m) implements Section {
    @Override
    public List<String> shows() {
        return List.of("removed", "scores", "rounds");
    }

    @Override
    public void render(StringBuilder b) {
        String removed = Html.escape(m.path("removed").toString());
        if (m.has("scores"))
            b.append("<h2>Layer scores</h2>\n<p class=\"note\">The lowest-scoring layers were removed: ").append(removed).append(".</p>\n")
                    .append(Svg.bars(doubles(m.get("scores")), -1, "score", "original layer", 220)).append('\n');
        else
            b.append("<h2>Removed layers</h2>\n<p class=\"note\">").append(removed).append(", chosen round by round below.</p>\n");
        int round = 0;
        for (JsonNode r : m.path("rounds"))
            b.append("<h3>SLEB round ").append(++round).append(": calibration NLL without each remaining layer</h3>\n")
                    .append(Svg.bars(doubles(r), -1, "calibration NLL", "remaining layer", 170)).append('\n');
    }
}
