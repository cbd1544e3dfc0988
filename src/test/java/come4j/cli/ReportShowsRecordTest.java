package come4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.Fixtures;
import come4j.distill.Distilled;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * report.html shows every field a method records (issue 15): for every method of the registry (and distilled forms),
 * every leaf of come-merge.json (its common part, report.RunRecord, and settings included) appears on the page, but
 * the few the page has never drawn ({@link #NOT_DRAWN}).
 */
class ReportShowsRecordTest {
    /**
     * What the page leaves out of the common part: the input's tensor hashes (for audits), the format and the parameters
     * per layer (drawing them would change every report.html written so far).
     */
    private static final Set<String> NOT_DRAWN = Set.of("format", "input.parameters_per_layer", "input.tensors");
    /** A number as the page writes it: plain, with thousands separators, or in scientific notation. */
    private static final Pattern NUMBER = Pattern.compile("(?<![0-9A-Za-z.])-?(\\d{1,3}(,\\d{3})+|\\d+)(\\.\\d+)?(e[-+]?\\d+)?");

    static Stream<String> methods() {
        return Stream.concat(come4j.distill.Methods.names().stream(), Stream.of("come" + Distilled.SUFFIX, "streamline" + Distilled.SUFFIX));
    }

    @ParameterizedTest
    @MethodSource("methods")
    void everyRecordedFieldIsOnThePage(String method, @org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("o"), model = Fixtures.deepened("llama-mha-f32", 8, tmp.resolve("m8"));
        List<String> args = new ArrayList<>(List.of("compress", "--model", model.toString(), "--out", out.toString(), "--target-layers", "6",
                "--method", method, "--calib", CliTest.PPL.toString(), "--calib-seq-len", "32", "--granularity", "2"));
        if (method.endsWith(Distilled.SUFFIX)) args.addAll(List.of("--distill-data", CliTest.PPL.toString(), "--distill-steps", "12"));
        CliTest.Run r = CliTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        JsonNode rec = new ObjectMapper().readTree(out.resolve("come-merge.json").toFile());
        String page = text(Files.readString(out.resolve("report.html")));
        List<BigDecimal> shown = numbers(page);
        List<String> missing = new ArrayList<>();
        int checked = 0;
        for (var e : (Iterable<java.util.Map.Entry<String, JsonNode>>) rec.properties()::iterator) {
            List<String[]> leaves = new ArrayList<>();
            leaves(e.getKey(), e.getValue(), leaves);
            for (String[] leaf : leaves) {
                if (NOT_DRAWN.stream().anyMatch(p -> leaf[0].equals(p) || leaf[0].startsWith(p + "."))) continue;
                JsonNode v = rec.at(leaf[1]);
                checked++;
                if (v.isNumber() ? !shows(shown, leaf[0], v) : v.isTextual() && !page.contains(v.asText())) missing.add(leaf[0] + " = " + v);
            }
        }
        assertTrue(checked > 0, method + " records fields of its own");
        assertEquals(List.of(), missing, method + ": recorded but not on report.html");
    }

    /** Each leaf under {@code node}: its path as the report would name it and as a JSON pointer. */
    private static void leaves(String path, JsonNode node, List<String[]> out) {
        leaves(path, "/" + path, node, out);
    }

    private static void leaves(String path, String pointer, JsonNode node, List<String[]> out) {
        if (node.isObject()) node.properties().forEach(e -> leaves(path + "." + e.getKey(), pointer + "/" + e.getKey(), e.getValue(), out));
        else if (node.isArray()) for (int i = 0; i < node.size(); i++) leaves(path + "[" + i + "]", pointer + "/" + i, node.get(i), out);
        else out.add(new String[] {path, pointer});
    }

    /** The page's text: tags dropped, the entities the report writes turned back into characters. */
    private static String text(String html) {
        return html.replaceAll("<[^>]*>", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
                .replace("&ndash;", "\u2013").replace("&amp;", "&");
    }

    /** Every number on the page. */
    private static List<BigDecimal> numbers(String page) {
        List<BigDecimal> out = new ArrayList<>();
        for (Matcher m = NUMBER.matcher(page); m.find(); ) out.add(new BigDecimal(m.group().replace(",", "")));
        return out;
    }

    /**
     * The one rule for a recorded number x: the page holds x exactly, or x to four significant digits with trailing
     * zeros dropped (Html.num, the report's format for any statistic), or x rounded to the decimals of a number that
     * shows at least three significant digits (the fixed precisions: ratios to three decimals, NLL to four). Measured
     * seconds are shown to a tenth (they differ between runs).
     */
    private static boolean shows(List<BigDecimal> shown, String path, JsonNode v) {
        // a sparsity is shown in percent to two decimals
        BigDecimal x = path.endsWith("sparsity") ? v.decimalValue().movePointRight(2) : v.decimalValue(), four = x.round(new MathContext(4)).stripTrailingZeros();
        for (BigDecimal d : shown) {
            boolean fixed = path.endsWith("seconds") || d.precision() >= 3;
            if (d.compareTo(x) == 0 || d.compareTo(four) == 0 || v.isFloatingPointNumber() && d.scale() > 0
                    && fixed && x.setScale(d.scale(), RoundingMode.HALF_UP).compareTo(d) == 0)
                return true;
        }
        return false;
    }
}
