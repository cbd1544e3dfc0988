package come4j.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;

/**
 * Finds NaN and ±Inf, which would otherwise flow silently through merging and into the written checkpoint (a NaN in
 * a downloaded file, an fp16 overflow). Stored tensors are scanned without conversion: a value is non-finite exactly
 * when its exponent bits are all ones.
 */
public final class Finite {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Finite() {}

    /** Index of the first NaN or ±Inf element of {@code t}, or -1. */
    public static long firstNonFinite(TensorData t) {
        MemorySegment d = t.data();
        long n = t.numel();
        switch (t.dtype()) {
            case F32 -> {
                for (long i = 0; i < n; i++) if ((d.getAtIndex(INT, i) & 0x7F80_0000) == 0x7F80_0000) return i;
            }
            case BF16 -> {
                for (long i = 0; i < n; i++) if ((d.getAtIndex(SHORT, i) & 0x7F80) == 0x7F80) return i;
            }
            case F16 -> {
                for (long i = 0; i < n; i++) if ((d.getAtIndex(SHORT, i) & 0x7C00) == 0x7C00) return i;
            }
        }
        return -1;
    }

    /** Index of the first NaN or ±Inf in {@code x}, or -1. */
    public static int firstNonFinite(float[] x) {
        for (int i = 0; i < x.length; i++) if (!Float.isFinite(x[i])) return i;
        return -1;
    }

    /** Refuses the first of {@code tensors} (by name) that holds NaN or ±Inf, naming it, the element and {@code file}. */
    public static void require(Path file, Map<String, TensorData> tensors, String what) {
        for (var e : tensors.entrySet()) {
            long i = firstNonFinite(e.getValue());
            if (i < 0) continue;
            float[] v = new float[1];
            e.getValue().toFloat(i, v, 0, 1);
            throw new BadInputException(file, what + " tensor '" + e.getKey() + "' holds " + v[0] + " at element " + i
                    + "; refusing to compute with it or write it");
        }
    }
}
