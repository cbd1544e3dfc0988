package come4j.report;

import come4j.eval.Scores;
import come4j.eval.TaskResult;
import come4j.eval.TaskScores;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** Task scores as a terminal table or JSON (per task: metrics with standard errors, items, seconds; samples on request). */
public final class TaskReport {
    private TaskReport() {}

    public static void table(List<TaskResult> results, PrintStream out) {
        out.printf("%-14s %6s %17s %17s %9s%n", "task", "items", "acc", "acc_norm", "items/s");
        for (TaskResult r : results) {
            out.printf(Locale.ROOT, "%-14s %6d %17s %17s %9.1f%n", r.task().key, r.items(), pct(r.acc()),
                    r.accNorm() == null ? "-" : pct(r.accNorm()), r.items() / r.seconds());
            r.groups().forEach((g, m) -> out.printf(Locale.ROOT, "  %-26s %17s%n", g, pct(m)));
        }
    }

    private static String pct(TaskResult.Metric m) {
        return String.format(Locale.ROOT, "%6.2f ± %5.2f", 100 * m.value(), 100 * m.stderr());
    }

    /** Two models side by side: perplexity (and its ratio) and every task metric with retained % = 100 * B / A. */
    public static void compare(String nameA, Scores a, String nameB, Scores b, PrintStream out) {
        out.printf("A = %s%nB = %s%n%-26s %12s %12s %10s%n", nameA, nameB, "metric", "A", "B", "B / A");
        if (a.ppl() != null)
            out.printf(Locale.ROOT, "%-26s %12.3f %12.3f %9.3fx%n", "perplexity", a.ppl().ppl(), b.ppl().ppl(), b.ppl().ppl() / a.ppl().ppl());
        double sumA = 0, sumB = 0;
        int n = 0;
        if (a.tasks() != null)
            for (var e : a.tasks().entrySet()) {
                TaskScores x = e.getValue(), y = b.tasks().get(e.getKey());
                out.printf(Locale.ROOT, "%-26s %11.2f%% %11.2f%% %10s%n", e.getKey() + " acc", 100 * x.acc(), 100 * y.acc(), retained(x.acc(), y.acc()));
                if (x.accNorm() != null)
                    out.printf(Locale.ROOT, "%-26s %11.2f%% %11.2f%% %10s%n", e.getKey() + " acc_norm", 100 * x.accNorm(), 100 * y.accNorm(),
                            retained(x.accNorm(), y.accNorm()));
                sumA += x.acc();
                sumB += y.acc();
                n++;
            }
        if (n > 0)
            out.printf(Locale.ROOT, "%-26s %11.2f%% %11.2f%% %10s%n", "average acc", 100 * sumA / n, 100 * sumB / n, retained(sumA, sumB));
    }

    private static String retained(double a, double b) {
        return a == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * b / a);
    }
}
