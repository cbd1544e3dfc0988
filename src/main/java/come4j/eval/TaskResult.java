package come4j.eval;

import come4j.io.Progress;
import come4j.tensor.Parallel;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A task's scores with lm-eval's conventions (evaluation.md §3.4): acc = argmax of the log-likelihoods (first maximum),
 * acc_norm = argmax of log-likelihood / choice length in code points; the standard error is the sample standard
 * deviation over documents divided by sqrt(n). MMLU adds per-subject accuracies; the task score is their micro average
 * and its standard error is lm-eval's pooled one over the subjects.
 */
public record TaskResult(Task task, int items, Metric acc, Metric accNorm, Map<String, Metric> groups, double seconds,
                         List<Sample> samples) {

    public record Metric(double value, double stderr) {
        static Metric of(int[] hits) {
            int n = hits.length;
            double mean = 0;
            for (int h : hits) mean += h;
            mean /= n;
            double var = 0;
            for (int h : hits) var += (h - mean) * (h - mean);
            return new Metric(mean, n > 1 ? Math.sqrt(var / (n - 1) / n) : Double.NaN);
        }

        /** lm-eval's pooled_sample_stderr: the groups' sample variances pooled, over the total count. */
        static Metric pooled(Metric overall, Map<String, Metric> groups, Map<String, int[]> hits) {
            double num = 0;
            int total = 0;
            for (var e : groups.entrySet()) {
                int n = hits.get(e.getKey()).length;
                num += (n - 1) * e.getValue().stderr() * e.getValue().stderr() * n;
                total += n;
            }
            return new Metric(overall.value(), Math.sqrt(num / (total - groups.size()) / total));
        }
    }

    /** One document: its requests' log-likelihoods and greedy flags, the gold and the two predictions. */
    public record Sample(List<LogLikelihood.Scored> scored, int gold, int pred, int predNorm) {}

    public static TaskResult run(Task task, List<Item> items, LogLikelihood ll) {
        long start = System.nanoTime();
        Sample[] samples = new Sample[items.size()];
        try (Progress bar = Progress.start(task.key, items.size(), "items")) {
            Parallel.sideBySide(items.size(), i -> { // each item's kernels on its worker alone
                Item it = items.get(i);
                List<LogLikelihood.Scored> s = ll.score(it);
                int pred = 0, predNorm = 0;
                for (int j = 1; j < s.size(); j++) {
                    if (s.get(j).ll() > s.get(pred).ll()) pred = j;
                    if (norm(s, it, j) > norm(s, it, predNorm)) predNorm = j;
                }
                samples[i] = new Sample(s, it.gold(), pred, predNorm);
                bar.step(1);
            });
        }
        int n = samples.length;
        int[] acc = new int[n], accNorm = new int[n];
        Map<String, int[]> byGroup = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            acc[i] = samples[i].pred() == samples[i].gold() ? 1 : 0;
            accNorm[i] = samples[i].predNorm() == samples[i].gold() ? 1 : 0;
            String g = items.get(i).group();
            if (!g.isEmpty()) byGroup.merge(g, new int[] {acc[i]}, TaskResult::concat);
        }
        Map<String, Metric> groups = new TreeMap<>();
        byGroup.forEach((g, h) -> groups.put(g, Metric.of(h)));
        Metric overall = groups.isEmpty() ? Metric.of(acc) : Metric.pooled(Metric.of(acc), groups, byGroup);
        return new TaskResult(task, n, overall, task.accNorm ? Metric.of(accNorm) : null, groups,
                (System.nanoTime() - start) / 1e9, List.of(samples));
    }

    private static double norm(List<LogLikelihood.Scored> s, Item it, int j) {
        String c = it.choices().get(j);
        return s.get(j).ll() / c.codePointCount(0, c.length());
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
