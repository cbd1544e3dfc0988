package come4j.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The distillation part of report.html: settings and the loss curve of every trained layer, after the compression's
 * report (come distill, schedule sp; come compress --distill-each, schedule mp).
 */
public final class DistillReport {
    private static final int POINTS = 100; // a curve is drawn through at most this many step means

    private DistillReport() {}

    /** The compression's report with the distillation's section (come-distill.json) added. */
    public static void writeHtml(JsonNode merge, JsonNode distill, Path file) throws IOException {
        com.fasterxml.jackson.databind.node.ObjectNode m = merge.deepCopy();
        m.set("distill", distill);
        MergeReport.writeHtml(m, file);
    }

    static String section(JsonNode d) {
        StringBuilder b = new StringBuilder("<h2>Hierarchical distillation</h2>\n<table>\n");
        d.path("settings").properties().forEach(e -> b.append("<tr><th>").append(Html.escape(e.getKey())).append("</th><td>")
                .append(Html.escape(e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString())).append("</td></tr>\n"));
        b.append("</table>\n<p class=\"note\">Each merged layer is trained, teacher-forced, to map the teacher's hidden state ")
                .append("entering its block of original layers to the state leaving it. x = training step; y = loss (mean over ")
                .append("the steps of each point).</p>\n");
        for (JsonNode layer : d.path("layers")) {
            JsonNode block = layer.path("block");
            b.append("<h3>layer ").append(layer.path("layer").asInt()).append(" (original layers ").append(block.get(0).asInt())
                    .append("&ndash;").append(block.get(1).asInt()).append(")</h3>\n");
            b.append(curve(layer.path("loss"), d.path("settings").path("loss").asText())).append('\n');
        }
        return b.toString();
    }

    private static String curve(JsonNode loss, String label) {
        int n = loss.size(), per = Math.max(1, (n + POINTS - 1) / POINTS), points = (n + per - 1) / per;
        double[] x = new double[points];
        List<Double> y = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int p = 0; p < points; p++) {
            double sum = 0;
            int from = p * per, to = Math.min(n, from + per);
            for (int i = from; i < to; i++) sum += loss.get(i).asDouble();
            x[p] = to;
            y.add(sum / (to - from));
            labels.add(Integer.toString(to));
        }
        return Svg.line(x, y, labels, -1, label, 180);
    }
}
