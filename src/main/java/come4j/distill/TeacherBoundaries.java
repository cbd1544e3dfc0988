package come4j.distill;

import come4j.calib.ActivationCache;
import come4j.io.Progress;
import come4j.model.LayerHooks;
import come4j.model.Transformer;
import java.util.function.IntPredicate;

/**
 * The teacher's hidden states at the block boundaries the students train against (boundary k = the input of original
 * layer k; boundary L = the un-normed output of the last layer), for every training window. Windows stream through the
 * teacher a batch at a time and only the kept boundaries go to disk (mmap'd temp files), so memory stays bounded.
 */
public final class TeacherBoundaries implements AutoCloseable {
    private final ActivationCache cache;
    private final int T, d;

    private TeacherBoundaries(ActivationCache cache, int T, int d) {
        this.cache = cache;
        this.T = T;
        this.d = d;
    }

    /** Boundaries a run already holds (the calibration pass's cache, every boundary of the original model). */
    public static TeacherBoundaries of(ActivationCache cache, int T, int d) {
        return new TeacherBoundaries(cache, T, d);
    }

    /** Runs the teacher's layers [0, upTo) over the windows, keeping the boundaries {@code keep} accepts. */
    public static TeacherBoundaries compute(Transformer teacher, TrainingWindows data, int upTo, IntPredicate keep, int batch) {
        int n = data.windows().size(), T = data.seqLen(), d = teacher.config().hiddenSize();
        ActivationCache cache = new ActivationCache(n, T, d);
        try (Progress bar = Progress.start("teacher", (long) n * T, "tok")) {
            for (int w0 = 0; w0 < n; w0 += batch) {
                int b = Math.min(batch, n - w0);
                int[] ids = new int[b * T];
                for (int k = 0; k < b; k++) System.arraycopy(data.windows().get(w0 + k), 0, ids, k * T, T);
                float[] h = teacher.embed(ids, b, 0);
                for (int layer = 0; ; layer++) {
                    if (keep.test(layer)) for (int k = 0; k < b; k++) cache.put(layer, w0 + k, h, k * T * d);
                    if (layer == upTo) break;
                    teacher.layer(layer, h, b, T, 0, null, LayerHooks.NONE);
                }
                bar.step((long) b * T);
            }
        }
        return new TeacherBoundaries(cache, T, d);
    }

    /** Boundary k of the given windows, [windows.length * T x d]. */
    public float[] get(int k, int[] windows) {
        float[] out = new float[windows.length * T * d];
        for (int i = 0; i < windows.length; i++) cache.get(k, windows[i], out, i * T * d);
        return out;
    }

    @Override
    public void close() {
        cache.close();
    }
}
