package come4j.report;

import static come4j.report.MergeReport.doubles;

import com.fasterxml.jackson.databind.JsonNode;
import come4j.io.RecordJson;
import java.util.ArrayList;
import java.util.List;

/**
 * LLM-Streamline: the span of layers replaced (the one whose input and output were the most similar, among every span
 * of its length), its training settings, and the training of the layer that replaced it.
 */
record StreamlineSection(JsonNode m) implements Section {
    @Override
    public List<String> shows() {
        List<String> shown = new ArrayList<>(List.of("span", "span_similarity", "settings.streamline_training", "replacement.layer",
                "replacement.block", "replacement.loss_first", "replacement.loss_last"));
        if (DistillReport.everyStep(m.path("replacement").path("loss"))) shown.add("replacement.loss");
        return shown;
    }

    @Override
    public void render(StringBuilder b) {
        int first = m.path("span").path(0).asInt(), last = m.path("span").path(1).asInt();
        DistillRecord.Layer r = RecordJson.read(m.path("replacement"), DistillRecord.Layer.class);
        b.append("<h2>LLM-Streamline span</h2>\n<p class=\"note\">Original layers ").append(first).append("&ndash;").append(last)
                .append(" were replaced by one layer (output layer ").append(r.layer()).append(", block [")
                .append(r.block().get(0)).append(',').append(r.block().get(1)).append(']').append("): of every span of ").append(last - first + 1)
                .append(" layers, the one whose input and output hidden states are the most similar (the mean cosine over the ")
                .append("calibration tokens; x = the span's first layer, the chosen one orange).</p>\n")
                .append(Svg.bars(doubles(m.path("span_similarity")), first, "cosine", "first layer of the span", 200)).append('\n')
                .append("<h3>Training of the replacement</h3>\n<table>\n");
        m.path("settings").path("streamline_training").properties().forEach(e ->
                b.append("<tr><th>").append(Html.escape(e.getKey())).append("</th><td>").append(Html.value(e.getValue())).append("</td></tr>\n"));
        b.append("<tr><th>loss: first step \u2192 mean of the last 10% of steps</th><td>").append(Html.num(r.run().lossFirst()))
                .append(" \u2192 ").append(Html.num(r.run().lossLast())).append("</td></tr>\n</table>\n")
                .append(DistillReport.curve(r.run().loss(), m.path("settings").path("streamline_training").path("loss").asText() + " loss"))
                .append('\n');
    }
}
