package come4j.model;

import come4j.tensor.Parallel;
import come4j.tensor.VectorOps;

/**
 * The language-model loss of windows, one definition for the calibration NLL (calib) and perplexity (eval): each
 * window is a sequence of its own, scored by the mean NLL of its next-token predictions.
 */
public final class NextTokenLoss {
    private NextTokenLoss() {}

    /** Σ over windows of the mean NLL of tokens 1..T-1 given their prefixes (log-softmax in fp32, sums in double). */
    public static double sumOfWindowLosses(float[] logits, int[] ids, int batch, int T, int vocab) {
        double[] nll = new double[batch * T];
        Parallel.forEach(batch, b -> {
            for (int p = 0; p < T - 1; p++) {
                int row = b * T + p;
                nll[row] = VectorOps.logSumExp(logits, row * vocab, vocab) - logits[row * vocab + ids[row + 1]];
            }
        });
        double total = 0;
        for (int b = 0; b < batch; b++) {
            double s = 0;
            for (int p = 0; p < T - 1; p++) s += nll[b * T + p];
            total += s / (T - 1);
        }
        return total;
    }
}
