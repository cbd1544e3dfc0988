package come4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class BenchReportTest {
    /** Two methods at two sparsities on one text, one cell missing (still running) and one failed. */
    static ObjectNode bench() {
        ObjectNode b = new ObjectMapper().createObjectNode();
        b.put("model", "/m").put("layers", 12).put("command", "come bench ...");
        b.putArray("methods").add("come").add("shortgpt");
        b.putArray("sparsities").add(0.1).add(0.2);
        b.putArray("ppl").addObject().put("label", "sotu/test.txt").put("windows", 734).put("seq_len", 256);
        b.putObject("shared").put("first_pass_seconds", 4.0).put("first_pass_requests", 3).put("first_pass_seconds_saved", 8.0)
                .put("cells_compressed", 3).put("cells_reused", 0).put("evaluations", 4);
        var cells = b.putArray("cells");
        cell(cells.addObject(), "base", 0, 12, 82.639);
        cell(cells.addObject(), "come", 0.1, 11, 83.295);
        cell(cells.addObject(), "come", 0.2, 9, 86.917);
        cell(cells.addObject(), "shortgpt", 0.1, 11, 84.0);
        b.putArray("failed").addObject().put("method", "shortgpt").put("sparsity", 0.2).put("error", "boom");
        return b;
    }

    static void cell(ObjectNode c, String m, double s, int layers, double ppl) {
        c.put("method", m).put("sparsity", s).put("layers", layers).put("achieved_sparsity", s == 0 ? 0 : 0.067 * (12 - layers))
                .put("compress_seconds", 1.25).put("eval_seconds", 2.5);
        c.putObject("ppl").putObject("sotu/test.txt").put("ppl", ppl);
    }

    @Test
    void markdownPivotsMethodsAgainstSparsity() {
        String md = BenchReport.markdown(bench());
        assertTrue(md.contains("The first calibration pass (4.0 s) ran once and served 3 method runs (8.0 s saved)."), md);
        assertTrue(md.contains("| method | dense (12 layers) | 0.10 (11 layers) | 0.20 (9 layers) |\n"), md);
        assertTrue(md.contains("| come | 82.639 | 83.295 | 86.917 |\n"), md);
        assertTrue(md.contains("| shortgpt | 82.639 | 84.000 | \u2013 |\n"), md);
        assertTrue(md.contains("| come | 0.20 | 9 | 20.1% | 86.917 | 1.3 | 2.5 |\n"), md);
        assertTrue(md.contains("| shortgpt | 0.20 | failed: boom |"), md);
    }

    @Test
    void htmlChartHasALinePerMethodThroughTheDenseModel() {
        String html = BenchReport.html(bench());
        String svg = html.substring(html.indexOf("<svg"), html.indexOf("</svg>"));
        assertEquals(2, svg.split("<polyline").length - 1);
        assertEquals(3, svg.split("<circle class=\"mark\"").length - 1, "come (circles): dense, 0.1, 0.2");
        assertEquals(2, svg.split("<rect class=\"mark\"").length - 1, "shortgpt (squares): dense, 0.1");
        assertTrue(svg.contains("<title>come, 0.20: 86.92</title>") && svg.contains(">shortgpt</text>"), svg);
        assertTrue(svg.contains("stroke-dasharray=\"7,3\""), "the second line dashed");
        assertTrue(html.contains("<h2>Perplexity on sotu/test.txt</h2>") && html.contains("<td>86.917</td>"), html);
    }
}
