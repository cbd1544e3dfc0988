package come4j.model;

/**
 * Rotary position embedding in the Hugging Face (rotate-half) layout: within the first rotaryDims of a head (all of
 * it but for Phi-3's partial_rotary_factor), element i pairs with i + rotaryDims/2; the rest passes through. Tables of
 * cos/sin are computed in fp32 as transformers does (position x inverse frequency in float32, times LongRoPE's
 * attention factor) and grow on demand. LongRoPE has two tables, short and long factors; a call over positions
 * pos0 .. pos0+T-1 uses the long ones when pos0 + T exceeds original_max_position_embeddings, as transformers decides
 * per forward call (max(position_ids) + 1). With a KV cache the keys cached by earlier calls keep the rotation they
 * were given, as in transformers' generate (docs/architectures.md, Phi-3).
 */
public final class Rope {
    private final int headDim, half;
    private final RopeScaling scaling;
    private final Table shortTable, longTable;

    public Rope(ModelConfig c) {
        this(c.headDim(), c.ropeScaling(), c.ropeTheta());
    }

    /** The RoPE of Gemma 3's sliding-window layers (their own base and scaling), or null when all layers share one. */
    public static Rope local(ModelConfig c) {
        ModelConfig.Gemma g = c.layout().gemma();
        return g == null ? null : new Rope(c.headDim(), g.localRopeScaling(), g.localRopeTheta());
    }

    private Rope(int headDim, RopeScaling scaling, double theta) {
        this.headDim = headDim;
        this.scaling = scaling;
        this.half = scaling.rotaryDims(headDim) / 2;
        float factor = (float) scaling.attentionFactor();
        shortTable = new Table(scaling.inverseFrequencies(headDim, theta, false), factor);
        longTable = scaling.longRope() == null ? shortTable : new Table(scaling.inverseFrequencies(headDim, theta, true), factor);
    }

    /** Pairs per head that rotate (rotaryDims / 2): the row length of the tables. */
    public int half() {
        return half;
    }

    private Table table(int positions) {
        return scaling.usesLongFactors(positions) ? longTable : shortTable;
    }

    /**
     * The cos and sin tables ({@code [position * half() + i]}) of a forward call over positions 0 .. positions-1 (at
     * least those positions).
     */
    public float[][] tables(int positions) {
        return table(positions).tables(positions);
    }

    /**
     * Rotates {@code heads} heads in rows [r0, r1) of x, a batch of sequences of T rows (row r of a sequence at
     * position pos0 + r % T; row length stride).
     */
    public void apply(float[] x, int r0, int r1, int T, int heads, int stride, int pos0) {
        float[][] cs = tables(pos0 + T);
        float[] c = cs[0], s = cs[1];
        for (int r = r0; r < r1; r++) {
            int t = (pos0 + r % T) * half;
            for (int h = 0; h < heads; h++) {
                int o = r * stride + h * headDim;
                for (int i = 0; i < half; i++) {
                    float x1 = x[o + i], x2 = x[o + i + half];
                    x[o + i] = x1 * c[t + i] - x2 * s[t + i];
                    x[o + i + half] = x2 * c[t + i] + x1 * s[t + i];
                }
            }
        }
    }

    /** cos and sin of position x inverse frequency, each times the attention factor (as transformers: fp32 products). */
    private static final class Table {
        private final float[] invFreq;
        private final float factor;
        private float[] cos = new float[0], sin = new float[0];

        Table(double[] inv, float factor) {
            invFreq = new float[inv.length];
            for (int i = 0; i < inv.length; i++) invFreq[i] = (float) inv[i];
            this.factor = factor;
        }

        synchronized float[][] tables(int positions) {
            int half = invFreq.length;
            if (half > 0 && cos.length < positions * half) {
                int n = Math.max(positions, cos.length / half * 2);
                float[] c = new float[n * half], s = new float[n * half];
                for (int p = 0; p < n; p++)
                    for (int i = 0; i < half; i++) {
                        float angle = (float) p * invFreq[i];
                        c[p * half + i] = (float) Math.cos(angle) * factor;
                        s[p * half + i] = (float) Math.sin(angle) * factor;
                    }
                cos = c;
                sin = s;
            }
            return new float[][] {cos, sin};
        }
    }
}
