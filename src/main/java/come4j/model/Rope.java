package come4j.model;

/**
 * Rotary position embedding in the Hugging Face (rotate-half) layout: element i pairs with i + headDim/2. Tables of
 * cos/sin are computed in fp32 as transformers does (position x inverse frequency in float32) and grow on demand.
 */
public final class Rope {
    private final int half;
    private final float[] invFreq;
    private float[] cos = new float[0], sin = new float[0];

    public Rope(ModelConfig c) {
        this(c.headDim(), c.ropeScaling().inverseFrequencies(c.headDim(), c.ropeTheta()));
    }

    /** The RoPE of Gemma 3's sliding-window layers (their own base and scaling), or null when all layers share one. */
    public static Rope local(ModelConfig c) {
        ModelConfig.Gemma g = c.layout().gemma();
        return g == null ? null : new Rope(c.headDim(), g.localRopeScaling().inverseFrequencies(c.headDim(), g.localRopeTheta()));
    }

    private Rope(int headDim, double[] inv) {
        this.half = headDim / 2;
        invFreq = new float[half];
        for (int i = 0; i < half; i++) invFreq[i] = (float) inv[i];
    }

    private synchronized void ensure(int positions) {
        if (cos.length >= positions * half) return;
        int n = Math.max(positions, cos.length / half * 2);
        float[] c = new float[n * half], s = new float[n * half];
        for (int p = 0; p < n; p++)
            for (int i = 0; i < half; i++) {
                float angle = (float) p * invFreq[i];
                c[p * half + i] = (float) Math.cos(angle);
                s[p * half + i] = (float) Math.sin(angle);
            }
        cos = c;
        sin = s;
    }

    /** The cos and sin tables ({@code [position * headDim/2 + i]}) for positions 0 .. positions-1 at least. */
    public synchronized float[][] tables(int positions) {
        ensure(positions);
        return new float[][] {cos, sin};
    }

    /**
     * Rotates {@code heads} heads in rows [r0, r1) of x, a batch of sequences of T rows (row r of a sequence at
     * position pos0 + r % T; row length stride).
     */
    public void apply(float[] x, int r0, int r1, int T, int heads, int stride, int pos0) {
        ensure(pos0 + T);
        float[] c = cos, s = sin;
        for (int r = r0; r < r1; r++) {
            int t = (pos0 + r % T) * half;
            for (int h = 0; h < heads; h++) {
                int o = r * stride + h * 2 * half;
                for (int i = 0; i < half; i++) {
                    float x1 = x[o + i], x2 = x[o + i + half];
                    x[o + i] = x1 * c[t + i] - x2 * s[t + i];
                    x[o + i + half] = x2 * c[t + i] + x1 * s[t + i];
                }
            }
        }
    }
}
