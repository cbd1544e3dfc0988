package come4j.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * report.html of a compression, built from come-merge.json alone: one self-contained page (inline CSS and SVG, no
 * script, nothing fetched) that opens offline in any browser. Deterministic: the same record gives the same bytes.
 */
public final class MergeReport {
    private MergeReport() {}

    public static void writeHtml(JsonNode m, Path file) throws IOException {
        Files.writeString(file, html(m), StandardCharsets.UTF_8);
    }

    static String html(JsonNode m) {
        StringBuilder b = new StringBuilder();
        JsonNode in = m.path("input"), out = m.path("output"), st = m.path("settings"), steps = m.path("steps");
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>come4j report</title><style>")
                .append("body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}table{border-collapse:collapse}")
                .append("td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}code{font-size:12px}")
                .append("h2{margin-top:1.6em;border-bottom:1px solid #ddd}</style></head><body>\n");
        b.append("<h1>come4j: ").append(Html.escape(m.path("method").asText())).append(" compression</h1>\n<table>");
        row(b, "input", in.path("dir").asText() + " (" + in.path("architecture").asText() + ", " + in.path("dtype").asText() + ")");
        row(b, "layers", in.path("layers").asInt() + " \u2192 " + out.path("layers").asInt());
        row(b, "parameters", String.format(Locale.ROOT, "%,d \u2192 %,d (sparsity %.2f%%)", in.path("parameters").asLong(),
                out.path("parameters").asLong(), 100 * out.path("sparsity").asDouble()));
        row(b, "calibration", String.format(Locale.ROOT, "%d windows x %d tokens (%d rows, seed %d)", st.path("windows").asInt(),
                st.path("seq_len").asInt(), st.path("rows").asInt(), st.path("seed").asLong()));
        if (m.has("calib_nll"))
            row(b, "calibration NLL", Html.num(m.path("calib_nll").path("before").asDouble()) + " \u2192 " + Html.num(m.path("calib_nll").path("after").asDouble()));
        if (m.has("removed")) row(b, "removed layers", m.get("removed").toString());
        row(b, "command", m.path("command").asText());
        b.append("</table>\n");

        if (!steps.isEmpty()) {
            b.append("<h2>Block influence per layer (before the first merge)</h2>\n")
                    .append(Svg.bars(doubles(steps.get(0).path("bi")), -1, "BI")).append('\n');
            b.append("<h2>SBI per candidate pair, step by step</h2><p>The merged pair is highlighted; x marks pairs excluded by the no-re-merge rule.</p>\n");
            for (JsonNode s : steps)
                b.append("<h3>step ").append(s.path("step").asInt()).append(": pair ").append(s.path("pair").get(0).asInt())
                        .append("+").append(s.path("pair").get(1).asInt()).append("</h3>\n")
                        .append(Svg.bars(doubles(s.path("sbi")), s.path("pair").get(0).asInt(), "SBI")).append('\n');
        }
        if (m.has("scores"))
            b.append("<h2>Layer scores (the lowest are removed)</h2>\n").append(Svg.bars(doubles(m.get("scores")), -1, "score")).append('\n');
        for (JsonNode round : m.path("rounds"))
            b.append("<h2>SLEB: calibration NLL without each remaining layer</h2>\n").append(Svg.bars(doubles(round), -1, "NLL")).append('\n');
        b.append("<h2>Merge tree</h2><p>Original layers (top) and the layers of the output (bottom).</p>\n").append(tree(m)).append('\n');

        List<Double> nll = new ArrayList<>();
        List<String> xs = new ArrayList<>();
        if (!steps.isEmpty()) {
            nll.add(steps.get(0).path("calib_nll_before").asDouble());
            xs.add("start");
        }
        for (JsonNode s : steps) {
            nll.add(s.path("calib_nll_after").asDouble());
            xs.add("step " + s.path("step").asInt());
        }
        if (!steps.isEmpty())
            b.append("<h2>Calibration NLL per step</h2>\n").append(Svg.lines(List.of(nll), List.of("mean token NLL"), xs, "NLL")).append('\n');
        for (JsonNode s : steps) {
            if (!s.has("candidates")) continue;
            List<Double> c = new ArrayList<>();
            List<String> r = new ArrayList<>();
            for (JsonNode k : s.get("candidates")) {
                c.add(k.path("nll").asDouble());
                r.add(Html.num(k.path("ratio").asDouble()));
            }
            b.append("<h3>CoMe-P candidates, step ").append(s.path("step").asInt()).append(" (r_a on the x axis)</h3>\n")
                    .append(Svg.lines(List.of(c), List.of("NLL"), r, "NLL")).append('\n');
        }

        if (steps.isEmpty()) return b.append("</body></html>\n").toString();
        b.append("<h2>Steps and kept units</h2>\n<table><tr><th>step</th><th>pair</th><th>original layers</th><th>ratio a/b</th>")
                .append("<th>fallback</th><th>kv head groups kept (a | b)</th><th>FFN channels kept (a | b)</th><th>NLL before \u2192 after</th></tr>\n");
        for (JsonNode s : steps) {
            b.append("<tr><td>").append(s.path("step").asInt()).append("</td><td>").append(s.path("pair").get(0).asInt()).append('+')
                    .append(s.path("pair").get(1).asInt()).append("</td><td>").append(Html.escape(s.path("original").toString()))
                    .append("</td><td>").append(Html.num(s.path("ratio").get(0).asDouble())).append(" / ")
                    .append(Html.num(s.path("ratio").get(1).asDouble())).append("</td><td>").append(s.path("fallback").asBoolean() ? "yes" : "no")
                    .append("</td><td>");
            if (s.has("heads")) {
                b.append(s.path("heads").path("a").size()).append(' ').append(Html.escape(s.path("heads").path("a").toString())).append(" | ")
                        .append(s.path("heads").path("b").size()).append(' ').append(Html.escape(s.path("heads").path("b").toString()));
                b.append("</td><td>").append(s.path("channels").path("a").size()).append(" | ").append(s.path("channels").path("b").size())
                        .append("<details><summary>indices</summary><code>a: ").append(Html.escape(s.path("channels").path("a").toString()))
                        .append("<br>b: ").append(Html.escape(s.path("channels").path("b").toString())).append("</code></details>");
            } else {
                b.append("(weighted sum)</td><td>(weighted sum)");
            }
            b.append("</td><td>").append(Html.num(s.path("calib_nll_before").asDouble())).append(" \u2192 ")
                    .append(Html.num(s.path("calib_nll_after").asDouble())).append("</td></tr>\n");
        }
        return b.append("</table>\n</body></html>\n").toString();
    }

    /** Original layers as boxes on top, output layers below, each spanning the originals it stands for. */
    static String tree(JsonNode m) {
        int L0 = m.path("input").path("layers").asInt();
        JsonNode tree = m.path("tree");
        double w = (Svg.W - 2.0 * Svg.PAD) / Math.max(1, L0);
        StringBuilder s = new StringBuilder(String.format("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d 130\" width=\"%d\" height=\"130\">", Svg.W, Svg.W));
        for (int i = 0; i < L0; i++) {
            s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"10\" width=\"%.1f\" height=\"28\" fill=\"#e7f5ff\" stroke=\"#4263eb\"/>", Svg.PAD + i * w + 2, w - 4));
            s.append(Svg.text(Svg.PAD + i * w + w / 2, 28, Integer.toString(i), "middle", "#333"));
        }
        for (int j = 0; j < tree.size(); j++) {
            JsonNode e = tree.get(j);
            int first = e.get(0).asInt(), last = e.get(e.size() - 1).asInt();
            boolean merged = e.size() > 1;
            double x0 = Svg.PAD + first * w + 2, x1 = Svg.PAD + (last + 1) * w - 2;
            for (JsonNode o : e)
                s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"38\" x2=\"%.1f\" y2=\"82\" stroke=\"#aaa\"/>", Svg.PAD + o.asInt() * w + w / 2, (x0 + x1) / 2));
            s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"82\" width=\"%.1f\" height=\"28\" fill=\"%s\" stroke=\"%s\"/>", x0, x1 - x0,
                    merged ? "#fff4e6" : "#ebfbee", merged ? "#d9480f" : "#2b8a3e"));
            s.append(Svg.text((x0 + x1) / 2, 100, Integer.toString(j), "middle", "#333"));
        }
        return s.append("</svg>").toString();
    }

    private static void row(StringBuilder b, String k, String v) {
        b.append("<tr><th>").append(Html.escape(k)).append("</th><td>").append(Html.escape(v)).append("</td></tr>");
    }

    private static List<Double> doubles(JsonNode a) {
        List<Double> out = new ArrayList<>();
        for (JsonNode v : a) out.add(v.isNull() ? null : v.asDouble());
        return out;
    }
}
