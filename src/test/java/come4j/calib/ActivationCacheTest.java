package come4j.calib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ActivationCacheTest {
    @Test
    void readsWhatWasStoredAndRefusesABoundaryNobodyStored() {
        float[] h = {1, 2, 3, 4, 5, 6}, got = new float[6];
        try (ActivationCache base = new ActivationCache(2, 3, 2); ActivationCache over = ActivationCache.over(base)) {
            base.put(0, 1, h, 0);
            over.get(0, 1, got, 0);
            assertArrayEquals(h, got, "the overlay reads the base's boundary");
            var e = assertThrows(IllegalStateException.class, () -> over.get(5, 0, got, 0));
            assertTrue(e.getMessage().contains("boundary 5"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> base.getRows(1, 0, 0, 1, got, 0));
            over.put(5, 0, h, 0);
            over.getRows(5, 0, 1, 2, got, 0);
            assertArrayEquals(new float[] {3, 4, 5, 6}, java.util.Arrays.copyOf(got, 4));
        }
    }
}
