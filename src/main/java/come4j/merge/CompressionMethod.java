package come4j.merge;

import java.util.function.Consumer;

/**
 * A way to compress a model to a target layer count. `come compress` and `come bench` run every method through this
 * interface, on a {@link WorkingModel} over the run's shared {@link come4j.calib.CalibrationContext}; {@code distill.Methods}
 * maps the names users type to methods.
 */
public interface CompressionMethod {
    /** The name `--method` and `--methods` take, also recorded as come-merge.json's "method". */
    String name();

    /** Whether the method reads the calibration windows (false: no calibration set is built for it). */
    default boolean calibrated() {
        return true;
    }

    /**
     * Whether the method measures the model again after each merge, so that a merged layer refined before the next
     * step (schedule mp, {@link WorkingModel.Refine}) changes what follows.
     */
    default boolean remeasures() {
        return false;
    }

    /**
     * Compresses {@code work}'s model to {@code targetLayers} layers by committed edits, continuing after the steps
     * {@code work} replayed (the ones this method made, found by its own name for them); progress goes to {@code log}.
     */
    Compression run(WorkingModel work, int targetLayers, Consumer<String> log);
}
