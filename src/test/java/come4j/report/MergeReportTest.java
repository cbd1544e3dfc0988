package come4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MergeReportTest {
    static final String RECORD = """
            {"method": "come", "command": "come compress --model <m&m> --out x",
             "input": {"dir": "/in", "architecture": "LlamaForCausalLM", "layers": 4, "dtype": "BF16", "parameters": 1000},
             "output": {"layers": 2, "parameters": 600, "sparsity": 0.4},
             "settings": {"windows": 3, "seq_len": 32, "rows": 10, "seed": 10},
             "tree": [[0], [1, 2, 3]],
             "steps": [
               {"step": 1, "pair": [1, 2], "original": [[1], [2]], "sbi": [0.5, 0.1, 0.3], "bi": [9, 1, 2, 3],
                "ratio": [0.25, 0.75], "fallback": false, "kept": {"heads": [0, 2], "channels": [1, 3]},
                "heads": {"a": [], "b": [0, 1]}, "channels": {"a": [2], "b": [0, 1, 3]},
                "calib_nll_before": 3.0, "calib_nll_after": 3.2},
               {"step": 2, "pair": [1, 2], "original": [[1, 2], [3]], "sbi": [null, null], "bi": [9, 2, 3],
                "ratio": [0.4, 0.6], "fallback": true, "candidates": [{"ratio": 0.0, "nll": 3.5}, {"ratio": 1.0, "nll": 3.4}],
                "calib_nll_before": 3.2, "calib_nll_after": 3.4}],
             "calib_nll": {"before": 3.0, "after": 3.4}}""";

    @Test
    void selfContainedPageWithEverySection(@TempDir Path tmp) throws Exception {
        JsonNode m = new ObjectMapper().readTree(RECORD);
        Path a = tmp.resolve("a.html"), b = tmp.resolve("b.html");
        MergeReport.writeHtml(m, a);
        MergeReport.writeHtml(m, b);
        String html = Files.readString(a);
        assertEquals(html, Files.readString(b), "deterministic");
        for (String title : new String[] {"Block influence per layer", "SBI per candidate pair", "Merge tree", "Calibration NLL per step",
                "CoMe-P candidates, step 2", "Steps and kept units"})
            assertTrue(html.contains(title), title);
        assertTrue(html.contains("come compress --model &lt;m&amp;m&gt; --out x"), "command escaped");
        assertEquals(count(html, "<svg"), count(html, "</svg>"));
        assertTrue(!html.contains("<script") && !html.replace("http://www.w3.org/2000/svg", "").contains("http"), "nothing fetched, no script");
        String bi = html.substring(html.indexOf("Block influence"), html.indexOf("</svg>", html.indexOf("Block influence")));
        assertEquals(4, count(bi, "<rect"), "one bar per layer");
        String step2 = html.substring(html.indexOf("step 2: pair"));
        assertEquals(2, count(step2.substring(0, step2.indexOf("</svg>")), ">x</text>"), "excluded pairs marked");
    }

    @Test
    void terminalSummaryHasOneLinePerStep() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        MergeSummary.print(readRecord(), new PrintStream(buf, true, StandardCharsets.UTF_8));
        String[] lines = buf.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(4, lines.length); // header, two steps, tree
        assertTrue(lines[1].startsWith("1    1+2    [1]+[2]") && lines[1].contains("0+2") && lines[1].contains("3.0000 -> 3.2000"), lines[1]);
        assertTrue(lines[2].contains("[1,2]+[3]") && lines[2].contains("fallback"), lines[2]);
        assertEquals("tree: [[0],[1,2,3]]", lines[3]);
    }

    private static JsonNode readRecord() {
        try {
            return new ObjectMapper().readTree(RECORD);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) n++;
        return n;
    }
}
