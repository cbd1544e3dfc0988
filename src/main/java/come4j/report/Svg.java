package come4j.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Small inline SVG charts for the HTML reports: no script and nothing fetched, so a page works offline. Every chart has
 * a y axis with several ticks, titles on both axes, and its data marks (bars, markers) in class "mark"; charts are
 * {@code <svg class="chart">}, diagrams {@code <svg class="diagram">}. Every number goes through {@link Locale#ROOT} so
 * the bytes do not depend on the machine's locale.
 */
final class Svg {
    static final int W = 720, LEFT = 78, RIGHT = 16, TOP = 14, BOTTOM = 46;
    static final String BLUE = "#4263eb", ORANGE = "#d9480f", GREEN = "#2b8a3e", GREY = "#868e96";
    /** Series colours of {@link #series}, distinct for up to twelve series; marker shapes and dashes tell them apart too. */
    private static final String[] PALETTE = {ORANGE, BLUE, GREEN, "#ae3ec9", "#1098ad", "#f59f00", "#e64980", "#495057",
            "#74b816", "#7048e8", "#0b7285", "#c92a2a"};
    private static final String[] DASHES = {"", "7,3", "2,3", "9,3,2,3", "4,4", "12,4"};
    private static final int SHAPES = 5;

    private Svg() {}

    /**
     * A y axis: linear with ticks every {@code step}, or log10 (step unused) when the values span more than
     * {@link #LOG_SPAN} (BI of layer 0 against the rest).
     */
    record Scale(double lo, double hi, boolean log, double step) {
        static final double LOG_SPAN = 30;

        /** Linear from 0 (or below, for negatives) up to a round tick above the largest value. */
        static Scale linear(double min, double max) {
            double lo = Math.min(0, min), hi = max > lo ? max : lo + 1;
            return snapped(lo, hi);
        }

        /** A range around the values (not from 0): for NLL and perplexity curves, whose changes are small. */
        static Scale around(double min, double max) {
            if (!(max > min)) return Double.isFinite(min) ? around(min - Math.max(0.5, Math.abs(min) * 0.05), max + Math.max(0.5, Math.abs(max) * 0.05))
                    : snapped(0, 1);
            return snapped(min, max);
        }

        private static Scale snapped(double lo, double hi) {
            double step = niceStep(hi - lo);
            return new Scale(Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step, false, step);
        }

        /** Whole decades from the one holding {@code minPositive} to the one above {@code max}. */
        static Scale log(double minPositive, double max) {
            double lo = Math.pow(10, Math.floor(Math.log10(minPositive))), hi = Math.pow(10, Math.ceil(Math.log10(max) + 1e-9));
            return new Scale(lo, hi, true, 0);
        }

        /**
         * Log when every value is positive and they span more than {@link #LOG_SPAN}, its lowest decade at least a factor
         * 2 under the smallest value so that its bar still shows; linear from 0 otherwise.
         */
        static Scale auto(List<Double> values) {
            double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
            for (Double v : values)
                if (v != null) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            if (!Double.isFinite(min)) return snapped(0, 1);
            return min > 0 && max / min > LOG_SPAN ? log(min / 2, max) : linear(min, max);
        }

        /** 0 at the bottom of the plot, 1 at the top; clipped to the axis. */
        double frac(double v) {
            double f = log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo);
            return Math.max(0, Math.min(1, f));
        }

        List<Double> ticks() {
            List<Double> t = new ArrayList<>();
            if (log) {
                int d0 = (int) Math.round(Math.log10(lo)), d1 = (int) Math.round(Math.log10(hi));
                int[] mult = d1 - d0 <= 2 ? new int[] {1, 2, 5} : new int[] {1};
                int every = Math.max(1, (d1 - d0 + 7) / 8); // at most about eight decade labels
                for (int d = d0; d <= d1; d += every)
                    for (int m : mult)
                        if (m * Math.pow(10, d) <= hi * (1 + 1e-9)) t.add(m * Math.pow(10, d));
            } else {
                for (int i = 0; lo + i * step <= hi + step * 1e-9; i++) t.add(lo + i * step);
            }
            return t;
        }

        /** 1, 2 or 5 times a power of ten, giving about four to eight ticks over {@code range}. */
        private static double niceStep(double range) {
            double raw = range / 4, p = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / p;
            return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * p;
        }

        /** A linear tick label with as many decimals as the step needs, the same for every tick of the axis. */
        String label(double v) {
            return f("%." + Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9)) + "f", v);
        }
    }

    /**
     * One bar per value, x = index, on {@link Scale#auto}. A null is a gap marked "x" (an excluded candidate); the
     * highlighted index (or -1) is orange and gets a triangle under the axis, so it shows even when its value is a gap.
     */
    static String bars(List<Double> values, int highlight, String yTitle, String xTitle, int h) {
        Scale sc = Scale.auto(values);
        StringBuilder s = new StringBuilder(open(h, "chart"));
        axes(s, h, sc, yTitle, xTitle);
        int n = values.size(), every = labelEvery(n, Integer.toString(n).length());
        double step = plotW() / Math.max(1, n), base = h - BOTTOM;
        for (int i = 0; i < n; i++) {
            double x = LEFT + i * step, mid = x + step / 2;
            Double v = values.get(i);
            if (v == null) {
                s.append("<g><title>").append(i).append(": excluded</title>")
                        .append(text(mid, base - 4, "x", "middle", GREY)).append("</g>");
            } else {
                double bh = Math.max(1, plotH(h) * sc.frac(v)); // a value at the axis still shows as a line
                s.append(f("<rect class=\"mark\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%d: %s</title></rect>",
                        x + step * 0.15, base - bh, step * 0.7, bh, i == highlight ? ORANGE : BLUE, i, Html.num(v)));
            }
            if (i == highlight)
                s.append(f("<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>", mid, base + 2, mid - 4, base + 9, mid + 4, base + 9, ORANGE));
            if (i % every == 0) s.append(text(mid, base + 20, Integer.toString(i), "middle", "#333"));
        }
        return s.append("</svg>").toString();
    }

    /**
     * A line through (x[i], y[i]) with a marker per point (null y: no marker, the line skips it) on a y range around the
     * values, x labels under the points, and the highlighted point (or -1) orange.
     */
    static String line(double[] x, List<Double> y, List<String> xLabels, int highlight, String yTitle, String xTitle, int h) {
        double y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
        for (Double v : y)
            if (v != null) {
                y0 = Math.min(y0, v);
                y1 = Math.max(y1, v);
            }
        Scale sc = Scale.around(y0, y1);
        StringBuilder s = new StringBuilder(open(h, "chart"));
        axes(s, h, sc, yTitle, xTitle);
        double[] px = xPositions(x);
        StringBuilder pts = new StringBuilder(), dots = new StringBuilder();
        int every = labelEvery(x.length, xLabels.stream().mapToInt(String::length).max().orElse(1));
        for (int i = 0; i < x.length; i++) {
            if (i % every == 0 || i == highlight) s.append(text(px[i], h - BOTTOM + 16, Html.escape(xLabels.get(i)), "middle", "#333"));
            Double v = y.get(i);
            if (v == null) continue;
            double py = py(sc, v, h);
            pts.append(f("%.1f,%.1f ", px[i], py));
            dots.append(f("<circle class=\"mark\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"><title>%s: %s</title></circle>", px[i], py,
                    i == highlight ? "5" : "3", i == highlight ? ORANGE : BLUE, Html.escape(xLabels.get(i)), Html.num(v)));
        }
        s.append(f("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>", BLUE, pts.toString().trim()));
        return s.append(dots).append("</svg>").toString();
    }

    /** One line of {@link #series}: its name, a y per x (null: no point) and optional standard errors (null: none). */
    record Series(String name, List<Double> y, List<Double> stderr) {}

    /**
     * Several lines over shared x values. Each series has its own colour, marker shape and dash pattern, and is shifted
     * a few pixels sideways, so lines that coincide (two methods with the same score) stay visible; error bars are ±1
     * standard error; a legend under the plot. {@code log}: y on a log scale when the values span more than 3× (one
     * method's perplexity far above the others), else a range around the values.
     */
    static String series(double[] x, List<String> xLabels, List<Series> all, boolean log, String yTitle, String xTitle, int h) {
        double y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
        for (Series ser : all)
            for (int i = 0; i < x.length; i++) {
                Double v = ser.y().get(i);
                if (v == null) continue;
                double e = ser.stderr() == null || ser.stderr().get(i) == null ? 0 : ser.stderr().get(i);
                y0 = Math.min(y0, v - e);
                y1 = Math.max(y1, v + e);
            }
        Scale sc = log && y0 > 0 && y1 / y0 > 3 ? Scale.log(y0, y1) : Scale.around(y0, y1); // log only where it helps
        int perRow = 4, legend = 20 * ((all.size() + perRow - 1) / perRow) + 6;
        StringBuilder s = new StringBuilder(open(h + legend, "chart"));
        axes(s, h, sc, yTitle + (sc.log() ? " (log scale)" : ""), xTitle);
        double[] px = xPositions(x);
        for (int i = 0; i < x.length; i++) s.append(text(px[i], h - BOTTOM + 16, Html.escape(xLabels.get(i)), "middle", "#333"));
        for (int k = 0; k < all.size(); k++) {
            Series ser = all.get(k);
            String color = PALETTE[k % PALETTE.length], dash = DASHES[k % DASHES.length], name = Html.escape(ser.name());
            double dx = (k - (all.size() - 1) / 2.0) * 7;
            StringBuilder pts = new StringBuilder(), marks = new StringBuilder();
            for (int i = 0; i < x.length; i++) {
                Double v = ser.y().get(i);
                if (v == null) continue;
                double cx = px[i] + dx, cy = py(sc, v, h);
                pts.append(f("%.1f,%.1f ", cx, cy));
                Double e = ser.stderr() == null ? null : ser.stderr().get(i);
                if (e != null && e > 0) {
                    double top = py(sc, v + e, h), bottom = py(sc, v - e, h);
                    marks.append(f("<path d=\"M%.1f %.1fV%.1fM%.1f %.1fh6M%.1f %.1fh6\" stroke=\"%s\" stroke-width=\"1\" fill=\"none\"/>",
                            cx, top, bottom, cx - 3, top, cx - 3, bottom, color));
                }
                String tip = name + ", " + Html.escape(xLabels.get(i)) + ": " + Html.num(v) + (e != null && e > 0 ? " \u00b1 " + Html.num(e) : "");
                marks.append(marker(k, "mark", cx, cy, color, tip));
            }
            s.append(f("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s points=\"%s\"/>", color,
                    dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\"", pts.toString().trim())).append(marks);
            double lx = LEFT + (k % perRow) * 160.0, ly = h + 6 + 20.0 * (k / perRow);
            s.append(f("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\"%s/>", lx, ly + 6, lx + 28, ly + 6,
                    color, dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\""));
            s.append(marker(k, "key", lx + 14, ly + 6, color, name)).append(text(lx + 34, ly + 10, name, "start", "#333"));
        }
        return s.append("</svg>").toString();
    }

    /** Series k's marker (class "mark" on the plot, "key" in the legend): circle, square, triangle, diamond or inverted triangle. */
    private static String marker(int k, String cls, double x, double y, String color, String tip) {
        String title = "<title>" + tip + "</title>";
        return switch (k % SHAPES) {
            case 0 -> f("<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\">%s</circle>", cls, x, y, color, title);
            case 1 -> f("<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"7\" height=\"7\" fill=\"%s\">%s</rect>", cls, x - 3.5, y - 3.5, color, title);
            case 2 -> polygon(cls, color, title, x, y - 4.5, x - 4.5, y + 3.5, x + 4.5, y + 3.5);
            case 3 -> polygon(cls, color, title, x, y - 5, x - 4.5, y, x, y + 5, x + 4.5, y);
            default -> polygon(cls, color, title, x, y + 4.5, x - 4.5, y - 3.5, x + 4.5, y - 3.5);
        };
    }

    private static String polygon(String cls, String color, String title, double... xy) {
        StringBuilder p = new StringBuilder();
        for (int i = 0; i < xy.length; i += 2) p.append(f("%s%.1f,%.1f", i == 0 ? "" : " ", xy[i], xy[i + 1]));
        return f("<polygon class=\"%s\" points=\"%s\" fill=\"%s\">%s</polygon>", cls, p, color, title);
    }

    /** x values spread over the plot width (a single x in the middle). */
    private static double[] xPositions(double[] x) {
        double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            x0 = Math.min(x0, v);
            x1 = Math.max(x1, v);
        }
        double[] px = new double[x.length];
        double w = plotW() - 40;
        for (int i = 0; i < x.length; i++) px[i] = LEFT + 20 + (x1 > x0 ? (x[i] - x0) * w / (x1 - x0) : w / 2);
        return px;
    }

    private static double py(Scale sc, double v, int h) {
        return h - BOTTOM - plotH(h) * sc.frac(v);
    }

    private static double plotW() {
        return W - LEFT - RIGHT;
    }

    private static double plotH(int h) {
        return h - TOP - BOTTOM;
    }

    static String open(int h, String cls) {
        return f("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"%s\" font-family=\"sans-serif\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\">", cls, W, h, W, h);
    }

    /** Both axes, y ticks with labels and light grid lines, the y title (turned, left of the tick labels) and x title. */
    private static void axes(StringBuilder s, int h, Scale sc, String yTitle, String xTitle) {
        int base = h - BOTTOM;
        List<Double> ticks = sc.ticks();
        // one notation per axis: 1e2 ... 1e6 rather than 100, 1000, 10000, 1e5; 4.00, 4.05, 4.10 rather than 4, 4.05, 4.1
        boolean sci = ticks.stream().anyMatch(t -> t != 0 && (Math.abs(t) < 1e-2 || Math.abs(t) >= 1e5));
        for (double t : ticks) {
            double y = py(sc, t, h);
            s.append(f("<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>", LEFT, y, W - RIGHT, y))
                    .append(text(LEFT - 5, y + 4, sci && t != 0 ? Html.sci(t) : sc.log() ? Html.num(t) : sc.label(t), "end", "#555"));
        }
        s.append(f("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", LEFT, base, W - RIGHT, base));
        s.append(f("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", LEFT, TOP, LEFT, base));
        s.append(f("<text class=\"axis-title\" transform=\"translate(14,%.1f) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\" fill=\"#333\">%s</text>",
                TOP + (base - TOP) / 2.0, Html.escape(yTitle)));
        s.append(f("<text class=\"axis-title\" x=\"%.1f\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" fill=\"#333\">%s</text>",
                LEFT + plotW() / 2, h - 6, Html.escape(xTitle)));
    }

    /** Label every k-th of n x positions so that labels of up to {@code chars} characters do not overlap. */
    private static int labelEvery(int n, int chars) {
        return Math.max(1, (int) Math.ceil(n * (chars * 6.5 + 10) / (plotW() - 40)));
    }

    static String text(double x, double y, String escaped, String anchor, String color) {
        return f("<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"%s\" fill=\"%s\">%s</text>", x, y, anchor, color, escaped);
    }

    static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
