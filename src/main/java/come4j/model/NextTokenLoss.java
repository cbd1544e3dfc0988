package come4j.model;

/**
 * The language-model loss of windows, one definition for the calibration NLL (calib) and perplexity (eval): each
 * window is a sequence of its own, scored by the mean NLL of its next-token predictions.
 */
public final class NextTokenLoss {
    private NextTokenLoss() {}

    /**
     * Σ over windows of the mean NLL of tokens 1..T-1 given their prefixes, from the final-normed states of the windows
     * ({@link Transformer#tokenNll}: log-softmax in fp32, sums in double).
     */
    public static double sumOfWindowLosses(Transformer m, float[] normed, int[] ids, int batch, int T) {
        int[] next = new int[batch * T];
        for (int b = 0; b < batch; b++)
            for (int p = 0; p < T; p++) next[b * T + p] = p < T - 1 ? ids[b * T + p + 1] : -1;
        double[] nll = m.tokenNll(normed, batch * T, next);
        double total = 0;
        for (int b = 0; b < batch; b++) {
            double s = 0;
            for (int p = 0; p < T - 1; p++) s += nll[b * T + p];
            total += s / (T - 1);
        }
        return total;
    }
}
