package come4j.model;

/**
 * RoPE frequency rule: {@code type} "default", "linear" or "llama3" (Llama-3.1), with the llama3 parameters.
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
    public static final RopeScaling NONE = new RopeScaling("default", 1, 1, 1, 0);

    /** Inverse frequencies for head dimension {@code headDim} and base {@code theta}, as transformers computes them. */
    public double[] inverseFrequencies(int headDim, double theta) {
        int half = headDim / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) {
            // transformers: 1 / theta ** (arange(0, dim, 2, dtype=int64).float() / dim), computed in float32
            float exponent = (float) (2 * i) / (float) headDim;
            inv[i] = (float) (1.0 / Math.pow(theta, exponent));
        }
        switch (type) {
            case "linear" -> {
                for (int i = 0; i < half; i++) inv[i] = (float) (inv[i] / factor);
            }
            case "llama3" -> {
                double lowWavelen = originalMaxPositions / lowFreqFactor;
                double highWavelen = originalMaxPositions / highFreqFactor;
                for (int i = 0; i < half; i++) {
                    double wavelen = 2 * Math.PI / inv[i];
                    if (wavelen > lowWavelen) inv[i] = inv[i] / factor;
                    else if (wavelen >= highWavelen) {
                        double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                        inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
                    }
                    inv[i] = (float) inv[i];
                }
            }
            default -> {}
        }
        return inv;
    }
}
