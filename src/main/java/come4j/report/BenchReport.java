package come4j.report;

import static come4j.report.Svg.f;

import com.fasterxml.jackson.databind.JsonNode;
import come4j.eval.Perplexity;
import come4j.eval.TaskScores;
import come4j.report.BenchRecord.Cell;
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

    public static String markdown(JsonNode bench) {
        BenchRecord b = BenchRecord.of(bench);
        StringBuilder s = new StringBuilder("# come bench: ").append(b.model()).append("\n\n");
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

    static String html(JsonNode bench) {
        BenchRecord b = BenchRecord.of(bench);
        StringBuilder s = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>come4j bench</title><style>")
                .append(MergeReport.CSS).append("</style></head><body>\n<h1>come bench: ").append(Html.escape(b.model()))
                .append("</h1>\n<p class=\"note\">").append(Html.escape(summary(b))).append("</p>\n<p class=\"note\"><code>")
                .append(Html.escape(java.util.Objects.toString(b.command(), ""))).append("</code></p>\n");
        for (BenchRecord.Text text : b.ppl()) {
            String label = text.label();
            s.append(chart(b, "Perplexity on " + label, c -> ppl(c, label), c -> null, 1, true, "perplexity"));
        }
        for (String key : tasks(b))
            for (String metric : metrics(b, key))
                s.append(chart(b, metric + " on " + key + items(b, key), c -> metric(c, key, metric, false),
                        c -> metric(c, key, metric, true), 100, false, metric + " (%)"));
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
    private static String chart(BenchRecord b, String title, Function<Cell, Double> value, Function<Cell, Double> stderr,
                                double scale, boolean log, String yTitle) {
        List<Double> sp = sparsities(b);
        double[] x = sp.stream().mapToDouble(Double::doubleValue).toArray();
        List<String> labels = sp.stream().map(v -> v == 0 ? "dense" : f("%.2f", v)).toList();
        List<Svg.Series> series = new ArrayList<>();
        for (String m : b.methods()) {
            List<Double> y = new ArrayList<>(), e = new ArrayList<>();
            for (double v : sp) {
                Cell c = v == 0 ? cell(b, "base", 0) : cell(b, m, v);
                Double value1 = c == null ? null : value.apply(c), se = c == null ? null : stderr.apply(c);
                y.add(value1 != null ? scale * value1 : null);
                e.add(se != null ? scale * se : null);
            }
            series.add(new Svg.Series(m, y, e));
        }
        return "<h2>" + Html.escape(title) + "</h2>\n" + Svg.series(x, labels, series, log, yTitle, "sparsity requested", 280) + "\n";
    }

    /** acc, and acc_norm where the task has it (any evaluated cell says). */
    private static List<String> metrics(BenchRecord b, String task) {
        for (Cell c : b.cells())
            if (scores(c, task) != null && scores(c, task).accNorm() != null) return List.of("acc", "acc_norm");
        return List.of("acc");
    }

    /** " (N items)" from the first cell that ran the task, or nothing. */
    private static String items(BenchRecord b, String task) {
        for (Cell c : b.cells())
            if (scores(c, task) != null) return f(" (%,d items)", scores(c, task).items());
        return "";
    }

    private static String summary(BenchRecord b) {
        BenchRecord.Shared sh = b.shared();
        String s = f("%d layers; %d cells compressed in this run, %d reused, %d evaluations run.", b.layers(),
                sh.cellsCompressed(), sh.cellsReused(), sh.evaluations());
        if (sh.firstPassSeconds() != null)
            s += f(" The first calibration pass (%.1f s) ran once and served %d method runs (%.1f s saved).", sh.firstPassSeconds(),
                    sh.firstPassRequests(), sh.firstPassSecondsSaved());
        double tokenize = 0;
        for (BenchRecord.Text t : b.ppl()) tokenize += t.tokenizeSeconds();
        if (tokenize > 0)
            s += f(" The texts were tokenized once (%.1f s), not once per evaluated cell.", tokenize);
        return s;
    }

    static List<Table> tables(BenchRecord b) {
        List<Table> out = new ArrayList<>();
        List<Double> sp = sparsities(b);
        for (BenchRecord.Text text : b.ppl()) {
            String label = text.label();
            out.add(pivot(b, sp, "Perplexity on " + label, f("%,d windows of %d tokens (%,d tokens); lower is better.", text.windows(),
                    text.seqLen(), (long) text.windows() * text.seqLen()), c -> number(ppl(c, label), "%.3f")));
        }
        for (String key : tasks(b))
            for (String metric : metrics(b, key))
                out.add(pivot(b, sp, metric + " on " + key + items(b, key), metric + " in % \u00b1 standard error; higher is better.",
                        c -> percent(c, key, metric)));
        List<String[]> rows = new ArrayList<>();
        List<String> head = new ArrayList<>(List.of("method", "sparsity", "layers", "parameter sparsity"));
        for (BenchRecord.Text t : b.ppl()) head.add("PPL " + t.label());
        for (String t : tasks(b)) head.add(t + " acc" + items(b, t));
        boolean timed = b.latency() != null;
        if (timed) head.addAll(List.of("prompt tok/s", "generation tok/s"));
        head.addAll(List.of("compress s", "eval s"));
        rows.add(head.toArray(String[]::new));
        for (Cell c : b.cells()) {
            List<String> r = new ArrayList<>(List.of(c.method(), f("%.2f", c.sparsity()), Integer.toString(c.layers()),
                    f("%.1f%%", 100 * c.achievedSparsity())));
            for (BenchRecord.Text t : b.ppl()) r.add(number(ppl(c, t.label()), "%.3f"));
            for (String t : tasks(b)) r.add(percent(c, t, "acc"));
            if (timed)
                for (String phase : List.of("prompt", "generation")) r.add(speed(c, cell(b, "base", 0), phase));
            r.add(f("%.1f", c.compressSeconds()));
            r.add(f("%.1f", c.evalSeconds() == null ? 0 : c.evalSeconds()));
            rows.add(r.toArray(String[]::new));
        }
        for (BenchRecord.Failed c : b.failed())
            rows.add(failedRow(head.size(), c));
        out.add(new Table("All cells", "Wall times per cell on this machine: compress excludes the shared first calibration pass "
                + "(reported above), eval covers every perplexity text and task" + (timed ? " and the timing" : "") + "."
                + (timed ? latencyNote(b.latency()) : ""), rows));
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
    private static String speed(Cell c, Cell base, String phase) {
        JsonNode t = latency(c).path(phase), d = base == null ? null : latency(base).path(phase);
        if (!t.path("tokens_per_second").isNumber()) return "\u2013";
        String s = f("%.1f", t.path("tokens_per_second").asDouble());
        return d != null && d.path("ms_mean").isNumber() ? s + f(" (%.3fx)", d.path("ms_mean").asDouble() / t.path("ms_mean").asDouble()) : s;
    }

    private static String[] failedRow(int width, BenchRecord.Failed c) {
        String[] r = new String[width];
        java.util.Arrays.fill(r, "\u2013");
        r[0] = c.method();
        r[1] = f("%.2f", c.sparsity());
        r[2] = "failed: " + c.error();
        return r;
    }

    /** Methods as rows, sparsities as columns (the dense model's value in the first column of every row). */
    private static Table pivot(BenchRecord b, List<Double> sp, String title, String note, Function<Cell, String> value) {
        List<String[]> rows = new ArrayList<>();
        List<String> head = new ArrayList<>(List.of("method"));
        for (double v : sp) {
            Cell any = v == 0 ? cell(b, "base", 0) : anyCell(b, v);
            head.add((v == 0 ? "dense" : f("%.2f", v)) + (any == null ? "" : " (" + any.layers() + " layers)"));
        }
        rows.add(head.toArray(String[]::new));
        for (String m : b.methods()) {
            List<String> r = new ArrayList<>(List.of(m));
            for (double v : sp) {
                Cell c = v == 0 ? cell(b, "base", 0) : cell(b, m, v);
                r.add(c == null ? "\u2013" : value.apply(c));
            }
            rows.add(r.toArray(String[]::new));
        }
        return new Table(title, note, rows);
    }

    private static String number(Double v, String format) {
        return v != null ? f(format, v) : "\u2013";
    }

    /** A task metric in percent to two decimals, with its standard error where recorded. */
    private static String percent(Cell c, String task, String metric) {
        Double v = metric(c, task, metric, false), se = metric(c, task, metric, true);
        if (v == null) return "\u2013";
        return f("%.2f%%", 100 * v) + (se != null ? f(" \u00b1 %.2f", 100 * se) : "");
    }

    /** A cell's perplexity on a text, or null when it has none. */
    private static Double ppl(Cell c, String label) {
        Perplexity.Result r = c.ppl() == null ? null : c.ppl().get(label);
        return r == null ? null : r.ppl();
    }

    private static TaskScores scores(Cell c, String task) {
        return c.tasks() == null ? null : c.tasks().get(task);
    }

    /** acc or acc_norm of a task ({@code stderr}: its standard error), or null when the cell has none. */
    private static Double metric(Cell c, String task, String metric, boolean stderr) {
        TaskScores t = scores(c, task);
        if (t == null) return null;
        return metric.equals("acc") ? (stderr ? t.accStderr() : t.acc()) : stderr ? t.accNormStderr() : t.accNorm();
    }

    private static JsonNode latency(Cell c) {
        return c.latency() == null ? com.fasterxml.jackson.databind.node.MissingNode.getInstance() : c.latency();
    }

    private static List<String> tasks(BenchRecord b) {
        return b.tasks() == null ? List.of() : b.tasks();
    }

    /** 0 (the dense model), then the requested sparsities. */
    private static List<Double> sparsities(BenchRecord b) {
        List<Double> sp = new ArrayList<>(List.of(0.0));
        sp.addAll(b.sparsities());
        return sp;
    }

    private static Cell cell(BenchRecord b, String method, double sparsity) {
        for (Cell c : b.cells())
            if (c.method().equals(method) && c.sparsity() == sparsity) return c;
        return null;
    }

    private static Cell anyCell(BenchRecord b, double sparsity) {
        for (Cell c : b.cells())
            if (!c.method().equals("base") && c.sparsity() == sparsity) return c;
        return null;
    }
}
