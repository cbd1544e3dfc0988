package come4j.distill;

import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.Fixtures;
import come4j.model.Checkpoint;
import come4j.model.LayerHooks;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Rope;
import come4j.model.Transformer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The training forward pass computes what the inference path computes, and fp32 primitives agree with fp64 ones. */
class TrainingForwardTest {
    static java.util.stream.Stream<String> fixtures() {
        return Fixtures.names();
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void trainingForwardEqualsInferenceForward(String fixture) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(fixture))) {
            ModelConfig c = ckpt.config();
            Transformer m = Transformer.load(ckpt);
            int batch = 2, T = 13, d = c.hiddenSize();
            Random rnd = new Random(1);
            float[] h = new float[batch * T * d];
            for (int i = 0; i < h.length; i++) h[i] = (float) rnd.nextGaussian();
            for (int layer = 0; layer < c.numLayers(); layer++) {
                Arr x = Arr.of(h.clone());
                LayerParams p = LayerParams.of(c, LayerWeights.load(ckpt, layer), Arr::f32);
                Arr out = LayerBackprop.forward(c, new Rope(c), c.slidingWindow()[layer], p, x, batch, T).out;
                float[] expected = h.clone();
                m.layer(layer, expected, batch, T, 0, null, LayerHooks.NONE);
                double worst = 0, scale = 0;
                for (int i = 0; i < expected.length; i++) {
                    worst = Math.max(worst, Math.abs(out.get(i) - expected[i]));
                    scale = Math.max(scale, Math.abs(expected[i]));
                }
                assertTrue(worst < 2e-5 * scale, fixture + " layer " + layer + ": largest difference " + worst + " (scale " + scale + ")");
            }
        }
    }

    @Test
    void fp32PrimitivesAgreeWithFp64() {
        Random rnd = new Random(2);
        int n = 1000;
        Arr f = Arr.f32(n), d = Arr.f64(n);
        for (int i = 0; i < n; i++) {
            double v = 8 * rnd.nextGaussian();
            f.set(i, v);
            d.set(i, f.get(i));
        }
        double lf = f.logSumExp(3, 997), ld = d.logSumExp(3, 997);
        assertTrue(Math.abs(lf - ld) < 1e-5 * Math.abs(ld), "logSumExp " + lf + " vs " + ld);
        Arr sf = f.zeros(n), sd = d.zeros(n);
        sf.sigmoidOf(f, 0, n);
        sd.sigmoidOf(d, 0, n);
        f.expShift(0, n, ld);
        d.expShift(0, n, ld);
        for (int i = 0; i < n; i++) {
            assertTrue(Math.abs(sf.get(i) - sd.get(i)) < 1e-6, "sigmoid at " + i);
            assertTrue(Math.abs(f.get(i) - d.get(i)) <= 1e-5 * d.get(i) + 1e-30, "exp at " + i + ": " + f.get(i) + " vs " + d.get(i));
        }
    }
}
