package come4j.report;

import static come4j.report.Svg.f;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * README.md of every output: a Hugging Face model card, so the folder can be pushed to the Hub as it is. YAML front
 * matter (base_model, tags, library_name, and the input card's license and language), then how the model was made
 * (method, sparsity, layers, calibration, command), the merge tree, the measured numbers (calibration NLL, distillation
 * losses), and finally the input's own card under "Original model card" (its headings one level down, its front
 * matter dropped: its license and language are carried into ours). Built from the records alone, so it is as deterministic as they are.
 */
public final class ModelCard {
    /** A Hub id as `_name_or_path` or a cache folder (models--org--name) gives it: org/name, no local path. */
    private static final Pattern HUB_ID = Pattern.compile("[A-Za-z0-9][\\w.-]*/[\\w.-]+");
    private static final Pattern CACHE = Pattern.compile("models--([\\w.-]+)--([\\w.-]+)");
    private static final List<String> CARRIED = List.of("license", "license_name", "license_link", "language");
    private static final Map<String, String> METHODS = Map.ofEntries(
            Map.entry("come", "CoMe: adjacent layers of smallest SBI merged by concatenating their most sensitive kv head groups and FFN channels, in proportion to their BI"),
            Map.entry("come-p", "CoMe-P: CoMe with each merge ratio searched on calibration NLL"),
            Map.entry("come-ls", "CoMe, then each merged layer's o_proj and down_proj refitted by ridge least squares to reproduce the block it replaced"),
            Map.entry("come-p-ls", "CoMe-P, then each merged layer's o_proj and down_proj refitted by ridge least squares to reproduce the block it replaced"),
            Map.entry("come-ls-pair", "CoMe-LS with each pair chosen, among the 3 of smallest SBI, by calibration NLL after merging and correcting it"),
            Map.entry("weightsum", "weighted sum of adjacent layers (CoMe's pair and ratio)"),
            Map.entry("shortgpt", "ShortGPT: the layers of lowest block influence removed"),
            Map.entry("reverse", "the deepest layers removed"),
            Map.entry("magnitude", "the layers of smallest weight magnitude removed"),
            Map.entry("magnitude+", "the layers of smallest weight magnitude removed, first 4 and last 2 kept"),
            Map.entry("sleb", "SLEB: layers removed greedily by calibration NLL"),
            Map.entry("taylor", "the layers of lowest Taylor importance removed"),
            Map.entry("taylor+", "the layers of lowest Taylor importance removed, first 4 and last 2 kept"),
            Map.entry("laco", "LaCo: runs of layers collapsed into one by adding their differences"),
            Map.entry("mka", "MKA: layers merged by a weighted sum with ratios from manifold similarity"),
            Map.entry("streamline", "LLM-Streamline: the most similar span replaced by one trained layer"));

    private ModelCard() {}

    /**
     * Writes {@code file}. {@code merge}: the output's come-merge.json; {@code distill}: come-distill.json of a `come
     * distill` output, else null; {@code base}: the folder of the model the output derives from (the input, or the
     * teacher of a distillation), read for its Hub id and its card.
     */
    public static void write(JsonNode merge, JsonNode distill, Path base, Path file) throws IOException {
        Files.writeString(file, card(merge, distill, base, read(base.resolve("config.json")), read(base.resolve("README.md"))),
                StandardCharsets.UTF_8);
    }

    static String card(JsonNode m, JsonNode distill, Path base, String config, String originalCard) {
        String baseModel = hubId(config, base);
        JsonNode d = distill != null ? distill : m.path("distill");
        RunRecord r = RunRecord.of(m);
        String method = r.method();
        boolean removal = m.has("removed");
        StringBuilder s = new StringBuilder("---\nbase_model: ").append(yaml(baseModel)).append("\ntags:\n- come4j\n- ")
                .append(removal ? "layer-pruning" : "layer-merging").append('\n');
        if (!d.isMissingNode()) s.append("- distillation\n");
        s.append("library_name: transformers\n");
        String[] original = splitFrontMatter(originalCard);
        for (String line : carried(original[0])) s.append(line).append('\n');
        RunRecord.Input in = r.input();
        RunRecord.Output out = r.output();
        RunSettings st = r.settings();
        s.append("---\n\n# ").append(baseModel).append(", ").append(in.layers()).append(" \u2192 ")
                .append(out.layers()).append(" layers (").append(method).append(d.isMissingNode() ? "" : ", distilled").append(")\n\n");
        s.append(f("`%s` with %d of its %d decoder layers %s by come4j's `%s` method", baseModel,
                in.layers() - out.layers(), in.layers(), removal ? "removed" : "merged away", method));
        s.append(d.isMissingNode() ? "" : ", the merged layers then trained by hierarchical distillation").append(". It loads with ")
                .append("`transformers` as the original does (same architecture, fewer layers).\n\n## How it was made\n\n| | |\n|---|---|\n");
        row(s, "method", method + (METHODS.containsKey(base(method)) ? " (" + METHODS.get(base(method)) + ")" : ""));
        row(s, "layers", in.layers() + " \u2192 " + out.layers());
        row(s, "parameters", f("%,d \u2192 %,d (sparsity %.2f%%%s)", in.parameters(), out.parameters(), 100 * out.sparsity(),
                st.sparsity() != null ? f(", %.2f%% requested", 100 * st.sparsity()) : ""));
        RunSettings.Calibration cal = st.calibration();
        row(s, "calibration", calibration(cal));
        if (cal != null && cal.calib() != null)
            for (HashedFile c : cal.calib()) row(s, "calibration text", "`" + c.file() + "` (sha256 `" + c.sha256() + "`)");
        JsonNode nll = MergeReport.calibNll(m);
        if (nll != null && nll.path("before").isNumber())
            row(s, "calibration NLL (mean per token)", MergeReport.nll(nll.path("before")) + " before \u2192 " + MergeReport.nll(nll.path("after")) + " after");
        s.append("\nCommand:\n\n```sh\n").append(java.util.Objects.toString(r.command(), "")).append("\n```\n\n");
        tree(s, m);
        if (!d.isMissingNode()) distillation(s, d);
        s.append("## Files\n\n- `come-merge.json`: the full record of the compression (every step, statistic and tensor hash)\n");
        if (distill != null) s.append("- `come-distill.json`: the distillation's settings and the loss of every training step\n");
        s.append("- `report.html`: the same as a page with charts (opens offline)\n");
        if (!original[1].isBlank())
            s.append("\n## Original model card\n\nThe card of `").append(baseModel).append("`, as it came with the model:\n\n")
                    .append(demoted(original[1].strip())).append('\n');
        return s.toString();
    }

    /** Markdown headings one level down (outside code fences), so the original card's title sits under ours. */
    static String demoted(String markdown) {
        StringBuilder out = new StringBuilder();
        boolean fence = false;
        for (String line : markdown.split("\n", -1)) {
            if (line.startsWith("```") || line.startsWith("~~~")) fence = !fence;
            out.append(!fence && line.matches("#{1,5} .*") ? "#" + line : line).append('\n');
        }
        return out.substring(0, out.length() - 1);
    }

    /** The Hub id: config.json's `_name_or_path` when it is one, else the cache folder it lies in, else the folder name. */
    static String hubId(String config, Path base) {
        if (config != null) {
            try {
                String p = new ObjectMapper().readTree(config).path("_name_or_path").asText();
                if (HUB_ID.matcher(p).matches()) return p;
            } catch (IOException e) { // an unreadable config names nothing; the checkpoint was read already
            }
        }
        for (Path p = base.toAbsolutePath(); p != null; p = p.getParent()) {
            Matcher c = p.getFileName() == null ? null : CACHE.matcher(p.getFileName().toString());
            if (c != null && c.matches()) return c.group(1) + "/" + c.group(2);
        }
        Path name = base.toAbsolutePath().normalize().getFileName();
        return name == null ? base.toString() : name.toString();
    }

    private static String calibration(RunSettings.Calibration cal) {
        if (cal == null) return "none (the method reads no calibration text)";
        List<String> parts = new ArrayList<>();
        parts.add(f("%,d windows \u00d7 %d tokens = %,d tokens", cal.windows(), MergeReport.orZero(cal.seqLen()), MergeReport.orZero(cal.tokens())));
        if (cal.rows() != null) parts.add(f("from %,d samples", cal.rows()));
        if (cal.seed() != null) parts.add("seed " + cal.seed());
        return String.join(", ", parts);
    }

    /** One row per output layer: the original layers it stands for and how it was made; removed layers listed. */
    private static void tree(StringBuilder s, JsonNode m) {
        s.append("## Merge tree\n\n| output layer | original layers | how |\n|---|---|---|\n");
        JsonNode tree = m.path("tree");
        Map<Integer, List<String>> steps = new java.util.TreeMap<>();
        for (JsonNode st : m.path("steps")) {
            int first = st.path("original").path(0).path(0).asInt();
            for (int j = 0; j < tree.size(); j++)
                if (tree.get(j).path(0).asInt() == first) steps.computeIfAbsent(j, k -> new ArrayList<>()).add(st.path("step").asText());
        }
        boolean[] kept = new boolean[m.path("input").path("layers").asInt()];
        for (int j = 0; j < tree.size(); j++) {
            JsonNode e = tree.get(j);
            for (JsonNode o : e) if (o.asInt() < kept.length) kept[o.asInt()] = true;
            String how = e.size() == 1 ? "kept" : "merged" + (steps.containsKey(j) ? " (step " + String.join(", ", steps.get(j)) + ")" : "");
            s.append("| ").append(j).append(" | ").append(MergeReport.ranges(e)).append(" | ").append(how).append(" |\n");
        }
        List<String> removed = new ArrayList<>();
        for (int i = 0; i < kept.length; i++) if (!kept[i]) removed.add(Integer.toString(i));
        if (!removed.isEmpty()) s.append("\nRemoved original layers: ").append(String.join(", ", removed)).append(".\n");
        s.append('\n');
    }

    private static void distillation(StringBuilder s, JsonNode node) {
        DistillRecord d = DistillRecord.of(node);
        DistillSettings st = d.settings();
        DistillSettings.Training t = st.training();
        s.append("## Distillation\n\n");
        if (t.steps() == 0) { // the end-to-end stage alone, on an already distilled student
            s.append("The layer-wise stage was skipped (`--steps 0`).");
            if (d.command() != null) s.append("\n\n```sh\n").append(d.command()).append("\n```");
            s.append("\n\n");
            endToEnd(s, d.e2e());
            return;
        }
        boolean auto = t.searched(); // searched per layer, early stopping on held-out windows (issue 17)
        s.append(f("Schedule %s, %s loss, %s%d steps of %d windows \u00d7 %d tokens per merged layer (%,d tokens), peak learning rate %s.",
                st.schedule(), t.loss(), auto ? "up to " : "", t.steps(), t.batch(), st.data().seqLen(), st.data().tokensPerLayer(),
                auto ? "chosen per layer on held-out windows (below), with early stopping" : Html.num(((Number) t.lr()).doubleValue())));
        if (st.data().data() != null)
            for (HashedFile file : st.data().data()) s.append(" Training text: `").append(file.file()).append("`.");
        if (d.command() != null) s.append("\n\n```sh\n").append(d.command()).append("\n```");
        s.append("\n\n| layer | original layers | loss at the first step | loss over the last 10% of steps |")
                .append(auto ? " learning rate | best held-out step / steps run |\n|---|---|---|---|---|---|\n" : "\n|---|---|---|---|\n");
        for (DistillRecord.Layer layer : d.layers()) {
            DistillRecord.Run l = layer.run();
            s.append("| ").append(layer.layer()).append(" | ").append(layer.block().get(0)).append('\u2013').append(layer.block().get(1))
                    .append(" | ").append(Html.num(l.lossFirst())).append(" | ").append(Html.num(l.lossLast())).append(" |");
            if (auto) s.append(' ').append(Html.num(l.lr())).append(" | ").append(l.bestStep()).append(" / ")
                    .append(l.stepsRun()).append(" |");
            s.append('\n');
        }
        s.append('\n');
        if (d.e2e() != null) endToEnd(s, d.e2e());
    }

    /** The end-to-end stage (issue 17): the layers, the rate chosen and the held-out KL before and at its best. */
    private static void endToEnd(StringBuilder s, DistillRecord.EndToEnd stage) {
        DistillRecord.Run e = stage.run();
        s.append(f("End to end: merged layers %s trained together on KL to the teacher's logits, learning rate %s (searched on held-out windows);"
                        + " held-out KL %s at the start, %s at step %d of %d run.\n\n",
                String.join(", ", stage.layers().stream().map(String::valueOf).toList()), Html.num(e.lr()),
                Html.num(e.heldOut().getFirst().loss()), Html.num(e.heldOutBest()), e.bestStep(), e.stepsRun()));
    }

    /** The card's YAML front matter (without its fences) and its body; no front matter: empty and the whole text. */
    static String[] splitFrontMatter(String card) {
        if (card == null) return new String[] {"", ""};
        String t = card.replace("\r\n", "\n");
        if (t.startsWith("---\n")) {
            int end = t.indexOf("\n---", 3);
            if (end > 0) {
                int body = t.indexOf('\n', end + 4);
                return new String[] {t.substring(4, end + 1), body < 0 ? "" : t.substring(body + 1)};
            }
        }
        return new String[] {"", t};
    }

    /** The top-level keys of {@link #CARRIED} with their indented or list continuation lines, as written. */
    private static List<String> carried(String frontMatter) {
        List<String> out = new ArrayList<>();
        boolean in = false;
        for (String line : frontMatter.split("\n")) {
            boolean top = !line.isEmpty() && !Character.isWhitespace(line.charAt(0)) && !line.startsWith("-");
            if (top) in = CARRIED.contains(line.split(":", 2)[0].strip());
            if (in && !line.isBlank()) out.add(line);
        }
        return out;
    }

    private static String base(String method) {
        int plus = method.indexOf("+distill");
        return plus > 0 ? method.substring(0, plus) : method;
    }

    private static String yaml(String v) {
        return v.matches("[\\w./-]+") ? v : "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static void row(StringBuilder s, String k, String v) {
        s.append("| ").append(k).append(" | ").append(v.replace("|", "\\|")).append(" |\n");
    }

    private static String read(Path f) throws IOException {
        return Files.isRegularFile(f) ? new String(Files.readAllBytes(f), StandardCharsets.UTF_8) : null;
    }
}
