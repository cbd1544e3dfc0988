package come4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MergeReportTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String COMMAND = "come compress --model \"/m/<a&b>\" --out 'x y' --target-layers 8";

    /**
     * 12 layers -> 8 in four steps, as the merger would record them: step 2 has an excluded (null) pair (the layer
     * merged at step 1 may not merge again), step 3 is a CoMe-P step with candidates, step 4 a fallback (every pair
     * excluded, so the merger chose among all of them).
     */
    static JsonNode record() {
        ObjectNode m = JSON.createObjectNode();
        m.put("format", "come4j-merge/2").put("method", "come-p").put("command", COMMAND);
        m.putObject("input").put("dir", "/models/<tiny>").put("architecture", "LlamaForCausalLM").put("layers", 12)
                .put("dtype", "BF16").put("parameters", 10803456).put("parameters_per_layer", 725504);
        m.putObject("output").put("layers", 8).put("parameters", 7901440).put("sparsity", 0.2686);
        ObjectNode st = m.putObject("settings");
        st.put("target_layers", 8).put("sparsity", 0.3);
        st.putArray("calib").addObject().put("file", "calib.txt").put("sha256", "ab12");
        st.put("calib_samples", 256).put("rows", 40).put("seq_len", 512).put("seed", 10).put("batch", 2).put("windows", 37)
                .put("tokens", 18944).put("official_gqa_tiling", false).put("granularity", 4).put("sbi_tokens", "all")
                .put("remerge_fallback", "argmin_all");
        // merged originals: 3+4, 8+9, 0+1, 5+6; a pair touching an already merged layer is excluded (null)
        ArrayNode tree = m.putArray("tree");
        for (int[] e : new int[][] {{0, 1}, {2}, {3, 4}, {5, 6}, {7}, {8, 9}, {10}, {11}}) ints(tree.addArray(), e);
        ArrayNode steps = m.putArray("steps");
        step(steps, 1, 12, 3, new int[][] {{3}, {4}}, new Double[] {.5, .4, .3, .01, .2, .3, .4, .5, .1, .6, .7}, false, 3.50, 3.52);
        step(steps, 2, 11, 7, new int[][] {{8}, {9}}, new Double[] {.5, .4, null, null, .2, .3, .4, .05, .6, .7}, false, 3.52, 3.55);
        ObjectNode s3 = step(steps, 3, 10, 0, new int[][] {{0}, {1}}, new Double[] {.02, .4, null, null, .2, .3, null, null, .7}, false, 3.55, 3.61);
        ArrayNode cand = s3.putArray("candidates");
        double[][] c = {{0, 3.70}, {.25, 3.64}, {.5, 3.61}, {.75, 3.63}, {1, 3.68}};
        for (double[] x : c) cand.addObject().put("ratio", x[0]).put("nll", x[1]);
        s3.putArray("ratio").add(.5).add(.5);
        // a fallback step records the SBI of every pair (all were excluded, so all were candidates again)
        step(steps, 4, 9, 3, new int[][] {{5}, {6}}, new Double[] {.3, .4, .5, .02, .2, .3, .6, .7}, true, 3.61, 3.70);
        m.putObject("calib_nll").put("before", 3.50).put("after", 3.70);
        return m;
    }

    private static ObjectNode step(ArrayNode steps, int n, int before, int a, int[][] orig, Double[] sbi, boolean fallback,
                                   double nllBefore, double nllAfter) {
        ObjectNode s = steps.addObject();
        s.put("step", n).put("layers_before", before);
        s.putArray("pair").add(a).add(a + 1);
        ArrayNode o = s.putArray("original");
        ints(o.addArray(), orig[0]);
        ints(o.addArray(), orig[1]);
        ArrayNode sb = s.putArray("sbi");
        for (Double v : sbi) if (v == null) sb.addNull(); else sb.add(v);
        ArrayNode bi = s.putArray("bi");
        for (int i = 0; i < before; i++) bi.add(i == 0 ? 0.9 : 0.05 + 0.01 * i);
        s.putArray("ratio").add(0.41).add(0.59);
        s.put("fallback", fallback);
        s.putObject("kept").putArray("heads").add(2).add(2);
        ((ObjectNode) s.get("kept")).putArray("channels").add(282).add(406);
        ObjectNode h = s.putObject("heads"), ch = s.putObject("channels");
        ints(h.putArray("a"), new int[] {0, 2});
        ints(h.putArray("b"), new int[] {1, 3});
        ints(ch.putArray("a"), new int[] {5, 9, 11});
        ints(ch.putArray("b"), new int[] {0, 1, 2, 7});
        s.put("calib_nll_before", nllBefore).put("calib_nll_after", nllAfter).put("seconds", 1.25 * n);
        return s;
    }

    private static void ints(ArrayNode a, int[] v) {
        for (int x : v) a.add(x);
    }

    @Test
    void selfContainedDeterministicPageWithEverySection(@TempDir Path tmp) throws Exception {
        JsonNode m = record();
        Path a = tmp.resolve("a.html"), b = tmp.resolve("b.html");
        MergeReport.writeHtml(m, a);
        MergeReport.writeHtml(JSON.readTree(JSON.writeValueAsString(m)), b); // a re-read record, as from come-merge.json
        String html = Files.readString(a);
        assertEquals(html, Files.readString(b), "same record, same bytes");
        assertTrue(html.startsWith("<!DOCTYPE html>") && html.endsWith("</body></html>\n"));
        assertBalanced(html);
        for (String title : new String[] {"Block influence per layer", "SBI per candidate pair", "Merge tree", "Calibration NLL per step",
                "CoMe-P candidates, step 3", "<h2>Steps</h2>"})
            assertTrue(html.contains(title), title);
        assertEquals(1, count(html, "CoMe-P candidates, step"), "only the step that has candidates");
        assertTrue(html.contains("come compress --model &quot;/m/&lt;a&amp;b&gt;&quot; --out &#39;x y&#39; --target-layers 8"), "command escaped");
        assertTrue(html.contains("/models/&lt;tiny&gt;") && !html.contains("<tiny>"), "path escaped");
        assertFalse(html.contains("<script"), "no script");
        assertFalse(html.replace("http://www.w3.org/2000/svg", "").contains("http"), "nothing fetched");

        List<String> svgs = svgs(html);
        assertEquals(1 + 4 + 1 + 1 + 1, svgs.size(), "BI, four SBI steps, tree, NLL, candidates");
        assertEquals(12, count(svgs.get(0), "class=\"mark\""), "one bar per original layer");
        assertEquals(11, count(svgs.get(1), "class=\"mark\""), "step 1: every pair a candidate");
        assertEquals(2, count(svgs.get(2), ": excluded</title>"), "step 2: the excluded pairs marked");
        assertEquals(8, count(svgs.get(4), "class=\"mark\""), "fallback step: every pair drawn");
        assertEquals(1, count(svgs.get(4), "fill=\"#d9480f\"><title>3: "), "the fallback's chosen pair marked");
        assertEquals(1, count(svgs.get(1), "fill=\"#d9480f\"><title>3: "), "step 1's chosen bar highlighted");
        String tree = svgs.get(5);
        assertEquals(4, count(tree, "stroke=\"#d9480f\"><title>output layer"), "four merged output layers");
        assertTrue(tree.contains("<title>output layer 5 = originals [8,9]</title>") && tree.contains(">step 2</text>"), tree);
        assertEquals(5, count(svgs.get(6), "<circle"), "NLL: start and four steps");
        assertEquals(1, count(svgs.get(7), "r=\"5\" fill=\"#d9480f\"><title>0.500: 3.61</title>"), "chosen candidate");

        String table = html.substring(html.indexOf("<h2>Steps</h2>"));
        assertEquals(4, count(table, "<details>"), "channel indices collapsible, per step");
        assertTrue(table.contains("<td>2</td><td>7+8</td><td>[8]+[9]</td><td>0.410 / 0.590</td><td>no</td><td>2 [0, 2] | 2 [1, 3]</td><td>3 | 4<details>"), table);
        assertTrue(table.contains("<td>3.6100 \u2192 3.7000</td><td class=\"n\"><span class=\"t\">5.0 s</span></td>"), table);
        assertTrue(html.contains("<tr><th>merge steps</th><td><span class=\"t\">12.5 s</span> in all</td></tr>"), "the steps' times summed");
    }

    @Test
    void terminalSummaryHasOneLinePerStep() {
        String[] lines = summary(record()).split("\n");
        assertEquals(1 + 4 + 2, lines.length, String.join("\n", lines)); // header, steps, tree, NLL
        assertTrue(lines[0].startsWith("step  pair  original layers  ratio a/b    heads a+b  channels a+b  calibration NLL"), lines[0]);
        String[] pairs = {"3+4", "7+8", "0+1", "3+4"}, originals = {"[3]+[4]", "[8]+[9]", "[0]+[1]", "[5]+[6]"};
        for (int i = 0; i < 4; i++) {
            String[] cols = lines[i + 1].trim().split("\\s+");
            assertEquals(String.valueOf(i + 1), cols[0], lines[i + 1]);
            assertEquals(pairs[i], cols[1], lines[i + 1]);
            assertEquals(originals[i], cols[2], lines[i + 1]);
            assertEquals("2+2", cols[4], lines[i + 1]);
            assertEquals("282+406", cols[5], lines[i + 1]);
        }
        assertTrue(lines[1].contains("0.410/0.590") && lines[1].contains("3.5000 -> 3.5200"), lines[1]);
        assertTrue(lines[4].endsWith("3.6100 -> 3.7000  (fallback: every pair excluded)"), lines[4]);
        assertEquals("tree (8 layers): [0-1] [2] [3-4] [5-6] [7] [8-9] [10] [11]", lines[5]);
        assertEquals("calibration NLL: 3.5000 -> 3.7000", lines[6]);
    }

    @Test
    void weightSumWithoutCalibrationAndRemovalBaseline() {
        ObjectNode ws = (ObjectNode) record();
        ws.put("method", "weightsum").remove("calib_nll");
        ws.set("settings", JSON.createObjectNode().put("target_layers", 8));
        for (JsonNode s : ws.get("steps")) {
            ((ObjectNode) s).remove(List.of("kept", "heads", "channels", "candidates"));
            ((ObjectNode) s).putNull("calib_nll_before").putNull("calib_nll_after");
        }
        String html = MergeReport.html(ws);
        assertBalanced(html);
        assertTrue(html.contains("<th>calibration</th><td>none</td>") && html.contains("all (weighted sum)"), html);
        assertFalse(html.contains("Calibration NLL per step") || html.contains("CoMe-P candidates"), "no empty charts");
        String summary = summary(ws);
        assertTrue(summary.contains("2     7+8   [8]+[9]          0.410/0.590  all        all           \u2013 -> \u2013\n"), summary);

        ObjectNode removal = (ObjectNode) record();
        removal.put("method", "shortgpt").remove(List.of("steps", "calib_nll"));
        removal.putArray("removed").add(3).add(9);
        ArrayNode scores = removal.putArray("scores");
        for (int i = 0; i < 12; i++) scores.add(0.1 * i);
        html = MergeReport.html(removal);
        assertBalanced(html);
        assertTrue(html.contains("Layer scores") && html.contains("Merge tree") && !html.contains("<h2>Steps</h2>"), html);
        assertTrue(summary(removal).startsWith("removed: [3,9]\ntree (8 layers): "), summary(removal));
    }

    @Test
    void lacoAndMkaShowTheirSearchAndMerges() {
        ObjectNode laco = (ObjectNode) record();
        laco.put("method", "laco").remove(List.of("steps", "calib_nll"));
        ObjectNode l = laco.putObject("laco");
        l.put("threshold", 0.43034).put("c", 4).put("c_requested", 4).put("i", 1).put("l_low", 0).put("similarity", "mean cos");
        ArrayNode tries = l.putArray("tries");
        ObjectNode t1 = tries.addObject().put("l", 7).put("m", 3), t2 = tries.addObject().put("l", 4).put("m", 3);
        ints(t1.putArray("original"), new int[] {7, 8, 9, 10});
        ints(t2.putArray("original"), new int[] {4, 5, 6, 7});
        t1.put("cosine", 0.1758).put("kept", false);
        t2.put("cosine", 0.4388).put("kept", true);
        l.putArray("search").addObject().put("c", 4).put("threshold", -1).put("layers", 8);
        String html = MergeReport.html(laco);
        assertBalanced(html);
        assertTrue(html.contains("T = 0.430340, C = 4 (requested 4), I = 1, L_low = 0; 1 walks"), html);
        assertTrue(html.contains("<tr><td>7</td><td>3</td><td>[7-10]</td><td>0.175800</td><td>rejected</td></tr>"), html);
        assertTrue(html.contains("<td>[4-7]</td><td>0.438800</td><td>kept (&gt; T)</td>"), html);
        assertTrue(summary(laco).contains("LaCo: T = 0.430340, C = 4, I = 1, L_low = 0, 2 tries\n"), summary(laco));

        ObjectNode mka = (ObjectNode) record();
        mka.put("method", "mka").remove(List.of("steps", "calib_nll"));
        ObjectNode k = mka.putObject("mka");
        ArrayNode rows = k.putArray("similarity");
        for (double[] r : new double[][] {{1, .5, .2}, {.5, 1, .4}, {.2, .4, 1}}) {
            ArrayNode row = rows.addArray();
            for (double v : r) row.add(v);
        }
        ObjectNode m = k.putArray("merges").addObject();
        m.putArray("pair").add(1).add(2);
        ArrayNode o = m.putArray("original");
        ints(o.addArray(), new int[] {1});
        ints(o.addArray(), new int[] {2});
        m.put("s_i", 1.9 / 3).put("s_j", 1.6 / 3).put("alpha", 0.6324768113161517);
        html = MergeReport.html(mka);
        assertBalanced(html);
        assertEquals(3, count(svgs(html).get(0), "class=\"mark\""), "one mean per original layer");
        assertTrue(svgs(html).get(0).contains("<title>1: 0.6333</title>"), "row mean of layer 1");
        assertTrue(html.contains("<tr><td>1+2</td><td>[1]+[2]</td><td>0.6333</td><td>0.5333</td><td>0.632</td></tr>"), html);
        assertTrue(summary(mka).contains("MKA: merged [1]+[2], alpha 0.632\n"), summary(mka));
    }

    /**
     * A field no section shows (a new method's, a later step's BI, a setting the header leaves out) is listed under
     * its path, numbers to four significant digits, times marked as measured; fields a section shows are not listed again.
     */
    @Test
    void fieldsNoSectionShowsAreListedUnderTheirPath() {
        ObjectNode m = (ObjectNode) record();
        m.putObject("new_method").put("score", 0.123456).put("name", "a<b").putArray("per_layer").add(1).add(2.5);
        ((ObjectNode) m.get("new_method")).put("fit_seconds", 2.46);
        ((ObjectNode) m.get("settings")).put("calib_max_len", 512);
        String html = MergeReport.html(m), other = html.substring(html.indexOf("<h2>Other recorded fields</h2>"));
        assertBalanced(html);
        assertTrue(other.contains("<tr><th>new_method.score</th><td>0.1235</td></tr>\n<tr><th>new_method.name</th><td>a&lt;b</td></tr>\n"
                + "<tr><th>new_method.per_layer</th><td>[1, 2.5]</td></tr>\n"), other);
        assertTrue(other.contains("<tr><th>new_method.fit_seconds</th><td><span class=\"t\">2.5 s</span></td></tr>"), "times as times: " + other);
        assertTrue(other.contains("<tr><th>settings.calib_max_len</th><td>512</td></tr>"), other);
        assertTrue(other.contains("<tr><th>steps[1].bi</th><td>[0.9, 0.06, 0.07, "), "BI after the first step: " + other);
        assertFalse(other.contains("steps[0].bi") || other.contains("steps[1].sbi") || other.contains("calib_nll") || other.contains("tree"), other);
    }

    /** Format 1 stored BI and SBI as sums: they are read as means over the tokens (or, for CoMe's SBI, windows) recorded. */
    @Test
    void formatOneSumsAreReadAsMeans() {
        ObjectNode v1 = ((ObjectNode) record()).put("format", "come4j-merge/1");
        ((ObjectNode) v1.get("settings")).put("sbi_tokens", "last");
        JsonNode means = MergeReport.perTokenMeans(v1);
        JsonNode s = v1.get("steps").get(0), m = means.get("steps").get(0);
        assertEquals(s.get("bi").get(2).asDouble() / (37 * 512), m.get("bi").get(2).asDouble(), 1e-18);
        assertEquals(s.get("sbi").get(3).asDouble() / 37, m.get("sbi").get(3).asDouble(), 1e-18);
        assertTrue(means.get("steps").get(1).get("sbi").get(2).isNull(), "excluded pairs stay null");
        JsonNode v2 = record();
        assertSame(v2, MergeReport.perTokenMeans(v2), "format 2 is read as it is");
    }

    @Test
    void rangesShortenRuns() throws Exception {
        assertEquals("[0-5,7,9-10]", MergeReport.ranges(JSON.readTree("[0,1,2,3,4,5,7,9,10]")));
        assertEquals("[3]", MergeReport.ranges(JSON.readTree("[3]")));
    }

    /** Every element that is opened is closed, in order (void HTML elements and self-closed SVG ones aside). */
    private static void assertBalanced(String html) {
        Matcher t = Pattern.compile("<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>").matcher(html);
        List<String> open = new ArrayList<>();
        List<String> voids = List.of("meta", "br", "hr", "img", "input", "link");
        while (t.find()) {
            String name = t.group(2).toLowerCase();
            if (!t.group(3).isEmpty() || t.group(1).isEmpty() && voids.contains(name)) continue;
            if (t.group(1).isEmpty()) open.add(name);
            else assertEquals(open.removeLast(), name, "closing tag at " + t.start());
        }
        assertEquals(List.of(), open, "unclosed");
    }

    private static String summary(JsonNode m) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        MergeSummary.print(m, new PrintStream(buf, true, StandardCharsets.UTF_8));
        return buf.toString(StandardCharsets.UTF_8);
    }

    private static List<String> svgs(String html) {
        List<String> out = new ArrayList<>();
        for (int i = html.indexOf("<svg"); i >= 0; i = html.indexOf("<svg", i + 1)) out.add(html.substring(i, html.indexOf("</svg>", i)));
        return out;
    }

    private static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) n++;
        return n;
    }
}
