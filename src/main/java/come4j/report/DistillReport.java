package come4j.report;

import static come4j.report.Svg.f;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The distillation part of report.html: settings, the losses and the loss curve of every trained layer. A `come distill`
 * run leads its page with it, the student's compression after; a compression that distils (`--distill-each`, schedule
 * mp, or `--method NAME+distill`, schedule sp) has it after its own report.
 */
public final class DistillReport {
    private static final int POINTS = 100; // a curve is drawn through at most this many step means
    /** Settings rows in this order, with the words a reader knows; other keys follow under their own names. */
    private static final Map<String, String> LABELS = linked("schedule", "schedule", "teacher", "teacher", "student", "student",
            "layers_trained", "layers trained", "loss", "loss", "tau", "temperature \u03c4", "steps", "steps per layer",
            "batch", "windows per step", "seq_len", "window length (tokens)", "tokens_per_layer", "training tokens per layer",
            "windows", "distinct windows", "windows_available", "windows available", "seed", "seed", "lr", "peak learning rate",
            "lr_candidates", "learning rates searched", "search_steps", "steps per searched rate", "held_out_windows", "held-out windows",
            "eval_every", "steps between held-out measurements", "patience", "measurements without a new best before stopping",
            "warmup", "warm-up steps", "min_lr_ratio", "final / peak learning rate", "weight_decay", "weight decay", "clip",
            "gradient clipping", "beta1", "AdamW \u03b21", "beta2", "AdamW \u03b22", "eps", "AdamW \u03b5");

    private DistillReport() {}

    /** The distillation's report: its own section first, then the student's compression (come-distill.json added). */
    public static void writeHtml(JsonNode merge, JsonNode distill, Path file) throws IOException {
        Files.writeString(file, MergeReport.html(merge, distill), StandardCharsets.UTF_8);
    }

    /** The section; {@code own}: a run of its own (its command shown, headed as the page's subject). */
    static String section(JsonNode d, boolean own) {
        DistillRecord r = DistillRecord.of(d);
        DistillSettings st = r.settings();
        StringBuilder b = new StringBuilder("<h2>Hierarchical distillation").append(own ? "" : " (schedule " + Html.escape(st.schedule()) + ")")
                .append("</h2>\n<table>\n");
        if (own) b.append("<tr><th>command</th><td><code>").append(Html.escape(r.command())).append("</code></td></tr>\n");
        settings(b, d.path("settings"));
        b.append("</table>\n<h3>Loss per trained layer</h3>\n<table><tr><th>layer</th><th>original layers</th><th>first step</th>")
                .append("<th>last 10% of steps (mean)</th><th>change</th></tr>\n");
        for (DistillRecord.Layer l : r.layers()) {
            double first = l.run().lossFirst(), last = l.run().lossLast();
            b.append("<tr><td>").append(l.layer()).append("</td><td>").append(block(l)).append("</td><td class=\"n\">")
                    .append(Html.num(first)).append("</td><td class=\"n\">").append(Html.num(last)).append("</td><td class=\"n\">")
                    .append(first > 0 ? f("%+.2f%%", 100 * (last / first - 1)) : "\u2013").append("</td></tr>\n");
        }
        b.append("</table>\n");
        search(b, r.layers(), st.training().lrCandidates());
        b.append("<p class=\"note\">Each merged layer is trained, teacher-forced, to map the teacher's hidden state ")
                .append("entering its block of original layers to the state leaving it. Each point is the mean loss of the steps up to it.</p>\n");
        String loss = st.training().loss();
        for (DistillRecord.Layer layer : r.layers())
            b.append("<h3>layer ").append(layer.layer()).append(" (original layers ").append(block(layer)).append(")</h3>\n")
                    .append(curve(layer.run().loss(), loss + " loss")).append('\n');
        if (r.e2e() != null) endToEnd(b, r.e2e(), st.e2e());
        return b.toString();
    }

    /**
     * The end-to-end stage (issue 17), when the run had one: the held-out KL each searched rate reached, the rate
     * chosen, the held-out KL before and at its best, where training stopped, and its curves.
     */
    private static void endToEnd(StringBuilder b, DistillRecord.EndToEnd stage, DistillSettings.EndToEnd st) {
        DistillRecord.Run e = stage.run();
        b.append("<h3>End-to-end stage: the merged layers ").append(Html.escape(String.join(", ", stage.layers().stream().map(String::valueOf).toList())))
                .append(" together, KL to the teacher's logits</h3>\n<table><tr>");
        for (double r : st.lrCandidates()) b.append("<th>held-out KL at lr ").append(Html.num(r)).append("</th>");
        b.append("<th>lr chosen</th><th>held-out KL at the start</th><th>best held-out KL</th><th>at step</th><th>steps run (budget)</th><th>seconds</th></tr>\n<tr>");
        for (double h : e.lrSearch()) b.append("<td class=\"n\">").append(Html.num(h)).append("</td>");
        b.append("<td class=\"n\">").append(Html.num(e.lr())).append("</td><td class=\"n\">")
                .append(Html.num(e.heldOut().getFirst().loss())).append("</td><td class=\"n\">")
                .append(Html.num(e.heldOutBest())).append("</td><td class=\"n\">").append(e.bestStep())
                .append("</td><td class=\"n\">").append(e.stepsRun()).append(" (").append(st.steps())
                .append(")</td><td class=\"n\">").append(f("%.0f", stage.seconds())).append("</td></tr>\n</table>\n")
                .append("<p class=\"note\">After the layer-wise stage, all merged layers train at once on the mean over tokens of KL(teacher ")
                .append("softmax \u2016 student softmax) over the vocabulary; everything else stays frozen. Each rate trains ")
                .append(st.searchSteps()).append(" steps from the start; the chosen rate then trains, its held-out KL measured every ")
                .append(st.evalEvery()).append(" steps, and the weights of the best measurement are kept.</p>\n");
        List<DistillRecord.HeldOut> held = e.heldOut();
        double[] x = new double[held.size()];
        List<Double> y = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < held.size(); i++) {
            x[i] = held.get(i).step();
            y.add(held.get(i).loss());
            labels.add(Integer.toString(held.get(i).step()));
        }
        b.append(Svg.line(x, y, labels, -1, "held-out KL", "training step", 200)).append('\n')
                .append(curve(e.loss(), "training KL")).append('\n');
    }

    /**
     * The automatic schedule's record (issue 17), when there is one: per layer the held-out loss each searched rate
     * reached, the rate chosen, and where the held-out loss was best and training stopped.
     */
    private static void search(StringBuilder b, List<DistillRecord.Layer> layers, List<Double> rates) {
        if (rates == null || rates.isEmpty()) return;
        b.append("<h3>Learning rate and stopping point (held-out windows)</h3>\n<table><tr><th>layer</th>");
        for (double r : rates) b.append("<th>held-out loss at lr ").append(Html.num(r)).append("</th>");
        b.append("<th>lr chosen</th><th>best held-out loss</th><th>at step</th><th>steps run</th></tr>\n");
        for (DistillRecord.Layer layer : layers) {
            DistillRecord.Run l = layer.run();
            b.append("<tr><td>").append(layer.layer()).append("</td>");
            for (double h : l.lrSearch()) b.append("<td class=\"n\">").append(Html.num(h)).append("</td>");
            b.append("<td class=\"n\">").append(Html.num(l.lr())).append("</td><td class=\"n\">")
                    .append(Html.num(l.heldOutBest())).append("</td><td class=\"n\">").append(l.bestStep())
                    .append("</td><td class=\"n\">").append(l.stepsRun()).append("</td></tr>\n");
        }
        b.append("</table>\n<p class=\"note\">Each rate trains the layer from its start for the search's steps; the rate with the lowest ")
                .append("held-out loss then trains up to the budget, and the weights of its best held-out measurement are kept.</p>\n");
    }

    /** One row per setting: plain values as they are, the training files one per row with their hash. */
    private static void settings(StringBuilder b, JsonNode st) {
        List<String> keys = new ArrayList<>();
        for (String k : LABELS.keySet()) if (st.has(k)) keys.add(k);
        st.properties().forEach(e -> {
            if (!LABELS.containsKey(e.getKey()) && !e.getKey().equals("e2e")) keys.add(e.getKey()); // e2e: its own section
        });
        for (String k : keys) {
            JsonNode v = st.get(k);
            if (k.equals("data")) {
                for (JsonNode file : v)
                    row(b, "training text", Html.escape(file.path("file").asText()) + " <code>sha256 " + Html.escape(file.path("sha256").asText()) + "</code>");
            } else {
                row(b, LABELS.getOrDefault(k, k), Html.escape(v.isArray() ? String.join(", ", v.valueStream().map(x -> Html.num(x.asDouble())).toList())
                        : v.isFloatingPointNumber() ? Html.num(v.asDouble())
                        : v.isIntegralNumber() ? f("%,d", v.asLong()) : v.isValueNode() ? v.asText() : v.toString()));
            }
        }
    }

    private static void row(StringBuilder b, String label, String escapedValue) {
        b.append("<tr><th>").append(Html.escape(label)).append("</th><td>").append(escapedValue).append("</td></tr>\n");
    }

    private static String block(DistillRecord.Layer layer) {
        return layer.block().get(0) + "&ndash;" + layer.block().get(1);
    }

    /** Whether {@link #curve} draws every step of {@code loss} (else the record's losses go to {@link OtherFields}). */
    static boolean everyStep(JsonNode loss) {
        return loss.size() <= POINTS;
    }

    /** A loss curve: one point per step, or the means of equal runs of steps when there are more than {@link #POINTS}. */
    static String curve(List<Double> loss, String label) {
        int n = loss.size(), per = Math.max(1, (n + POINTS - 1) / POINTS), points = (n + per - 1) / per;
        double[] x = new double[points];
        List<Double> y = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int p = 0; p < points; p++) {
            double sum = 0;
            int from = p * per, to = Math.min(n, from + per);
            for (int i = from; i < to; i++) sum += loss.get(i);
            x[p] = to;
            y.add(sum / (to - from));
            labels.add(Integer.toString(to));
        }
        return Svg.line(x, y, labels, -1, label, "training step", 200);
    }

    private static Map<String, String> linked(String... kv) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }
}
