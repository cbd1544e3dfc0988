package come4j.report;

import java.util.List;
import java.util.Locale;

/** Small inline SVG charts (no scripts, no external resources) for the HTML report. */
final class Svg {
    static final int W = 720, H = 220, PAD = 40;

    private Svg() {}

    /** Bars for values (null = a gap marked "x"), one highlighted index (or -1). */
    static String bars(List<Double> values, int highlight, String yLabel) {
        double max = values.stream().filter(v -> v != null).mapToDouble(Double::doubleValue).max().orElse(1);
        if (max <= 0) max = 1;
        StringBuilder s = open(yLabel, max);
        double step = (W - 2.0 * PAD) / values.size();
        for (int i = 0; i < values.size(); i++) {
            double x = PAD + i * step;
            Double v = values.get(i);
            if (v == null) {
                s.append(text(x + step / 2, H - PAD - 4, "x", "middle", "#999"));
            } else {
                double h = (H - 2.0 * PAD) * v / max;
                s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%d: %s</title></rect>",
                        x + 1, H - PAD - h, Math.max(1, step - 2), h, i == highlight ? "#d9480f" : "#4263eb", i, Html.num(v)));
            }
            s.append(text(x + step / 2, H - PAD + 14, Integer.toString(i), "middle", "#333"));
        }
        return s.append("</svg>").toString();
    }

    /** One polyline per series over x = 0..n-1 (each series of the same length), with a legend. */
    static String lines(List<List<Double>> series, List<String> names, List<String> xLabels, String yLabel) {
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (List<Double> ser : series) for (Double v : ser) if (v != null) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        if (!(max > min)) { max = min + 1; }
        StringBuilder s = open(yLabel + " (" + Html.num(min) + " .. " + Html.num(max) + ")", max);
        int n = xLabels.size();
        double step = n > 1 ? (W - 2.0 * PAD) / (n - 1) : 0;
        String[] colors = {"#4263eb", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#0b7285", "#c2255c", "#5c940d"};
        for (int k = 0; k < series.size(); k++) {
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i < series.get(k).size(); i++) {
                Double v = series.get(k).get(i);
                if (v == null) continue;
                double y = H - PAD - (H - 2.0 * PAD) * (v - min) / (max - min);
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", PAD + i * step, y));
                s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>%s</title></circle>",
                        PAD + i * step, y, colors[k % colors.length], Html.num(v)));
            }
            s.append(String.format("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>", colors[k % colors.length], pts.toString().trim()));
            s.append(text(W - PAD, PAD + 12 * k, Html.escape(names.get(k)), "end", colors[k % colors.length]));
        }
        for (int i = 0; i < n; i++) s.append(text(PAD + i * step, H - PAD + 14, Html.escape(xLabels.get(i)), "middle", "#333"));
        return s.append("</svg>").toString();
    }

    private static StringBuilder open(String yLabel, double max) {
        StringBuilder s = new StringBuilder(String.format("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\">", W, H, W, H));
        s.append(String.format("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", PAD, H - PAD, W - PAD, H - PAD));
        s.append(text(PAD, PAD - 12, Html.escape(yLabel), "start", "#333"));
        return s;
    }

    static String text(double x, double y, String escaped, String anchor, String color) {
        return String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"%s\" fill=\"%s\">%s</text>", x, y, anchor, color, escaped);
    }
}
