package come4j.model;

/**
 * RoPE frequency rule: {@code type} "default", "linear", "llama3" (Llama-3.1) or "longrope" (Phi-3 long-context
 * variants, Phi-4-mini), with the llama3 parameters or the LongRoPE factor lists; {@code rotaryFraction} is the share
 * of each head that rotates (Phi-3's partial_rotary_factor, 1 elsewhere).
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions,
                          double rotaryFraction, LongRope longRope) {
    public static final RopeScaling NONE = new RopeScaling("default", 1, 1, 1, 0);

    /**
     * LongRoPE (transformers' _compute_longrope_parameters): inverse frequency i is divided by {@code shortFactor[i]}
     * for a forward call whose positions all lie below originalMaxPositions and by {@code longFactor[i]} otherwise;
     * cos and sin are multiplied by {@code attentionFactor} either way.
     */
    public record LongRope(double[] shortFactor, double[] longFactor, double attentionFactor) {}

    public RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
        this(type, factor, lowFreqFactor, highFreqFactor, originalMaxPositions, 1, null);
    }

    /** The same rule rotating only the first {@code fraction} of each head. */
    public RopeScaling withRotaryFraction(double fraction) {
        return new RopeScaling(type, factor, lowFreqFactor, highFreqFactor, originalMaxPositions, fraction, longRope);
    }

    /** Dimensions of a head that rotate (transformers: int(head_dim * partial_rotary_factor)). */
    public int rotaryDims(int headDim) {
        return (int) (headDim * rotaryFraction);
    }

    /** Whether a forward call over positions 0 .. positions-1 uses LongRoPE's long factors (transformers, per call). */
    public boolean usesLongFactors(int positions) {
        return longRope != null && positions > originalMaxPositions;
    }

    /** Inverse frequencies for head dimension {@code headDim} and base {@code theta}, as transformers computes them. */
    public double[] inverseFrequencies(int headDim, double theta) {
        return inverseFrequencies(headDim, theta, false);
    }

    /** As above; {@code longFactors} picks LongRoPE's long list (ignored by the other rules). */
    public double[] inverseFrequencies(int headDim, double theta, boolean longFactors) {
        int dim = rotaryDims(headDim), half = dim / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) {
            // transformers: 1 / theta ** (arange(0, dim, 2, dtype=int64).float() / dim), computed in float32
            float exponent = (float) (2 * i) / (float) dim;
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
            case "longrope" -> {
                double[] ext = longFactors ? longRope.longFactor() : longRope.shortFactor();
                // 1 / (ext_factors * base ** shape), every step in float32
                for (int i = 0; i < half; i++) {
                    float exponent = (float) (2 * i) / (float) dim;
                    inv[i] = 1f / ((float) ext[i] * (float) Math.pow(theta, exponent));
                }
            }
            default -> {}
        }
        return inv;
    }

    /** The factor cos and sin are multiplied by (LongRoPE's attention factor; 1 for the other rules). */
    public double attentionFactor() {
        return longRope == null ? 1 : longRope.attentionFactor();
    }
}
