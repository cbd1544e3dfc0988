package come4j.report;

import static come4j.report.Svg.f;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * report.html of a compression, built from come-merge.json alone (docs/come-merge-format.md): one self-contained page
 * (inline CSS and SVG, no script, nothing fetched) that opens offline in any browser. Deterministic: the same record
 * gives the same bytes, so a report can be diffed or hashed like the checkpoint it describes; measured times, the only
 * part that differs between runs, are in {@code <span class="t">}. Precision is the same everywhere: NLL to four
 * decimals, ratios to three, percentages to two, seconds to one, other statistics to four significant digits.
 */
public final class MergeReport {
    static final String CSS = "body{font-family:sans-serif;max-width:62em;margin:2em auto;padding:0 1em;color:#222}"
            + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left;vertical-align:top}"
            + "code{font-size:12px;word-break:break-all}h2{margin-top:1.6em;border-bottom:1px solid #ddd}h3{font-size:14px;margin:1em 0 0}"
            + "svg{max-width:100%;height:auto}p.note{color:#555;font-size:13px}td.n{text-align:right;font-variant-numeric:tabular-nums}";

    /**
     * The fields the header shows (the input's tensor hashes are for audits, and stay in come-merge.json), as paths
     * ({@link Section#shows}).
     */
    private static final List<String> HEADER = List.of("format", "method", "command", "backend", "input", "output", "tree", "calib_nll",
            "settings.target_layers", "settings.sparsity", "settings.windows", "settings.seq_len", "settings.tokens", "settings.rows",
            "settings.calib_samples", "settings.seed", "settings.batch", "settings.calib", "settings.sbi_tokens", "settings.granularity",
            "settings.official_gqa_tiling", "settings.remerge_fallback");

    private MergeReport() {}

    public static void writeHtml(JsonNode merge, Path file) throws IOException {
        Files.writeString(file, html(merge), StandardCharsets.UTF_8);
    }

    static String html(JsonNode m) {
        return html(m, null);
    }

    /**
     * The page; {@code distillRun}: come-distill.json of a `come distill` run, which then leads the page, the student's
     * compression ({@code m}) after it. Without one, a distillation the compression ran itself (--distill-each,
     * NAME+distill) follows the compression.
     */
    static String html(JsonNode record, JsonNode distillRun) {
        JsonNode m = perTokenMeans(record);
        boolean own = distillRun != null;
        JsonNode d = own ? distillRun : m.path("distill");
        String method = Html.escape(m.path("method").asText());
        StringBuilder b = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>come4j: ")
                .append(method).append(own ? " + distillation" : "").append(" report</title><style>").append(CSS).append("</style></head><body>\n");
        if (own) {
            b.append("<h1>come4j: hierarchical distillation of a ").append(method).append(" student</h1>\n").append(DistillReport.section(d, true))
                    .append("<h2>The student: ").append(method).append(" compression</h2>\n<p class=\"note\">From the student's come-merge.json; ")
                    .append("its own report.html shows the command that made it.</p>\n");
        } else {
            b.append("<h1>come4j: ").append(method).append(" compression").append(d.isMissingNode() ? "" : " + hierarchical distillation (schedule "
                    + Html.escape(DistillSettings.of(d.path("settings")).schedule()) + ")").append("</h1>\n");
        }
        header(b, m, !own);
        List<Section> sections = Section.of(m);
        sections.forEach(s -> s.render(b));
        b.append("<h2>Merge tree</h2>\n<p class=\"note\">Top: the original layers; bottom: the layers of the output, each joined to ")
                .append("the originals it stands for. Merged layers are orange and labelled with the steps that built them; ")
                .append("grey dashed originals were removed.</p>\n").append(tree(m)).append('\n');
        sections.forEach(s -> s.renderBelowTree(b));
        List<String> shown = new ArrayList<>(HEADER);
        sections.forEach(s -> shown.addAll(s.shows()));
        b.append(OtherFields.section(m, shown));
        return b.append("</body></html>\n").toString();
    }

    /** Says so when {@link Svg.Scale#auto} draws the values on a log axis. */
    static String logNote(List<Double> v) {
        return Svg.Scale.auto(v).log() ? " The y axis is logarithmic: the values span more than " + (int) Svg.Scale.LOG_SPAN + "\u00d7." : "";
    }

    /** The compression's facts; {@code command}: with the command that made it (not in a distillation's report). */
    private static void header(StringBuilder b, JsonNode m, boolean command) {
        RunRecord r = RunRecord.of(m);
        RunRecord.Input in = r.input();
        RunSettings st = r.settings();
        RunSettings.Calibration cal = st.calibration();
        b.append("<table>\n");
        row(b, "method", r.method());
        if (r.backend() != null) row(b, "backend", r.backend().name() + ", computing in " + r.backend().computeDtype());
        row(b, "input", in.dir() + " (" + in.architecture() + ", " + in.dtype() + ")");
        row(b, "layers", in.layers() + " \u2192 " + r.output().layers());
        row(b, "parameters", f("%,d \u2192 %,d (sparsity %.2f%%)", in.parameters(), r.output().parameters(), 100 * r.output().sparsity()));
        row(b, "target", st.targetLayers() + " layers" + (st.sparsity() != null ? f(" (sparsity %.2f%% requested)", 100 * st.sparsity()) : ""));
        if (cal != null)
            row(b, "calibration", f("%d windows \u00d7 %d tokens = %,d tokens from %d rows (%d samples requested), seed %d, batch %d",
                    cal.windows(), orZero(cal.seqLen()), orZero(cal.tokens()), orZero(cal.rows()), orZero(cal.samples()), orZero(cal.seed()),
                    orZero(cal.batch())));
        else
            row(b, "calibration", "none");
        if (cal != null && cal.calib() != null)
            for (HashedFile c : cal.calib()) row(b, "calibration file", c.file() + "  sha256 " + c.sha256());
        List<String> rest = new ArrayList<>();
        if (st.method() instanceof RunSettings.MethodSettings.Progressive p) {
            if (p.sbiTokens() != null) rest.add("sbi_tokens = " + p.sbiTokens());
            if (p.granularity() != null) rest.add("granularity = " + p.granularity());
            if (p.officialGqaTiling() != null) rest.add("official_gqa_tiling = " + p.officialGqaTiling());
            if (p.remergeFallback() != null) rest.add("remerge_fallback = " + p.remergeFallback());
        }
        if (!rest.isEmpty()) row(b, "settings", String.join(", ", rest));
        JsonNode nll = calibNll(m);
        if (nll != null) row(b, "calibration NLL", nll(nll.path("before")) + " \u2192 " + nll(nll.path("after")));
        double seconds = 0;
        for (JsonNode s : m.path("steps")) seconds += s.path("seconds").asDouble();
        if (seconds > 0) b.append("<tr><th>merge steps</th><td>").append(time(seconds)).append(" in all</td></tr>\n");
        if (command) b.append("<tr><th>command</th><td><code>").append(Html.escape(java.util.Objects.toString(r.command(), ""))).append("</code></td></tr>\n");
        b.append("</table>\n");
    }

    /** A count an older record may lack, as the report has always shown it: 0. */
    static long orZero(Number n) {
        return n == null ? 0 : n.longValue();
    }

    /** Seconds to one decimal, marked as the one measured (run-dependent) value of the page. */
    static String time(double seconds) {
        return f("<span class=\"t\">%.1f s</span>", seconds);
    }

    /** Original layers (top) and output layers (bottom), each output box spanning the originals it stands for. */
    static String tree(JsonNode m) {
        int L0 = m.path("input").path("layers").asInt(), h = 150;
        JsonNode tree = m.path("tree");
        Map<Integer, List<Integer>> builtBy = new TreeMap<>(); // output layer -> steps that merged into it
        for (JsonNode s : m.path("steps")) {
            int first = s.path("original").path(0).path(0).asInt();
            for (int j = 0; j < tree.size(); j++)
                for (JsonNode o : tree.get(j))
                    if (o.asInt() == first) builtBy.computeIfAbsent(j, k -> new ArrayList<>()).add(s.path("step").asInt());
        }
        boolean[] kept = new boolean[L0];
        for (JsonNode e : tree) for (JsonNode o : e) if (o.asInt() < L0) kept[o.asInt()] = true;
        double w = (Svg.W - Svg.LEFT - Svg.RIGHT + 0.0) / Math.max(1, L0);
        StringBuilder s = new StringBuilder(Svg.open(h, "diagram"));
        s.append(Svg.text(4, 28, "original", "start", "#555")).append(Svg.text(4, 100, "output", "start", "#555"));
        for (int i = 0; i < L0; i++) {
            s.append(f("<rect x=\"%.1f\" y=\"10\" width=\"%.1f\" height=\"28\" fill=\"%s\" stroke=\"%s\"%s/>", Svg.LEFT + i * w + 1, w - 2,
                    kept[i] ? "#e7f5ff" : "#f1f3f5", kept[i] ? Svg.BLUE : Svg.GREY, kept[i] ? "" : " stroke-dasharray=\"3,2\""));
            s.append(Svg.text(Svg.LEFT + i * w + w / 2, 28, Integer.toString(i), "middle", "#333"));
        }
        for (int j = 0; j < tree.size(); j++) {
            JsonNode e = tree.get(j);
            int first = e.path(0).asInt(), last = e.path(e.size() - 1).asInt();
            boolean merged = e.size() > 1;
            double x0 = Svg.LEFT + first * w + 1, x1 = Svg.LEFT + (last + 1) * w - 1, mid = (x0 + x1) / 2;
            for (JsonNode o : e)
                s.append(f("<line x1=\"%.1f\" y1=\"38\" x2=\"%.1f\" y2=\"82\" stroke=\"#aaa\"/>", Svg.LEFT + o.asInt() * w + w / 2, mid));
            s.append(f("<rect x=\"%.1f\" y=\"82\" width=\"%.1f\" height=\"28\" fill=\"%s\" stroke=\"%s\"><title>output layer %d = originals %s</title></rect>",
                    x0, x1 - x0, merged ? "#fff4e6" : "#ebfbee", merged ? Svg.ORANGE : Svg.GREEN, j, Html.escape(e.toString())));
            s.append(Svg.text(mid, 100, Integer.toString(j), "middle", "#333"));
            if (builtBy.containsKey(j))
                s.append(Svg.text(mid, 126, "step " + String.join(",", builtBy.get(j).stream().map(String::valueOf).toList()), "middle", Svg.ORANGE));
        }
        return s.append("</svg>").toString();
    }

    /**
     * The record with BI and SBI as means over tokens: format 1 stored sums over the calibration tokens (BI, ShortGPT's
     * scores, CoMe-P's SBI) or over windows (CoMe's last-token SBI), which are divided here by the counts its settings
     * record.
     */
    static JsonNode perTokenMeans(JsonNode m) {
        JsonNode st = m.path("settings");
        if (!m.path("format").asText().equals("come4j-merge/1") || !st.has("windows")) return m;
        double windows = st.path("windows").asDouble(), tokens = windows * st.path("seq_len").asDouble();
        ObjectNode out = m.deepCopy();
        for (JsonNode step : out.path("steps")) {
            divide(step.get("bi"), tokens);
            divide(step.get("sbi"), st.path("sbi_tokens").asText().equals("all") ? tokens : windows);
        }
        if (m.path("method").asText().equals("shortgpt")) divide(out.get("scores"), tokens);
        return out;
    }

    private static void divide(JsonNode array, double n) {
        if (array instanceof com.fasterxml.jackson.databind.node.ArrayNode a)
            for (int i = 0; i < a.size(); i++) if (a.get(i).isNumber()) a.set(i, a.get(i).asDouble() / n);
    }

    /** The record's overall calibration NLL, or the first and last steps' when an older record lacks it. */
    static JsonNode calibNll(JsonNode m) {
        if (m.has("calib_nll")) return m.get("calib_nll");
        JsonNode steps = m.path("steps");
        if (steps.isEmpty()) return null;
        ObjectNode nll = JsonNodeFactory.instance.objectNode();
        nll.set("before", steps.get(0).path("calib_nll_before"));
        nll.set("after", steps.get(steps.size() - 1).path("calib_nll_after"));
        return nll;
    }

    /** "[3]+[4, 5]" with runs shortened: "[0-5]+[6]". */
    static String originals(JsonNode step) {
        return ranges(step.path("original").path(0)) + "+" + ranges(step.path("original").path(1));
    }

    static String ranges(JsonNode layers) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < layers.size(); ) {
            int j = i;
            while (j + 1 < layers.size() && layers.get(j + 1).asInt() == layers.get(j).asInt() + 1) j++;
            parts.add(j > i ? layers.get(i).asInt() + "-" + layers.get(j).asInt() : layers.get(i).asText());
            i = j + 1;
        }
        return "[" + String.join(",", parts) + "]";
    }

    /** A number cell: four significant digits, or a dash when the record has none. */
    static String num(JsonNode v) {
        Double d = finite(v);
        return d == null ? "\u2013" : Html.num(d);
    }

    /** A merge ratio (or MKA's α) to three decimals, as the terminal summary prints it. */
    static String ratio(JsonNode v) {
        Double d = finite(v);
        return d == null ? "\u2013" : f("%.3f", d);
    }

    /** An NLL to four decimals (steps differ in the second or third), or a dash without calibration. */
    static String nll(JsonNode v) {
        Double d = finite(v);
        return d == null ? "\u2013" : f("%.4f", d);
    }

    static Double finite(JsonNode v) {
        return v.isNumber() && Double.isFinite(v.asDouble()) ? v.asDouble() : null;
    }

    static String ints(JsonNode a) {
        List<String> out = new ArrayList<>();
        for (JsonNode v : a) out.add(v.asText());
        return "[" + String.join(", ", out) + "]";
    }

    private static void row(StringBuilder b, String k, String v) {
        b.append("<tr><th>").append(Html.escape(k)).append("</th><td>").append(Html.escape(v)).append("</td></tr>\n");
    }

    static List<Double> doubles(JsonNode a) {
        List<Double> out = new ArrayList<>();
        for (JsonNode v : a) out.add(finite(v));
        return out;
    }
}
