package come4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
