package come4j.calib;

/** The cosine-based scores of method.md §3-4 on hidden-state rows. */
public final class Similarity {
    private Similarity() {}

    /** cos(x[xo..], y[yo..]) over n elements, in double (NaN for a zero vector). */
    public static double cosine(float[] x, int xo, float[] y, int yo, int n) {
        double xy = 0, xx = 0, yy = 0;
        for (int i = 0; i < n; i++) {
            double a = x[xo + i], b = y[yo + i];
            xy += a * b;
            xx += a * a;
            yy += b * b;
        }
        return xy / (Math.sqrt(xx) * Math.sqrt(yy));
    }

    /** {@link #cosine} with NaN (a zero vector) as 0.5, clamped to [0, 1] (the authors' BI and SBI). */
    public static double clampedCosine(float[] x, int xo, float[] y, int yo, int d) {
        double cos = cosine(x, xo, y, yo, d);
        if (Double.isNaN(cos)) cos = 0.5;
        return Math.min(1, Math.max(0, cos));
    }

    /** Block influence contribution of T rows: Σ_t (1 − cos(input_t, output_t)). */
    public static double blockInfluence(float[] in, float[] out, int T, int d) {
        double s = 0;
        for (int t = 0; t < T; t++) s += 1 - clampedCosine(in, t * d, out, t * d, d);
        return s;
    }

    /** Angular distance arccos(cos)/π summed over T rows. */
    public static double angularDistance(float[] a, float[] b, int T, int d) {
        double s = 0;
        for (int t = 0; t < T; t++) s += Math.acos(clampedCosine(a, t * d, b, t * d, d)) / Math.PI;
        return s;
    }
}
