package come4j.report;

import static come4j.report.Svg.f;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The tables of `come bench`, from bench.json alone: bench.md (Markdown) and bench.html (the same tables plus charts
 * against sparsity, one line per method: perplexity per text, acc and acc_norm per task with ±1 standard error bars).
 * Both are built from the same table rows.
 */
public final class BenchReport {
    private BenchReport() {}

    /** A table: header row, then rows; the first column is a label, the others numbers or dashes. */
    record Table(String title, String note, List<String[]> rows) {}

    public static String markdown(JsonNode b) {
        StringBuilder s = new StringBuilder("# come bench: ").append(b.path("model").asText()).append("\n\n");
        s.append(summary(b)).append("\n\n");
        for (Table t : tables(b)) {
            s.append("## ").append(t.title()).append("\n\n");
            if (!t.note().isEmpty()) s.append(t.note()).append("\n\n");
            List<String[]> rows = t.rows();
            s.append("| ").append(String.join(" | ", rows.getFirst())).append(" |\n|");
            s.append("---|".repeat(rows.getFirst().length)).append('\n');
            for (String[] r : rows.subList(1, rows.size())) s.append("| ").append(String.join(" | ", r)).append(" |\n");
            s.append('\n');
        }
        return s.toString();
    }

    public static void writeHtml(JsonNode b, Path file) throws IOException {
        Files.writeString(file, html(b), StandardCharsets.UTF_8);
    }

    static String html(JsonNode b) {
        StringBuilder s = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>come4j bench</title><style>")
                .append(MergeReport.CSS).append("</style></head><body>\n<h1>come bench: ").append(Html.escape(b.path("model").asText()))
                .append("</h1>\n<p class=\"note\">").append(Html.escape(summary(b))).append("</p>\n<p class=\"note\"><code>")
                .append(Html.escape(b.path("command").asText())).append("</code></p>\n");
        for (JsonNode text : b.path("ppl")) {
            String label = text.path("label").asText();
            s.append(chart(b, "Perplexity on " + label, c -> c.path("ppl").path(label).path("ppl"), c -> null, 1, true, "perplexity"));
        }
        for (JsonNode task : b.path("tasks"))
            for (String metric : metrics(b, task.asText())) {
                String key = task.asText();
                s.append(chart(b, metric + " on " + key + items(b, key), c -> c.path("tasks").path(key).path(metric),
                        c -> c.path("tasks").path(key).path(metric + "_stderr"), 100, false, metric + " (%)"));
            }
        for (Table t : tables(b)) {
            s.append("<h2>").append(Html.escape(t.title())).append("</h2>\n");
            if (!t.note().isEmpty()) s.append("<p class=\"note\">").append(Html.escape(t.note())).append("</p>\n");
            s.append("<table>");
            for (int i = 0; i < t.rows().size(); i++) {
                String cell = i == 0 ? "th" : "td";
                s.append("<tr>");
                for (String c : t.rows().get(i)) s.append('<').append(cell).append('>').append(Html.escape(c)).append("</").append(cell).append('>');
                s.append("</tr>\n");
            }
            s.append("</table>\n");
        }
        return s.append("</body></html>\n").toString();
    }

    /**
     * One metric against sparsity: x = the requested sparsities (0 = the dense model, shared by every line), a line per
     * method; values and standard errors times {@code scale}; {@code log}: a log y axis.
     */
    private static String chart(JsonNode b, String title, Function<JsonNode, JsonNode> value, Function<JsonNode, JsonNode> stderr,
                                double scale, boolean log, String yTitle) {
        List<Double> sp = sparsities(b);
        double[] x = sp.stream().mapToDouble(Double::doubleValue).toArray();
        List<String> labels = sp.stream().map(v -> v == 0 ? "dense" : f("%.2f", v)).toList();
        List<Svg.Series> series = new ArrayList<>();
        for (String m : methods(b)) {
            List<Double> y = new ArrayList<>(), e = new ArrayList<>();
            for (double v : sp) {
                JsonNode c = v == 0 ? cell(b, "base", 0) : cell(b, m, v);
                y.add(c != null && value.apply(c).isNumber() ? scale * value.apply(c).asDouble() : null);
                JsonNode se = c == null ? null : stderr.apply(c);
                e.add(se != null && se.isNumber() ? scale * se.asDouble() : null);
            }
            series.add(new Svg.Series(m, y, e));
        }
        return "<h2>" + Html.escape(title) + "</h2>\n" + Svg.series(x, labels, series, log, yTitle, "sparsity requested", 280) + "\n";
    }

    /** acc, and acc_norm where the task has it (any evaluated cell says). */
    private static List<String> metrics(JsonNode b, String task) {
        for (JsonNode c : b.path("cells"))
            if (c.path("tasks").path(task).has("acc_norm")) return List.of("acc", "acc_norm");
        return List.of("acc");
    }

    /** " (N items)" from the first cell that ran the task, or nothing. */
    private static String items(JsonNode b, String task) {
        for (JsonNode c : b.path("cells"))
            if (c.path("tasks").path(task).has("items")) return f(" (%,d items)", c.path("tasks").path(task).path("items").asInt());
        return "";
    }

    private static String summary(JsonNode b) {
        JsonNode sh = b.path("shared");
        String s = f("%d layers; %d cells compressed in this run, %d reused, %d evaluations run.", b.path("layers").asInt(),
                sh.path("cells_compressed").asInt(), sh.path("cells_reused").asInt(), sh.path("evaluations").asInt());
        if (sh.has("first_pass_seconds"))
            s += f(" The first calibration pass (%.1f s) ran once and served %d method runs (%.1f s saved).", sh.path("first_pass_seconds").asDouble(),
                    sh.path("first_pass_requests").asInt(), sh.path("first_pass_seconds_saved").asDouble());
        double tokenize = 0;
        for (JsonNode t : b.path("ppl")) tokenize += t.path("tokenize_seconds").asDouble();
        if (tokenize > 0)
            s += f(" The texts were tokenized once (%.1f s), not once per evaluated cell.", tokenize);
        return s;
    }

    static List<Table> tables(JsonNode b) {
        List<Table> out = new ArrayList<>();
        List<Double> sp = sparsities(b);
        for (JsonNode text : b.path("ppl")) {
            String label = text.path("label").asText();
            out.add(pivot(b, sp, "Perplexity on " + label, f("%,d windows of %d tokens (%,d tokens); lower is better.", text.path("windows").asInt(),
                    text.path("seq_len").asInt(), (long) text.path("windows").asInt() * text.path("seq_len").asInt()),
                    c -> number(c.path("ppl").path(label).path("ppl"), "%.3f")));
        }
        for (JsonNode task : b.path("tasks"))
            for (String metric : metrics(b, task.asText())) {
                String key = task.asText();
                out.add(pivot(b, sp, metric + " on " + key + items(b, key), metric + " in % \u00b1 standard error; higher is better.",
                        c -> percent(c.path("tasks").path(key), metric)));
            }
        List<String[]> rows = new ArrayList<>();
        List<String> head = new ArrayList<>(List.of("method", "sparsity", "layers", "parameter sparsity"));
        for (JsonNode t : b.path("ppl")) head.add("PPL " + t.path("label").asText());
        for (JsonNode t : b.path("tasks")) head.add(t.asText() + " acc" + items(b, t.asText()));
        boolean timed = b.has("latency");
        if (timed) head.addAll(List.of("prompt tok/s", "generation tok/s"));
        head.addAll(List.of("compress s", "eval s"));
        rows.add(head.toArray(String[]::new));
        for (JsonNode c : b.path("cells")) {
            List<String> r = new ArrayList<>(List.of(c.path("method").asText(), f("%.2f", c.path("sparsity").asDouble()),
                    c.path("layers").asText(), f("%.1f%%", 100 * c.path("achieved_sparsity").asDouble())));
            for (JsonNode t : b.path("ppl")) r.add(number(c.path("ppl").path(t.path("label").asText()).path("ppl"), "%.3f"));
            for (JsonNode t : b.path("tasks")) r.add(percent(c.path("tasks").path(t.asText()), "acc"));
            if (timed)
                for (String phase : List.of("prompt", "generation")) r.add(speed(c, cell(b, "base", 0), phase));
            r.add(f("%.1f", c.path("compress_seconds").asDouble()));
            r.add(f("%.1f", c.path("eval_seconds").asDouble()));
            rows.add(r.toArray(String[]::new));
        }
        for (JsonNode c : b.path("failed"))
            rows.add(failedRow(head.size(), c));
        out.add(new Table("All cells", "Wall times per cell on this machine: compress excludes the shared first calibration pass "
                + "(reported above), eval covers every perplexity text and task" + (timed ? " and the timing" : "") + "."
                + (timed ? latencyNote(b.path("latency")) : ""), rows));
        return out;
    }

    /** What the tok/s columns measured (the protocol of `come latency`, shortened). */
    private static String latencyNote(JsonNode p) {
        return f(" Tokens/s as `come latency` times them: prompt processing of 1 x %d tokens (mean of %d iterations), generation of "
                + "%d x (%d + %d) tokens (mean of %d), after %d warm-up; in brackets the speed-up over the dense model. Each cell "
                + "is timed when it is evaluated, one after another, so the ratios hold only on an otherwise idle machine.",
                p.path("prompt_tokens").asInt(), p.path("iterations").asInt(), p.path("gen_batch").asInt(), p.path("gen_prompt").asInt(),
                p.path("gen_new_tokens").asInt(), p.path("gen_iterations").asInt(), p.path("warmup").asInt());
    }

    /** A cell's tokens/s in one latency phase, with its speed-up over the dense model's (mean time over mean time). */
    private static String speed(JsonNode c, JsonNode base, String phase) {
        JsonNode t = c.path("latency").path(phase), d = base == null ? null : base.path("latency").path(phase);
        if (!t.path("tokens_per_second").isNumber()) return "\u2013";
        String s = f("%.1f", t.path("tokens_per_second").asDouble());
        return d != null && d.path("ms_mean").isNumber() ? s + f(" (%.3fx)", d.path("ms_mean").asDouble() / t.path("ms_mean").asDouble()) : s;
    }

    private static String[] failedRow(int width, JsonNode c) {
        String[] r = new String[width];
        java.util.Arrays.fill(r, "\u2013");
        r[0] = c.path("method").asText();
        r[1] = f("%.2f", c.path("sparsity").asDouble());
        r[2] = "failed: " + c.path("error").asText();
        return r;
    }

    /** Methods as rows, sparsities as columns (the dense model's value in the first column of every row). */
    private static Table pivot(JsonNode b, List<Double> sp, String title, String note, Function<JsonNode, String> value) {
        List<String[]> rows = new ArrayList<>();
        List<String> head = new ArrayList<>(List.of("method"));
        for (double v : sp) {
            JsonNode any = v == 0 ? cell(b, "base", 0) : anyCell(b, v);
            head.add((v == 0 ? "dense" : f("%.2f", v)) + (any == null ? "" : " (" + any.path("layers").asInt() + " layers)"));
        }
        rows.add(head.toArray(String[]::new));
        for (String m : methods(b)) {
            List<String> r = new ArrayList<>(List.of(m));
            for (double v : sp) {
                JsonNode c = v == 0 ? cell(b, "base", 0) : cell(b, m, v);
                r.add(c == null ? "\u2013" : value.apply(c));
            }
            rows.add(r.toArray(String[]::new));
        }
        return new Table(title, note, rows);
    }

    private static String number(JsonNode v, String format) {
        return v.isNumber() ? f(format, v.asDouble()) : "\u2013";
    }

    /** A task metric in percent to two decimals, with its standard error where recorded. */
    private static String percent(JsonNode task, String metric) {
        JsonNode v = task.path(metric), se = task.path(metric + "_stderr");
        if (!v.isNumber()) return "\u2013";
        return f("%.2f%%", 100 * v.asDouble()) + (se.isNumber() ? f(" \u00b1 %.2f", 100 * se.asDouble()) : "");
    }

    /** 0 (the dense model), then the requested sparsities. */
    private static List<Double> sparsities(JsonNode b) {
        List<Double> sp = new ArrayList<>(List.of(0.0));
        for (JsonNode v : b.path("sparsities")) sp.add(v.asDouble());
        return sp;
    }

    private static List<String> methods(JsonNode b) {
        List<String> m = new ArrayList<>();
        for (JsonNode v : b.path("methods")) m.add(v.asText());
        return m;
    }

    private static JsonNode cell(JsonNode b, String method, double sparsity) {
        for (JsonNode c : b.path("cells"))
            if (c.path("method").asText().equals(method) && c.path("sparsity").asDouble() == sparsity) return c;
        return null;
    }

    private static JsonNode anyCell(JsonNode b, double sparsity) {
        for (JsonNode c : b.path("cells"))
            if (!c.path("method").asText().equals("base") && c.path("sparsity").asDouble() == sparsity) return c;
        return null;
    }
}
