package come4j.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The fields of a record that no part of the page shows, each under its path, so that no field is silently missing
 * from report.html (a new method's record included); and the generic table of an array of objects.
 */
final class OtherFields {
    private OtherFields() {}

    /** The rows of every field of {@code m} that {@code shown} (paths as {@link Section#shows}) does not cover; "" when none. */
    static String section(JsonNode m, List<String> shown) {
        Pattern covered = Pattern.compile(String.join("|", shown.stream()
                .map(p -> Pattern.quote(p).replace("[]", "\\E\\[\\d+\\]\\Q") + "(?:[.\\[].*)?").toList()));
        StringBuilder rows = new StringBuilder();
        m.properties().forEach(e -> rows(e.getKey(), e.getValue(), covered, rows));
        return rows.isEmpty() ? "" : "<h2>Other recorded fields</h2>\n<p class=\"note\">What come-merge.json records that no part above "
                + "shows, by its path in the record (docs/come-merge-format.md).</p>\n<table>\n" + rows + "</table>\n";
    }

    private static void rows(String path, JsonNode v, Pattern covered, StringBuilder out) {
        if (covered.matcher(path).matches()) return;
        if (v.isValueNode() || v.isArray() && v.valueStream().allMatch(JsonNode::isValueNode))
            out.append("<tr><th>").append(Html.escape(path)).append("</th><td>") // a measured time, as everywhere on the page
                    .append(path.endsWith("seconds") && v.isNumber() ? MergeReport.time(v.asDouble()) : Html.value(v)).append("</td></tr>\n");
        else if (v.isArray())
            for (int i = 0; i < v.size(); i++) rows(path + "[" + i + "]", v.get(i), covered, out);
        else
            v.properties().forEach(e -> rows(path + "." + e.getKey(), e.getValue(), covered, out));
    }

    /** An array of objects as a table: one column per field of the first, one row per object. */
    static String table(JsonNode objects) {
        List<String> keys = objects.get(0).properties().stream().map(java.util.Map.Entry::getKey).toList();
        StringBuilder b = new StringBuilder("<table><tr>");
        keys.forEach(k -> b.append("<th>").append(Html.escape(k)).append("</th>"));
        b.append("</tr>\n");
        for (JsonNode o : objects) {
            b.append("<tr>");
            keys.forEach(k -> b.append("<td>").append(Html.value(o.path(k))).append("</td>"));
            b.append("</tr>\n");
        }
        return b.append("</table>\n").toString();
    }
}
