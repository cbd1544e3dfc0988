package come4j.model;

/**
 * Keys and values (after RoPE) of every layer for a batch of sequences of up to {@code capacity} positions each, for
 * incremental decoding. The sequences advance together (batched generation), so one length serves them all; sequence
 * b's keys of a layer occupy rows [b * capacity, (b + 1) * capacity).
 */
public final class KVCache {
    final float[][] keys, values;
    final int batch, capacity;
    private int length;

    /** A cache for one sequence. */
    public KVCache(ModelConfig c, int capacity) {
        this(c, 1, capacity);
    }

    public KVCache(ModelConfig c, int batch, int capacity) {
        this.batch = batch;
        this.capacity = capacity;
        keys = new float[c.numLayers()][batch * capacity * c.kvDim()];
        values = new float[c.numLayers()][batch * capacity * c.kvDim()];
    }

    /** Number of positions cached in each sequence (the position of the next token). */
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
