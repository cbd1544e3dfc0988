package come4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Fp64GemmTest {
    @Test
    void subtractsTheProductOfStridedOperandsAgainstTripleLoop() {
        // 13 × 300 by depth 600: past one packed block in depth (256) and in columns (256), edge tiles in both
        // directions; A read transposed (row stride 1), B read with its rows reversed (negative row stride)
        int M = 13, N = 300, depth = 600;
        SplittableRandom rnd = new SplittableRandom(64);
        double[] at = new double[depth * M], b = new double[depth * N], c = new double[M * (N + 5)];
        for (int i = 0; i < at.length; i++) at[i] = rnd.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = rnd.nextDouble(-1, 1);
        for (int i = 0; i < c.length; i++) c[i] = rnd.nextDouble(-1, 1);
        double[] expected = c.clone();
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double s = 0;
                for (int k = 0; k < depth; k++) s += at[k * M + i] * b[(depth - 1 - k) * N + j];
                expected[i * (N + 5) + j] -= s;
            }
        Fp64Gemm.subtractProduct(M, N, depth, at, 0, 1, M, b, (depth - 1) * N, -N, 1, c, 0, N + 5);
        for (int i = 0; i < c.length; i++) assertEquals(expected[i], c[i], 1e-12, "element " + i);
    }
}
