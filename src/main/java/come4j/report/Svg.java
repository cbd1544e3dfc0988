package come4j.report;

import java.util.List;
import java.util.Locale;

/**
 * Small inline SVG charts for the HTML report: no script and nothing fetched, so the page works offline. Every number
 * goes through {@link Locale#ROOT} so the bytes do not depend on the machine's locale.
 */
final class Svg {
    static final int W = 720, PAD = 44;
    static final String BLUE = "#4263eb", ORANGE = "#d9480f", GREEN = "#2b8a3e", GREY = "#868e96";
    /** Series colours of {@link #series}, distinct for up to twelve methods. */
    private static final String[] PALETTE = {ORANGE, BLUE, GREEN, "#ae3ec9", "#1098ad", "#f59f00", "#e64980", "#495057",
            "#74b816", "#7048e8", "#0b7285", "#c92a2a"};

    private Svg() {}

    /**
     * One bar per value, x = index. A null is a gap marked "x" (an excluded candidate); the highlighted index (or -1)
     * is orange and gets a triangle under the axis, so it shows even when its value is a gap.
     */
    static String bars(List<Double> values, int highlight, String yLabel, int h) {
        double max = values.stream().filter(v -> v != null).mapToDouble(Double::doubleValue).max().orElse(0);
        if (!(max > 0)) max = 1;
        StringBuilder s = new StringBuilder(open(h));
        yAxis(s, h, 0, max, yLabel);
        int n = values.size(), every = labelEvery(n);
        double step = (W - 2.0 * PAD) / Math.max(1, n), base = h - PAD;
        for (int i = 0; i < n; i++) {
            double x = PAD + i * step, mid = x + step / 2;
            Double v = values.get(i);
            if (v == null) {
                s.append("<g><title>").append(i).append(": excluded</title>")
                        .append(text(mid, base - 4, "x", "middle", GREY)).append("</g>");
            } else {
                double bh = (h - 2.0 * PAD) * Math.max(0, v) / max;
                s.append(f("<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%d: %s</title></rect>",
                        x + step * 0.1, base - bh, step * 0.8, bh, i == highlight ? ORANGE : BLUE, i, Html.num(v)));
            }
            if (i == highlight)
                s.append(f("<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>", mid, base + 2, mid - 4, base + 9, mid + 4, base + 9, ORANGE));
            if (i % every == 0) s.append(text(mid, base + 22, Integer.toString(i), "middle", "#333"));
        }
        return s.append("</svg>").toString();
    }

    /**
     * A polyline through (x[i], y[i]) with a dot per point (null y: no dot, the line skips it), x labels under the
     * points, and the highlighted point (or -1) orange.
     */
    static String line(double[] x, List<Double> y, List<String> xLabels, int highlight, String yLabel, int h) {
        double y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY, x0 = x.length == 0 ? 0 : x[0], x1 = x0;
        for (int i = 0; i < x.length; i++) {
            x0 = Math.min(x0, x[i]);
            x1 = Math.max(x1, x[i]);
            if (y.get(i) != null) {
                y0 = Math.min(y0, y.get(i));
                y1 = Math.max(y1, y.get(i));
            }
        }
        if (!(y1 > y0)) { // one value (or none): centre it
            y0 = Double.isFinite(y0) ? y0 - 0.5 : 0;
            y1 = y0 + 1;
        }
        StringBuilder s = new StringBuilder(open(h));
        yAxis(s, h, y0, y1, yLabel);
        double plotW = W - 2.0 * PAD - 20, plotH = h - 2.0 * PAD;
        double sx = x1 > x0 ? plotW / (x1 - x0) : 0, cx = x1 > x0 ? 0 : plotW / 2;
        StringBuilder pts = new StringBuilder(), dots = new StringBuilder();
        int every = labelEvery(x.length);
        for (int i = 0; i < x.length; i++) {
            double px = PAD + 10 + cx + (x[i] - x0) * sx;
            if (i % every == 0 || i == highlight) s.append(text(px, h - PAD + 16, Html.escape(xLabels.get(i)), "middle", "#333"));
            Double v = y.get(i);
            if (v == null) continue;
            double py = h - PAD - plotH * (v - y0) / (y1 - y0);
            pts.append(f("%.1f,%.1f ", px, py));
            dots.append(f("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"><title>%s: %s</title></circle>", px, py,
                    i == highlight ? "5" : "3", i == highlight ? ORANGE : BLUE, Html.escape(xLabels.get(i)), Html.num(v)));
        }
        s.append(f("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>", BLUE, pts.toString().trim()));
        return s.append(dots).append("</svg>").toString();
    }

    /**
     * Several polylines over shared x values, one colour per series with a legend under the plot; a null y is no point
     * (the series' line skips it). y on a log scale (labelled with the values themselves), so that methods close to the
     * dense model stay apart when another is ten times worse: for the bench, perplexity against sparsity per method.
     */
    static String series(double[] x, List<String> xLabels, List<String> names, List<List<Double>> ys, String yLabel, int h) {
        double y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
        for (List<Double> y : ys)
            for (Double v : y)
                if (v != null) {
                    y0 = Math.min(y0, Math.log(v));
                    y1 = Math.max(y1, Math.log(v));
                }
        if (!(y1 > y0)) {
            y0 = Double.isFinite(y0) ? y0 - 0.5 : 0;
            y1 = y0 + 1;
        }
        int perRow = 4, legend = 18 * ((names.size() + perRow - 1) / perRow);
        StringBuilder s = new StringBuilder(open(h + legend));
        yAxis(s, h, Math.exp(y0), Math.exp(y1), yLabel + " (log scale)");
        double x0 = x[0], x1 = x[x.length - 1], plotW = W - 2.0 * PAD - 20, plotH = h - 2.0 * PAD;
        for (int i = 0; i < x.length; i++) s.append(text(px(x[i], x0, x1, plotW), h - PAD + 16, Html.escape(xLabels.get(i)), "middle", "#333"));
        for (int k = 0; k < names.size(); k++) {
            String color = PALETTE[k % PALETTE.length], name = Html.escape(names.get(k));
            StringBuilder pts = new StringBuilder(), dots = new StringBuilder();
            for (int i = 0; i < x.length; i++) {
                Double v = ys.get(k).get(i);
                if (v == null) continue;
                double px = px(x[i], x0, x1, plotW), py = h - PAD - plotH * (Math.log(v) - y0) / (y1 - y0);
                pts.append(f("%.1f,%.1f ", px, py));
                dots.append(f("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s, %s: %s</title></circle>", px, py, color, name,
                        Html.escape(xLabels.get(i)), Html.num(v)));
            }
            s.append(f("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>", color, pts.toString().trim())).append(dots);
            double lx = PAD + (k % perRow) * 160.0, ly = h + 4 + 18.0 * (k / perRow);
            s.append(f("<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"4\" fill=\"%s\"/>", lx, ly + 4, color))
                    .append(text(lx + 16, ly + 10, name, "start", "#333"));
        }
        return s.append("</svg>").toString();
    }

    private static double px(double x, double x0, double x1, double plotW) {
        return PAD + 10 + (x1 > x0 ? (x - x0) * plotW / (x1 - x0) : plotW / 2);
    }

    static String open(int h) {
        return f("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\">", W, h, W, h);
    }

    /** The x axis, the y range at its two ends (so a chart can be read without hovering), and the y label. */
    private static void yAxis(StringBuilder s, int h, double lo, double hi, String label) {
        s.append(f("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", PAD, h - PAD, W - PAD, h - PAD));
        s.append(f("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", PAD, PAD, PAD, h - PAD));
        s.append(text(PAD - 4, h - PAD + 4, Html.num(lo), "end", "#555"));
        s.append(text(PAD - 4, PAD + 4, Html.num(hi), "end", "#555"));
        s.append(text(PAD, PAD - 12, Html.escape(label), "start", "#333"));
    }

    /** Label every k-th x so that labels of up to 3 digits do not overlap. */
    private static int labelEvery(int n) {
        return Math.max(1, (int) Math.ceil(n * 22.0 / (W - 2.0 * PAD)));
    }

    static String text(double x, double y, String escaped, String anchor, String color) {
        return f("<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"%s\" fill=\"%s\">%s</text>", x, y, anchor, color, escaped);
    }

    static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
