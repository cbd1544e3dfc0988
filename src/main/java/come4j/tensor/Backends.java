package come4j.tensor;

import come4j.io.DType;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The run's choice of backend and compute dtype (--backend, --dtype; the system properties come4j.backend and
 * come4j.dtype give the defaults, so the test suite can run on either backend). auto picks oneDNN when products run
 * in bf16 and the library loads, and the Vector API for fp32: the fp32 path stays today's exact bytes.
 */
public final class Backends {
    public static final List<String> NAMES = List.of("auto", "vector", "onednn");
    public static final List<String> DTYPES = List.of("auto", "float32", "bfloat16");

    private static volatile String backend = System.getProperty("come4j.backend", "auto");
    private static volatile String dtype = System.getProperty("come4j.dtype", "float32");
    private static volatile Consumer<String> log = m -> System.err.println("come: " + m);
    private static final AtomicBoolean TOLD = new AtomicBoolean(), HINTED = new AtomicBoolean();

    private Backends() {}

    /** Sets the run's choice; {@code log} gets the one line saying oneDNN did not load, when it is wanted and fails. */
    public static void choose(String backendName, String dtypeName, Consumer<String> logger) {
        if (!NAMES.contains(backendName)) throw new IllegalArgumentException("unknown backend '" + backendName + "'");
        if (!DTYPES.contains(dtypeName)) throw new IllegalArgumentException("unknown dtype '" + dtypeName + "'");
        backend = backendName;
        dtype = dtypeName;
        log = logger;
    }

    /** The compute dtype for a model stored in {@code stored}: auto follows a bf16 checkpoint, fp32 otherwise. */
    public static DType compute(DType stored) {
        return switch (dtype) {
            case "bfloat16" -> DType.BF16;
            case "auto" -> stored == DType.BF16 ? DType.BF16 : DType.F32; // no fp16 arithmetic here: fp16 computes fp32
            default -> DType.F32;
        };
    }

    private static volatile boolean hint;
    private static final String HINT = "products in float32 on this bf16 checkpoint (the default: exact); --dtype auto runs them in bf16 "
            + "as transformers 5 does, faster where oneDNN runs";

    /**
     * Whether this run left --dtype at its default (a command line without it): then a bf16 model, computed in float32,
     * gets one line saying that --dtype auto computes it as transformers 5 loads it (in bf16, on oneDNN where it runs).
     */
    public static void hintAtDefaultDtype(boolean on) {
        hint = on;
        HINTED.set(false);
    }

    /** The backend for a model stored in {@code stored} (with the line of {@link #hintAtDefaultDtype}, once a run). */
    public static Backend forModel(DType stored) {
        DType compute = compute(stored);
        if (hint && stored == DType.BF16 && compute == DType.F32 && !backend.equals("vector") && !HINTED.getAndSet(true))
            log.accept(HINT);
        return of(compute);
    }

    /** The run's backend with fp32 products (statistics, least squares, distillation). */
    public static Backend fp32() {
        return of(DType.F32);
    }

    /** The backend named by the run's choice with this compute dtype (the Vector API when oneDNN does not load). */
    public static Backend of(DType compute) {
        boolean nativeWanted = backend.equals("onednn") || backend.equals("auto") && compute == DType.BF16;
        if (nativeWanted) {
            try {
                return OneDnnBackend.load(compute);
            } catch (IllegalStateException e) {
                if (!TOLD.getAndSet(true)) log.accept("oneDNN is not available (" + e.getMessage() + "); products run on the Vector API backend");
            }
        }
        return compute == DType.BF16 ? VectorBackend.BF16 : VectorBackend.FP32;
    }

    /** Every backend that loads on this machine with this compute dtype (the conformance suite runs each). */
    public static List<Backend> available(DType compute) {
        List<Backend> all = new java.util.ArrayList<>();
        all.add(compute == DType.BF16 ? VectorBackend.BF16 : VectorBackend.FP32);
        try {
            all.add(OneDnnBackend.load(compute));
        } catch (IllegalStateException e) {
            // not on this machine: the suite runs the others
        }
        return all;
    }
}
