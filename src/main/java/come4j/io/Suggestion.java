package come4j.io;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/** "Did you mean ...?" for a mistyped name (an option, a command, a method, a task, a loss). */
public final class Suggestion {
    private Suggestion() {}

    /**
     * The name closest to {@code given} by edit distance (insertions, deletions, substitutions and swaps of adjacent
     * characters, ignoring case and the separators - _ +), when close enough to be a typo: at most a third of the
     * name's length, at least 2; or a name it begins (3 characters or more).
     */
    public static Optional<String> closest(String given, Collection<String> names) {
        String g = plain(given), best = null;
        int bestDistance = Integer.MAX_VALUE, bestRaw = Integer.MAX_VALUE;
        for (String n : names) {
            String p = plain(n);
            int d = g.length() >= 3 && p.startsWith(g) ? 0 : distance(g, p), raw = distance(given, n);
            if (!n.equals(given) && d <= Math.max(2, p.length() / 3) && (d < bestDistance || d == bestDistance && raw < bestRaw)) {
                best = n;
                bestDistance = d;
                bestRaw = raw;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Lower case without separators, so that "comep" is closest to "come-p" and "--modle" to "--model". */
    private static String plain(String name) {
        return name.toLowerCase(Locale.ROOT).replaceAll("[-_+ ]", "");
    }

    /** " (did you mean X?)" with the closest name, or "" when none is close. */
    public static String didYouMean(String given, Collection<String> names) {
        return closest(given, names).map(n -> " (did you mean " + n + "?)").orElse("");
    }

    /** "unknown WHAT 'given' (did you mean X?); one of a, b, c" as bad input (exit 2). */
    public static BadInputException unknown(String what, String given, Collection<String> names) {
        return new BadInputException(null, "unknown " + what + " '" + given + "'" + didYouMean(given, names) + "; one of "
                + String.join(", ", names));
    }

    /** Optimal string alignment distance: Levenshtein plus transposition of two adjacent characters. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) d[i][0] = i;
        for (int j = 0; j <= b.length(); j++) d[0][j] = j;
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1))
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
        return d[a.length()][b.length()];
    }
}
