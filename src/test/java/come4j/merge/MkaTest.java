package come4j.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import come4j.Fixtures;
import come4j.calib.CalibrationContext;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.model.Checkpoint;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MkaTest {
    static final double[][] S = {{1, .5, .2}, {.5, 1, .4}, {.2, .4, 1}};
    // by hand: s_1 = 1.9/3, s_2 = 1.6/3, ρ = 1.9/3.5, α = e^ρ / (1 + e^ρ); then rows 0 and 1: ρ = 1.7/3.6
    static final double ALPHA_12 = 0.6324768113161517, ALPHA_01 = 0.6159095915435134;

    @Test
    void alphaIsTheSigmoidOfTheShareOfMeanSimilarity() {
        assertEquals(ALPHA_12, Mka.alpha(S, 1, 2), 1e-15);
        assertEquals(ALPHA_01, Mka.alpha(S, 0, 1), 1e-15);
    }

    /**
     * 3 layers to 1 with the matrix above: first the last two, θ = α θ_1 + (1 − α) θ_2, then the new last two, rows 0
     * and 1 of S (current positions): θ = α' θ_0 + (1 − α') θ_12. Every tensor, norms and biases included.
     */
    @Test
    void mergesTheLastTwoLayersByTheWeightedSum() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("qwen2-f32")); ScratchTensors store = new ScratchTensors();
             CalibrationContext ctx = new CalibrationContext(ckpt, null, 1)) {
            Compression c = Mka.merge(new WorkingModel(ctx, store), S, 1, x -> {});
            assertEquals(List.of(List.of(0, 1, 2)), c.tree().entries());
            Map<String, TensorData> out = c.layers().getFirst();
            for (String name : Fixtures.layerTensorNames(ckpt, 0)) {
                float[] t0 = ctx.tensors().get(0).get(name).toFloat(), t1 = ctx.tensors().get(1).get(name).toFloat(),
                        t2 = ctx.tensors().get(2).get(name).toFloat(), got = out.get(name).toFloat();
                for (int i = 0; i < got.length; i++) {
                    double t12 = ALPHA_12 * t1[i] + (1 - ALPHA_12) * t2[i];
                    assertEquals(ALPHA_01 * t0[i] + (1 - ALPHA_01) * t12, got[i], 1e-6, name + "[" + i + "]");
                }
            }
            JsonNode merges = c.record().get("mka").get("merges");
            assertEquals(ALPHA_12, merges.get(0).get("alpha").asDouble(), 1e-15);
            assertEquals("[[0],[1,2]]", merges.get(1).get("original").toString());
        }
    }

    /** Fewer windows than the mutual information's neighbours + 1: refused with what to do, not an index error. */
    @Test
    void tooFewWindowsAreRefusedInOneLine() {
        List<int[]> windows = java.util.stream.IntStream.range(0, Mka.MIN_WINDOWS - 1).mapToObj(w -> new int[] {1 + w, 2, 3, 4}).toList();
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("qwen2-f32")); ScratchTensors store = new ScratchTensors();
             CalibrationContext ctx = new CalibrationContext(ckpt, new come4j.calib.CalibrationSet(windows, windows.size(), 4L * windows.size()), 1)) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(come4j.io.BadInputException.class,
                    () -> new Mka().run(new WorkingModel(ctx, store), 1, x -> {}));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("needs at least 6, not 5"), e.getMessage());
        }
    }
}
