package come4j.merge;

import come4j.calib.CalibrationContext;
import come4j.io.ScratchTensors;
import java.util.function.Consumer;

/**
 * A way to compress a model to a target layer count. `come compress` and `come bench` run every method through this
 * interface, with the run's shared {@link CalibrationContext}; {@code distill.Methods} maps the names users type to methods.
 */
public interface CompressionMethod {
    /** The name `--method` and `--methods` take, also recorded as come-merge.json's "method". */
    String name();

    /** Whether the method reads the calibration windows (false: no calibration set is built for it). */
    default boolean calibrated() {
        return true;
    }

    /** Compresses ctx's model to {@code targetLayers} layers; new tensors go to {@code store}, progress to {@code log}. */
    Compression run(CalibrationContext ctx, int targetLayers, ScratchTensors store, Consumer<String> log);
}
