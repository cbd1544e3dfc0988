package come4j.report;

import java.util.Locale;

/** Escaping and number formatting shared by the report writers. */
final class Html {
    private Html() {}

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray())
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        return b.toString();
    }

    /**
     * A recorded value as the page shows it where no section formats it otherwise: integers whole, other numbers by
     * {@link #num}, text escaped, arrays as [a, b, ...].
     */
    static String value(com.fasterxml.jackson.databind.JsonNode v) {
        if (v.isArray()) return "[" + String.join(", ", v.valueStream().map(Html::value).toList()) + "]";
        return v.isIntegralNumber() ? v.asText() : v.isNumber() ? num(v.asDouble()) : escape(v.asText());
    }

    /** Four significant digits, plain notation where readable. */
    static String num(double v) {
        if (Math.abs(v) >= 1e4 && Math.abs(v) < 1e9) return String.format(Locale.ROOT, "%.0f", v); // %g turns these to 2.201e+04
        if (v == 0 || Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6) return String.format(Locale.ROOT, "%.4g", v).replaceAll("(\\.\\d*?)0+$", "$1").replaceAll("\\.$", "");
        return sci(v);
    }

    /** Four significant digits in scientific notation, trailing zeros dropped: 1e-4, 2.5e6, 1.219e6. */
    static String sci(double v) {
        return String.format(Locale.ROOT, "%.3e", v).replaceAll("\\.?0+e", "e").replaceAll("e\\+?(-?)0*(\\d)", "e$1$2");
    }
}
