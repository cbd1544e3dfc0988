package come4j.eval;

/** The few Python string semantics lm-eval's prompts rely on (str.strip, str.capitalize), reproduced exactly. */
final class PyText {
    private PyText() {}

    /** Python's str.isspace for one char (Java's isWhitespace misses U+00A0 and other no-break spaces). */
    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u001c' || c == '\u001d' || c == '\u001e'
                || c == '\u001f' || c == '\u0085';
    }

    static String strip(String s) {
        return rstrip(lstrip(s));
    }

    static String lstrip(String s) {
        int i = 0;
        while (i < s.length() && isSpace(s.charAt(i))) i++;
        return s.substring(i);
    }

    static String rstrip(String s) {
        int j = s.length();
        while (j > 0 && isSpace(s.charAt(j - 1))) j--;
        return s.substring(0, j);
    }

    /** First character in title case, all others lower case. */
    static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int first = s.codePointAt(0), n = Character.charCount(first);
        return new String(Character.toChars(Character.toTitleCase(first))) + s.substring(n).toLowerCase(java.util.Locale.ROOT);
    }
}
