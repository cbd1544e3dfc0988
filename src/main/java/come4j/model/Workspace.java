package come4j.model;

import java.lang.ref.SoftReference;

/**
 * The forward pass's intermediate arrays, one set per thread, reused from layer to layer and call to call. A fresh
 * array costs a zeroing pass over memory that is not in the cache (for a large one, a memset on the allocating thread)
 * before the product writes it again: on the demo model in bf16 that made the projections about 1.4x slower than
 * into reused arrays (docs/results.md). Held softly, so the collector takes them back before the heap runs out.
 */
final class Workspace {
    /** The slots: one per intermediate of {@link DecoderLayer#forward} (OUT: the o_proj's, then the down_proj's output). */
    static final int NORMED = 0, Q = 1, K = 2, V = 3, ATTENTION = 4, OUT = 5, UP = 6, GATE = 7;

    private static final ThreadLocal<SoftReference<Workspace>> MINE = new ThreadLocal<>();

    private final float[][] arrays = new float[GATE + 1][];
    private boolean inUse;

    private Workspace() {}

    /**
     * This thread's workspace, or a fresh one when it is in use (a forward pass run from inside another on the same
     * thread, e.g. by a worker that helps while it waits); {@link #release} it when the pass ends.
     */
    static Workspace acquire() {
        SoftReference<Workspace> ref = MINE.get();
        Workspace w = ref == null ? null : ref.get();
        if (w == null) MINE.set(new SoftReference<>(w = new Workspace()));
        if (w.inUse) return new Workspace();
        w.inUse = true;
        return w;
    }

    void release() {
        inUse = false;
    }

    /** The array of exactly {@code length} floats in {@code slot}, holding whatever its last user left: overwrite it all. */
    float[] array(int slot, int length) {
        float[] a = arrays[slot];
        return a != null && a.length == length ? a : (arrays[slot] = new float[length]);
    }
}
