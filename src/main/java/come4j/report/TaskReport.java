package come4j.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.eval.LogLikelihood;
import come4j.eval.TaskResult;
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
    public static void compare(String nameA, ObjectNode a, String nameB, ObjectNode b, PrintStream out) {
        out.printf("A = %s%nB = %s%n%-26s %12s %12s %10s%n", nameA, nameB, "metric", "A", "B", "B / A");
        if (a.has("ppl"))
            out.printf(Locale.ROOT, "%-26s %12.3f %12.3f %9.3fx%n", "perplexity", a.get("ppl").asDouble(), b.get("ppl").asDouble(),
                    b.get("ppl").asDouble() / a.get("ppl").asDouble());
        double sumA = 0, sumB = 0;
        int n = 0;
        for (var e : a.path("tasks").properties()) {
            for (String metric : new String[] {"acc", "acc_norm"}) {
                if (!e.getValue().has(metric)) continue;
                double x = e.getValue().get(metric).asDouble(), y = b.path("tasks").path(e.getKey()).path(metric).asDouble();
                out.printf(Locale.ROOT, "%-26s %11.2f%% %11.2f%% %10s%n", e.getKey() + " " + metric, 100 * x, 100 * y, retained(x, y));
                if (metric.equals("acc")) {
                    sumA += x;
                    sumB += y;
                    n++;
                }
            }
        }
        if (n > 0)
            out.printf(Locale.ROOT, "%-26s %11.2f%% %11.2f%% %10s%n", "average acc", 100 * sumA / n, 100 * sumB / n, retained(sumA, sumB));
    }

    private static String retained(double a, double b) {
        return a == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * b / a);
    }

    public static ObjectNode json(List<TaskResult> results, boolean samples) {
        ObjectNode all = new ObjectMapper().createObjectNode();
        for (TaskResult r : results) {
            ObjectNode t = all.putObject(r.task().key);
            t.put("acc", r.acc().value()).put("acc_stderr", r.acc().stderr());
            if (r.accNorm() != null) t.put("acc_norm", r.accNorm().value()).put("acc_norm_stderr", r.accNorm().stderr());
            t.put("items", r.items()).put("seconds", r.seconds());
            if (!r.groups().isEmpty()) {
                ObjectNode g = t.putObject("groups");
                r.groups().forEach((name, m) -> g.putObject(name).put("acc", m.value()).put("acc_stderr", m.stderr()));
            }
            if (samples) {
                var arr = t.putArray("samples");
                for (TaskResult.Sample s : r.samples()) {
                    ObjectNode o = arr.addObject();
                    o.put("gold", s.gold()).put("pred", s.pred()).put("pred_norm", s.predNorm());
                    var ll = o.putArray("loglikelihoods");
                    var greedy = o.putArray("is_greedy");
                    for (LogLikelihood.Scored sc : s.scored()) {
                        ll.add(sc.ll());
                        greedy.add(sc.greedy());
                    }
                }
            }
        }
        return all;
    }
}
