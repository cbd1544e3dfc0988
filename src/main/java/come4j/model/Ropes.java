package come4j.model;

/**
 * A model's rotary embeddings: one for every layer, except Gemma 3, whose sliding-window layers rotate with their own
 * base and scaling ({@link ModelConfig.Gemma}); a layer with a window uses {@code local} when there is one.
 */
public record Ropes(Rope global, Rope local) {

    public static Ropes of(ModelConfig c) {
        return new Ropes(new Rope(c), Rope.local(c));
    }

    /** The RoPE of a layer with this sliding window (0: full attention). */
    public Rope forWindow(int window) {
        return local != null && window > 0 ? local : global;
    }
}
