package come4j.eval;

import come4j.io.Progress;
import come4j.model.NextTokenLoss;
import come4j.model.Transformer;
import come4j.tensor.Parallel;
import java.util.ArrayList;
import java.util.List;

/**
 * Pruning-paper perplexity (SparseGPT / Wanda / SLEB / CoMe): the text is tokenized once, cut into non-overlapping
 * windows of L tokens (tail dropped), each window is a fresh sequence, its loss is the mean NLL of its L-1 predicted
 * tokens, and PPL = exp(mean window loss).
 */
public final class Perplexity {
    public record Result(double ppl, long tokens, int windows, double seconds) {
        public double tokensPerSecond() {
            return tokens / seconds;
        }
    }

    private Perplexity() {}

    public static List<int[]> windows(int[] ids, int seqLen) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i + seqLen <= ids.length; i += seqLen) out.add(java.util.Arrays.copyOfRange(ids, i, i + seqLen));
        return out;
    }

    /**
     * Evaluates the windows, {@code batch} at a time (the batch size does not change the result), as many batches
     * side by side as threads and the heap allow: each pass's kernels then run on one thread (at small widths one
     * pass's kernels do not keep two cores busy), and the losses are added in window order whatever finishes first.
     */
    public static Result evaluate(Transformer model, List<int[]> windows, int batch) {
        if (windows.isEmpty()) throw new IllegalArgumentException("no complete window to evaluate");
        int T = windows.get(0).length, batches = (windows.size() + batch - 1) / batch;
        long start = System.nanoTime();
        double[] lossSum = {0};
        try (Progress bar = Progress.start("perplexity", windows.size(), "windows")) {
            Parallel.sideBySide(batches, Parallel.together(model.passBytes(batch * T, true)), j -> {
                int w0 = j * batch, b = Math.min(batch, windows.size() - w0);
                int[] ids = new int[b * T];
                for (int i = 0; i < b; i++) System.arraycopy(windows.get(w0 + i), 0, ids, i * T, T);
                return NextTokenLoss.sumOfWindowLosses(model, model.finalStates(ids, b), ids, b, T);
            }, (loss, j) -> {
                lossSum[0] += loss;
                bar.step(Math.min(batch, windows.size() - j * batch));
            });
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(Math.exp(lossSum[0] / windows.size()), (long) windows.size() * T, windows.size(), seconds);
    }
}
