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
