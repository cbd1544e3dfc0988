package come4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every report renders with no empty chart: each {@code <svg class="chart">} has data marks of non-zero size inside its
 * box, a title on both axes and several y ticks. Checked on the markup, so no browser is needed.
 */
class ReportChartsTest {
    private static final Pattern CHART = Pattern.compile("<svg [^>]*class=\"chart\"[^>]*viewBox=\"0 0 (\\d+) (\\d+)\"[^>]*>(.*?)</svg>", Pattern.DOTALL);
    private static final Pattern MARK = Pattern.compile("<(rect|circle|polygon) class=\"mark\"([^>]*)>");
    private static final Pattern TITLE = Pattern.compile("<text class=\"axis-title\"[^>]*>([^<]*)</text>");

    @Test
    void mergeReportChartsAreReadableAtBothBiScales() {
        for (double scale : new double[] {1, 1e6}) { // BI as per-token means (~1e-3..1) and as sums over tokens (~1e6)
            ObjectNode m = (ObjectNode) MergeReportTest.record();
            for (JsonNode s : m.get("steps")) {
                ArrayNode bi = ((ObjectNode) s).putArray("bi");
                for (int i = 0; i < s.path("layers_before").asInt(); i++) bi.add(scale * (i == 0 ? 0.88 : 0.01 + 0.003 * i));
            }
            String html = MergeReport.html(m);
            List<Chart> charts = charts(html);
            assertEquals(1 + 4 + 1 + 1, charts.size(), "BI, four SBI steps, NLL, candidates");
            charts.forEach(Chart::check);
            Chart bi = charts.getFirst();
            assertEquals(List.of("BI", "original layer"), bi.titles());
            assertTrue(html.contains("The y axis is logarithmic"), "BI spans 88x: log axis, said in the note");
            List<Double> heights = bi.heights();
            assertEquals(12, heights.size());
            double tallest = heights.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
            for (double h : heights) assertTrue(h > 0.1 * tallest, "every layer's bar visible next to layer 0's: " + heights);
            assertTrue(bi.ticks() >= 3, "several ticks");
        }
    }

    @Test
    void distillReportLeadsWithItsOwnSectionAndSettingsAsATable() {
        ObjectNode d = MergeReportTest.JSON.createObjectNode();
        d.put("format", "come4j-distill/1").put("command", "come distill --teacher /t --student /s --data /d.txt --out /o");
        ObjectNode st = d.putObject("settings");
        st.put("schedule", "sp").put("teacher", "/t").put("student", "/s").put("layers_trained", 2).put("loss", "kl_hidden")
                .put("tau", 1.0).put("steps", 30).put("batch", 2).put("lr", 1e-4).put("seq_len", 256).put("tokens_per_layer", 15360);
        st.putArray("data").addObject().put("file", "/d.txt").put("sha256", "cafe");
        ArrayNode layers = d.putArray("layers");
        for (int layer : new int[] {1, 4}) {
            ObjectNode l = layers.addObject().put("layer", layer);
            l.putArray("block").add(layer).add(layer + 1);
            ArrayNode loss = l.putArray("loss");
            for (int i = 0; i < 30; i++) loss.add(0.5 / (1 + i));
            l.put("loss_first", 0.5).put("loss_last", 0.02);
        }
        ObjectNode merge = (ObjectNode) MergeReportTest.record();
        merge.put("command", "come bench --model /m --out /b --methods come --sparsity 0.3");
        String html = MergeReport.html(merge, d);
        int own = html.indexOf("<h2>Hierarchical distillation</h2>"), student = html.indexOf("<h2>The student: come-p compression</h2>");
        assertTrue(own > 0 && student > own && own < html.indexOf("Block influence"), "the distillation leads the page");
        assertTrue(html.contains("<tr><th>peak learning rate</th><td>1e-4</td></tr>")
                && html.contains("<tr><th>training text</th><td>/d.txt <code>sha256 cafe</code></td></tr>"), html);
        assertFalse(html.contains("{\"") || html.contains("[{"), "no raw JSON");
        assertFalse(html.contains("come bench"), "the student's command is not repeated");
        assertTrue(html.contains("come distill --teacher /t"), "the distillation's own command");
        List<Chart> charts = charts(html);
        assertEquals(2 + 1 + 4 + 1 + 1, charts.size(), "two loss curves, then the student's BI, SBI, NLL, candidates");
        charts.forEach(Chart::check);
        assertEquals(List.of("kl_hidden loss", "training step"), charts.getFirst().titles());

        merge.set("distill", d); // the same distillation run by the compression (--method come-p+distill): after its report
        html = MergeReport.html(merge);
        assertTrue(html.contains("<h1>come4j: come-p compression + hierarchical distillation (schedule sp)</h1>")
                && html.indexOf("<h2>Hierarchical distillation (schedule sp)</h2>") > html.indexOf("<h2>Steps</h2>"), html);
        assertTrue(html.contains("come bench --model /m"), "the compression's own command");
        charts(html).forEach(Chart::check);
    }

    @Test
    void distillReportStatesTheAutomaticSchedulesSearchAndStoppingPoint() {
        ObjectNode d = MergeReportTest.JSON.createObjectNode();
        d.put("format", "come4j-distill/1").put("command", "come distill --teacher /t --student /s --data /d.txt --out /o");
        ObjectNode st = d.putObject("settings").put("schedule", "sp").put("loss", "mse").put("steps", 40).put("lr", "auto");
        st.putArray("lr_candidates").add(3e-4).add(1e-3).add(3e-3);
        st.put("search_steps", 4).put("held_out_windows", 64).put("eval_every", 2).put("patience", 3);
        ObjectNode l = d.putArray("layers").addObject().put("layer", 3);
        l.putArray("block").add(4).add(5);
        l.put("loss_first", 0.5).put("loss_last", 0.1).put("lr", 1e-3).put("steps_run", 30).put("best_step", 24).put("held_out_best", 0.125);
        l.putArray("lr_search").add(0.25).add(0.2).add(0.75);
        for (int i = 0; i < 30; i++) l.withArray("loss").add(0.5 / (1 + i));
        String html = MergeReport.html((ObjectNode) MergeReportTest.record(), d);
        assertTrue(html.contains("<tr><th>peak learning rate</th><td>auto</td></tr>")
                && html.contains("<tr><th>learning rates searched</th><td>3e-4, 0.001, 0.003</td></tr>"), html);
        assertTrue(html.contains("<th>held-out loss at lr 3e-4</th><th>held-out loss at lr 0.001</th><th>held-out loss at lr 0.003</th>")
                && html.contains("<tr><td>3</td><td class=\"n\">0.25</td><td class=\"n\">0.2</td><td class=\"n\">0.75</td><td class=\"n\">0.001</td>"
                + "<td class=\"n\">0.125</td><td class=\"n\">24</td><td class=\"n\">30</td></tr>"), html);
    }

    @Test
    void distillReportStatesTheEndToEndStage() {
        ObjectNode d = MergeReportTest.JSON.createObjectNode();
        d.put("format", "come4j-distill/1").put("command", "come distill --teacher /t --student /s --data /d.txt --out /o --steps 0 --e2e-steps 40");
        ObjectNode st = d.putObject("settings").put("schedule", "sp").put("loss", "mse").put("steps", 0).put("lr", "auto");
        ObjectNode es = st.putObject("e2e").put("loss", "kl_logits").put("steps", 40);
        es.putArray("lr_candidates").add(1e-4).add(3e-4).add(1e-3);
        es.put("search_steps", 4).put("eval_every", 2).put("patience", 3).put("warmup", 2);
        d.putArray("layers");
        ObjectNode e = d.putObject("e2e");
        e.putArray("layers").add(1).add(3);
        e.put("loss_first", 0.5).put("loss_last", 0.1).put("lr", 3e-4).put("steps_run", 30).put("best_step", 24).put("held_out_best", 0.125);
        e.putArray("lr_search").add(0.25).add(0.2).add(0.75);
        for (int i = 0; i <= 15; i++) e.withArray("held_out").addArray().add(2 * i).add(0.5 / (1 + i));
        for (int i = 0; i < 30; i++) e.withArray("loss").add(0.5 / (1 + i));
        e.put("seconds", 12.3);
        String html = MergeReport.html((ObjectNode) MergeReportTest.record(), d);
        assertTrue(html.contains("<h3>End-to-end stage: the merged layers 1, 3 together, KL to the teacher's logits</h3>")
                && html.contains("<th>held-out KL at lr 1e-4</th><th>held-out KL at lr 3e-4</th><th>held-out KL at lr 0.001</th>")
                && html.contains("<tr><td class=\"n\">0.25</td><td class=\"n\">0.2</td><td class=\"n\">0.75</td><td class=\"n\">3e-4</td>"
                + "<td class=\"n\">0.5</td><td class=\"n\">0.125</td><td class=\"n\">24</td><td class=\"n\">30 (40)</td><td class=\"n\">12</td></tr>"), html);
        assertFalse(html.contains("{\""), "the stage's settings are not shown as raw JSON");
        List<Chart> charts = charts(html);
        charts.forEach(Chart::check);
        assertTrue(charts.stream().anyMatch(c -> c.titles().equals(List.of("held-out KL", "training step")))
                && charts.stream().anyMatch(c -> c.titles().equals(List.of("training KL", "training step"))), "both curves");
    }

    @Test
    void benchReportHasAChartPerTextAndPerTaskMetricWithErrorBars() {
        ObjectNode b = BenchReportTest.bench();
        b.putArray("tasks").add("arc_easy");
        double acc = 0.70;
        for (JsonNode c : b.get("cells")) {
            ((ObjectNode) c).putObject("tasks").putObject("arc_easy").put("acc", acc).put("acc_stderr", 0.05).put("acc_norm", acc - 0.1)
                    .put("acc_norm_stderr", 0.05).put("items", 40);
            acc -= 0.05;
        }
        String html = BenchReport.html(b);
        List<Chart> charts = charts(html);
        assertEquals(3, charts.size(), "perplexity on the text, acc and acc_norm on the task");
        charts.forEach(Chart::check);
        assertEquals(List.of("perplexity", "sparsity requested"), charts.get(0).titles(), "82..87: a linear axis");
        assertEquals(List.of("acc_norm (%)", "sparsity requested"), charts.get(2).titles());
        assertTrue(charts.get(1).body().contains("<title>come, 0.10: 65 \u00b1 5</title>"), "the error bar's size in the tooltip");
        assertEquals(3 + 2, charts.get(1).body().split("<path d=\"M").length - 1, "an error bar per point: come 3, shortgpt 2");
        assertTrue(html.contains("<h2>acc on arc_easy (40 items)</h2>") && html.contains("<td>65.00% \u00b1 5.00</td>"), html);
        ((ObjectNode) b.get("cells").get(3).get("ppl").get("sotu/test.txt")).put("ppl", 840.0);
        assertEquals(List.of("perplexity (log scale)", "sparsity requested"), charts(BenchReport.html(b)).get(0).titles(), "82..840: log");
        assertTrue(BenchReport.markdown(b).contains("| method | sparsity | layers | parameter sparsity | PPL sotu/test.txt | arc_easy acc (40 items) |"));
    }

    record Chart(int w, int h, String body) {
        List<String> titles() {
            List<String> t = new ArrayList<>();
            for (Matcher m = TITLE.matcher(body); m.find(); ) t.add(m.group(1));
            return t;
        }

        int ticks() {
            return body.split("stroke=\"#eee\"").length - 1;
        }

        List<Double> heights() {
            List<Double> out = new ArrayList<>();
            for (Matcher m = MARK.matcher(body); m.find(); ) if (m.group(1).equals("rect")) out.add(attr(m.group(2), "height"));
            return out;
        }

        void check() {
            assertEquals(2, titles().size(), body);
            for (String t : titles()) assertFalse(t.isBlank(), "axis title");
            assertTrue(ticks() >= 3, "several y ticks: " + body);
            int marks = 0;
            for (Matcher m = MARK.matcher(body); m.find(); marks++) {
                String a = m.group(2);
                switch (m.group(1)) {
                    case "rect" -> {
                        double x = attr(a, "x"), y = attr(a, "y"), width = attr(a, "width"), height = attr(a, "height");
                        assertTrue(width > 0 && height > 0 && x >= 0 && y >= 0 && x + width <= w && y + height <= h, m.group());
                    }
                    case "circle" -> {
                        double cx = attr(a, "cx"), cy = attr(a, "cy");
                        assertTrue(attr(a, "r") > 0 && cx > 0 && cx < w && cy > 0 && cy < h, m.group());
                    }
                    default -> {
                        Matcher p = Pattern.compile("points=\"([^\"]+)\"").matcher(a);
                        assertTrue(p.find(), m.group());
                        double x0 = Double.MAX_VALUE, x1 = -Double.MAX_VALUE;
                        for (String pt : p.group(1).split(" ")) {
                            double x = Double.parseDouble(pt.split(",")[0]);
                            x0 = Math.min(x0, x);
                            x1 = Math.max(x1, x);
                        }
                        assertTrue(x1 > x0, m.group());
                    }
                }
            }
            assertTrue(marks > 0, "no data marks: " + body);
        }

        private static double attr(String attrs, String name) {
            Matcher m = Pattern.compile("\\b" + name + "=\"([-0-9.]+)\"").matcher(attrs);
            assertTrue(m.find(), name + " in " + attrs);
            return Double.parseDouble(m.group(1));
        }
    }

    static List<Chart> charts(String html) {
        List<Chart> out = new ArrayList<>();
        for (Matcher m = CHART.matcher(html); m.find(); )
            out.add(new Chart(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), m.group(3)));
        return out;
    }
}
