package come4j.calib;

import come4j.calib.CalibrationPass.LayerStats;
import come4j.io.TensorData;
import come4j.model.Checkpoint;
import come4j.model.LayerWeights;
import come4j.model.Transformer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What the compression methods of one run share, each computed at most once: the model and its layer tensors, the
 * calibration windows, and the first statistics pass over the original model (every layer boundary, each layer's BI
 * and activation means, the calibration NLL) that ShortGPT, SLEB, CoMe, CoMe-P, WeightSum, LaCo and MKA all start
 * from. `come compress` makes one for its method; `come bench` one for every cell.
 *
 * <p>A method that changes the model streams through its own {@link #workingCache()}: a cache layered over the original
 * boundaries, so the shared ones are read, never copied or overwritten, and dropped when the method closes it.
 */
public final class CalibrationContext implements AutoCloseable {
    /** The first pass: the original model's layer statistics and calibration NLL. */
    public record FirstPass(List<LayerStats> stats, double nll) {}

    private final Checkpoint ckpt;
    private final Transformer model;
    private final List<Map<String, TensorData>> tensors = new ArrayList<>();
    private final CalibrationSet set;
    private final int batch;
    private ActivationCache original;
    private final Map<String, Object> shared = new HashMap<>();
    private FirstPass first;
    private int requests;
    private double seconds;
    private Consumer<String> log = line -> {};

    /** {@code set} may be null for methods without calibration (Reverse, Magnitude). */
    public CalibrationContext(Checkpoint ckpt, CalibrationSet set, int batch) {
        this.ckpt = ckpt;
        this.model = Transformer.load(ckpt);
        this.set = set;
        this.batch = batch;
        for (int i = 0; i < ckpt.config().numLayers(); i++) tensors.add(LayerWeights.tensors(ckpt, i));
    }

    /** Where the first pass reports its timing (`come compress` logs it; silent by default). */
    public CalibrationContext logTo(Consumer<String> log) {
        this.log = log;
        return this;
    }

    public Checkpoint checkpoint() {
        return ckpt;
    }

    public Transformer model() {
        return model;
    }

    /** The original layers' tensors by suffix, one map per layer. */
    public List<Map<String, TensorData>> tensors() {
        return tensors;
    }

    /** Windows per forward pass. */
    public int batch() {
        return batch;
    }

    public CalibrationSet set() {
        return set;
    }

    /** The first pass, run on the first request (every boundary of the original model is cached as it runs). */
    public synchronized FirstPass firstPass() {
        if (set == null) throw new IllegalStateException("this run has no calibration windows");
        requests++;
        return run();
    }

    private FirstPass run() {
        if (first != null) return first;
        long t0 = System.nanoTime();
        original = new ActivationCache(set.windows().size(), set.seqLen(), model.config().hiddenSize());
        CalibrationPass pass = new CalibrationPass(set, original, batch);
        pass.embed(model);
        long t1 = System.nanoTime();
        List<LayerStats> stats = List.copyOf(pass.run(model, 0));
        long t2 = System.nanoTime();
        first = new FirstPass(stats, pass.nll(model));
        seconds = (System.nanoTime() - t0) / 1e9;
        double layerSeconds = (t2 - t1) / 1e9, nllSeconds = (System.nanoTime() - t2) / 1e9;
        long tokens = (long) set.windows().size() * set.seqLen(), layerTokens = tokens * model.numLayers();
        log.accept(String.format("first calibration pass: %d layers x %d tokens in %.1f s (%.0f layer-tokens/s); calibration NLL %.4f in %.1f s",
                model.numLayers(), tokens, layerSeconds, layerTokens / layerSeconds, first.nll(), nllSeconds));
        return first;
    }

    /** A cache that starts as the original model's boundaries (runs the first pass if needed); the caller closes it. */
    public synchronized ActivationCache workingCache() {
        run();
        return ActivationCache.over(original);
    }

    /** A pass over the calibration windows through {@code cache}. */
    public CalibrationPass pass(ActivationCache cache) {
        return new CalibrationPass(set, cache, batch);
    }

    /**
     * A value the runs of one method share within this context, made on first request: MKA's similarity matrix and
     * LaCo's measured collapses are the same at every sparsity of a bench. {@code make} must not call this method.
     */
    @SuppressWarnings("unchecked")
    public synchronized <T> T shared(String key, Supplier<T> make) {
        return (T) shared.computeIfAbsent(key, k -> make.get());
    }

    /** How many times the first pass was asked for (each would be a full pass without sharing). */
    public synchronized int firstPassRequests() {
        return requests;
    }

    /** Whether the first pass has run (at most once). */
    public synchronized boolean firstPassRan() {
        return first != null;
    }

    /** Wall time of the first pass (0 when it has not run). */
    public synchronized double firstPassSeconds() {
        return seconds;
    }

    @Override
    public void close() {
        if (original != null) original.close();
    }
}
