package come4j.model;

/** Keys and values (after RoPE) of every layer for up to {@code capacity} positions, for incremental decoding. */
public final class KVCache {
    final float[][] keys, values;
    final int capacity;
    private int length;

    public KVCache(ModelConfig c, int capacity) {
        this.capacity = capacity;
        keys = new float[c.numLayers()][capacity * c.kvDim()];
        values = new float[c.numLayers()][capacity * c.kvDim()];
    }

    /** Number of positions cached (the position of the next token). */
    public int length() {
        return length;
    }

    public void advance(int tokens) {
        if (length + tokens > capacity) throw new IllegalStateException("KV cache capacity " + capacity + " exceeded");
        length += tokens;
    }

    /** Forgets every position from {@code length} on (a shared prefix is kept, the rest is overwritten next). */
    public void rewind(int length) {
        if (length < 0 || length > this.length) throw new IllegalArgumentException("cannot rewind to " + length);
        this.length = length;
    }
}
