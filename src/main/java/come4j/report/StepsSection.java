package come4j.report;

import static come4j.report.MergeReport.doubles;
import static come4j.report.MergeReport.finite;
import static come4j.report.MergeReport.ints;
import static come4j.report.MergeReport.nll;
import static come4j.report.MergeReport.originals;
import static come4j.report.MergeReport.ratio;
import static come4j.report.MergeReport.time;
import static come4j.report.Svg.f;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** The CoMe methods' steps: BI before the first merge, each step's SBI, the calibration NLL per step and the step table. */
record StepsSection(JsonNode steps) implements Section {
    @Override
    public List<String> shows() {
        return List.of("steps[0].bi", "steps[].step", "steps[].layers_before", "steps[].pair", "steps[].original", "steps[].sbi",
                "steps[].ratio", "steps[].fallback", "steps[].kept", "steps[].heads", "steps[].channels", "steps[].candidates",
                "steps[].calib_nll_before", "steps[].calib_nll_after", "steps[].seconds", "steps[].ls_correction.calib_mse_before",
                "steps[].ls_correction.calib_mse_after", "steps[].ls_correction.reverted", "steps[].ls_correction.projections",
                "steps[].ls_correction.seconds");
    }

    @Override
    public void render(StringBuilder b) {
        List<Double> bi = doubles(steps.get(0).path("bi"));
        b.append("<h2>Block influence per layer</h2>\n<p class=\"note\">BI (the mean over calibration tokens of 1 &minus; cos of each original layer's input and output) ")
                .append("measured before the first merge.").append(MergeReport.logNote(bi)).append("</p>\n")
                .append(Svg.bars(bi, -1, "BI", "original layer", 240)).append('\n');
        sbi(b, steps);
    }

    @Override
    public void renderBelowTree(StringBuilder b) {
        nllCharts(b, steps);
        table(b, steps);
    }

    /** One small chart per step: the SBI of each candidate pair (i, i+1) at x = i, the merged pair marked. */
    private static void sbi(StringBuilder b, JsonNode steps) {
        b.append("<h2>SBI per candidate pair</h2>\n<p class=\"note\">SBI = the mean angular distance between the input of layer i and the output ")
                .append("of layer i+1, over the last token of each window (CoMe) or all tokens (CoMe-P). At each step, bar i is the pair of current layers (i, i+1); ")
                .append("the merged pair is orange with a triangle under it; x marks a pair excluded by the no-re-merge rule.</p>\n");
        for (JsonNode s : steps) {
            int a = s.path("pair").path(0).asInt();
            b.append("<h3>step ").append(s.path("step").asInt()).append(": ").append(s.path("layers_before").asInt())
                    .append(" layers, merged ").append(a).append('+').append(a + 1).append(" (originals ").append(originals(s)).append(')')
                    .append(s.path("fallback").asBoolean() ? ", every pair excluded: fallback" : "").append("</h3>\n")
                    .append(Svg.bars(doubles(s.path("sbi")), a, "SBI", "pair (i, i+1) of current layers", 170)).append('\n');
        }
    }

    private static void nllCharts(StringBuilder b, JsonNode steps) {
        int n = steps.size();
        double[] x = new double[n + 1];
        List<Double> y = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        y.add(finite(steps.get(0).path("calib_nll_before")));
        labels.add("start");
        for (int i = 0; i < n; i++) {
            x[i + 1] = i + 1;
            y.add(finite(steps.get(i).path("calib_nll_after")));
            labels.add(steps.get(i).path("step").asText());
        }
        if (y.stream().allMatch(v -> v == null)) return; // no calibration: nothing to draw
        b.append("<h2>Calibration NLL per step</h2>\n<p class=\"note\">Mean token NLL on the calibration windows before the ")
                .append("first merge, then after each step.</p>\n").append(Svg.line(x, y, labels, -1, "calibration NLL", "step", 220)).append('\n');
        for (JsonNode s : steps) {
            JsonNode c = s.path("candidates");
            if (c.isEmpty()) continue;
            double[] r = new double[c.size()];
            List<Double> v = new ArrayList<>();
            List<String> l = new ArrayList<>();
            int chosen = -1;
            for (int i = 0; i < c.size(); i++) {
                r[i] = c.get(i).path("ratio").asDouble();
                v.add(finite(c.get(i).path("nll")));
                l.add(ratio(c.get(i).path("ratio")));
                if (r[i] == s.path("ratio").path(0).asDouble()) chosen = i;
            }
            b.append("<h2>CoMe-P candidates, step ").append(s.path("step").asInt()).append("</h2>\n<p class=\"note\">Calibration NLL ")
                    .append("of each candidate ratio r_a (x); the chosen one is orange.</p>\n")
                    .append(Svg.line(r, v, l, chosen, "calibration NLL", "ratio r_a", 200)).append('\n');
        }
    }

    private static void table(StringBuilder b, JsonNode steps) {
        boolean timed = false, corrected = false;
        for (JsonNode s : steps) {
            timed |= s.has("seconds");
            corrected |= s.has("ls_correction");
        }
        b.append("<h2>Steps</h2>\n<table><tr><th>step</th><th>pair</th><th>original layers</th><th>ratio a / b</th><th>fallback</th>")
                .append("<th>kv head groups kept: a | b</th><th>FFN channels kept: a | b</th><th>calibration NLL</th>")
                .append(corrected ? "<th>least-squares correction: layer MSE on the calibration windows (held-out: per projection, \u03b1)</th>" : "")
                .append(timed ? "<th>seconds</th>" : "").append("</tr>\n");
        for (JsonNode s : steps) {
            int a = s.path("pair").path(0).asInt();
            b.append("<tr><td>").append(s.path("step").asInt()).append("</td><td>").append(a).append('+').append(a + 1)
                    .append("</td><td>").append(originals(s)).append("</td><td>").append(ratio(s.path("ratio").path(0))).append(" / ")
                    .append(ratio(s.path("ratio").path(1))).append("</td><td>").append(s.path("fallback").asBoolean() ? "yes" : "no").append("</td><td>");
            if (s.has("heads")) {
                JsonNode h = s.get("heads"), ch = s.get("channels");
                b.append(h.path("a").size()).append(' ').append(ints(h.path("a"))).append(" | ").append(h.path("b").size()).append(' ')
                        .append(ints(h.path("b"))).append("</td><td>").append(f("%,d | %,d", ch.path("a").size(), ch.path("b").size()))
                        .append("<details><summary>indices</summary><code>a: ").append(ints(ch.path("a"))).append("<br>b: ")
                        .append(ints(ch.path("b"))).append("</code></details>");
            } else {
                b.append("all (weighted sum)</td><td>all (weighted sum)");
            }
            b.append("</td><td>").append(nll(s.path("calib_nll_before"))).append(" \u2192 ").append(nll(s.path("calib_nll_after")));
            if (corrected) b.append("</td><td>").append(correction(s.path("ls_correction")));
            if (timed) b.append("</td><td class=\"n\">").append(s.has("seconds") ? time(s.get("seconds").asDouble()) : "\u2013");
            b.append("</td></tr>\n");
        }
        b.append("</table>\n");
    }

    /** A step's least-squares correction: the layer's error before and after, then each projection's held-out fit. */
    private static String correction(JsonNode ls) {
        if (ls.isMissingNode()) return "\u2013";
        StringBuilder b = new StringBuilder(f("%.4g \u2192 %.4g", ls.path("calib_mse_before").asDouble(), ls.path("calib_mse_after").asDouble()));
        if (ls.path("reverted").asBoolean()) b.append(" (worse: not applied)");
        for (JsonNode p : ls.path("projections")) {
            b.append("<br>").append(Html.escape(p.path("name").asText())).append(": ")
                    .append(f("%.4g \u2192 %.4g", p.path("held_out_mse_before").asDouble(), p.path("held_out_mse_after").asDouble()))
                    .append(p.path("alpha").isNull() ? ", kept" : ", \u03b1 = " + p.path("alpha").asText());
        }
        if (ls.has("seconds")) b.append("<br>").append(time(ls.get("seconds").asDouble()));
        return b.toString();
    }
}
