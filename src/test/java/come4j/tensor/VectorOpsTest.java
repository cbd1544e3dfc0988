package come4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.io.Convert;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class VectorOpsTest {
    @Test
    void vectorExpIsWithinTwoUlpOfMathExp() {
        int L = FloatVector.SPECIES_PREFERRED.length();
        float[] x = new float[L], y = new float[L];
        double worst = 0;
        for (float v = -87f; v < 88f; v += 0.001953125f * L) {
            for (int i = 0; i < L; i++) x[i] = v + i * 0.001953125f;
            VectorOps.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, 0)).intoArray(y, 0);
            for (int i = 0; i < L; i++) {
                double exact = Math.exp(x[i]);
                worst = Math.max(worst, Math.abs(y[i] - exact) / Math.ulp((float) exact));
            }
        }
        assertTrue(worst <= 2, "worst error " + worst + " ulp");
    }

    @Test
    void softmaxSumsToOneAndKeepsOrder() {
        float[] x = {1f, 2f, 3f, -1f, 0.5f, 10f, -20f, 4f, 2f, 3f, 1f, 0f, 5f, 6f, 7f, 8f, 9f, -3f, 2.5f};
        float[] p = x.clone();
        VectorOps.softmax(p, 0, p.length);
        double sum = 0, norm = 0;
        for (float v : x) norm += Math.exp(v - 10);
        for (int i = 0; i < p.length; i++) {
            sum += p[i];
            assertEquals(Math.exp(x[i] - 10) / norm, p[i], 1e-6);
        }
        assertEquals(1.0, sum, 1e-6);
        assertEquals(Math.log(norm) + 10, VectorOps.logSumExp(x, 0, x.length), 1e-5);
    }

    /**
     * The fused softmax numerators from native scores to bf16 equal exponentiating a copy padded with -inf and rounding
     * it, on rows with and without a partial last vector, with room for it (read and written whole, lanes past n
     * holding garbage that must not leak) and without (the last row of the scores, or too little room).
     */
    @Test
    void expSumToBf16MatchesExpSumThenRounding() {
        int L = FloatVector.SPECIES_PREFERRED.length();
        Random rnd = new Random(5);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : new int[] {1, L - 1, L, L + 3, 3 * L, 3 * L + 1})
                for (int room : new int[] {n, n + 2 * L}) {
                    MemorySegment scores = arena.allocate(4L * room), probs = arena.allocate(2L * room);
                    for (int i = 0; i < room; i++) scores.setAtIndex(ValueLayout.JAVA_FLOAT, i, i < n ? (float) rnd.nextGaussian() * 4 : Float.NaN);
                    for (int i = 0; i < room; i++) probs.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) -1);
                    float sum = VectorOps.expSumToBf16(scores, 0, n, room, 0.3f, probs, 0);
                    float[] padded = new float[(n + L - 1) / L * L];
                    Arrays.fill(padded, Float.NEGATIVE_INFINITY);
                    MemorySegment.copy(scores, ValueLayout.JAVA_FLOAT, 0, padded, 0, n);
                    assertEquals(VectorOps.expSum(padded, 0, padded.length, 0.3f), sum, 1e-6f * sum, "n " + n + ", room " + room);
                    short[] expected = new short[n];
                    Convert.toBf16(padded, 0, n, expected, 0);
                    for (int i = 0; i < n; i++) assertEquals(expected[i], probs.getAtIndex(ValueLayout.JAVA_SHORT, i), "n " + n + " at " + i);
                    for (int i = n; i < Math.min(room, padded.length); i++) assertEquals(0, probs.getAtIndex(ValueLayout.JAVA_SHORT, i));
                }
        }
    }
}
