package come4j.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import come4j.Fixtures;
import come4j.io.DType;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.model.Checkpoint;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Merges checked against what method.md §7-8 says they must contain, on real fixture layers. */
class ConcatMergeTest {
    @Test
    void allocationRounding() {
        assertArrayEquals(new int[] {12, 20}, Allocation.allocate(32, 0.4, 0.6));      // method.md's LLaMA-2-7b example
        assertArrayEquals(new int[] {4403, 6605}, Allocation.allocate(11008, 0.4, 0.6));
        assertArrayEquals(new int[] {3, 2}, Allocation.allocate(5, 0.5, 0.5));          // tie: a is the major layer
        assertArrayEquals(new int[] {1, 3}, Allocation.allocate(4, 0.4999, 0.5001));
        assertArrayEquals(new int[] {3, 1}, Allocation.allocate(4, 0.74, 0.26));        // floor for the minor: 1.04 -> 1
        assertArrayEquals(new int[] {4, 0}, Allocation.allocate(4, 1, 0));
        assertArrayEquals(new int[] {0, 4}, Allocation.allocate(4, 0, 1));
    }

    @Test
    void topUnitsAreAscendingAndTiesGoToTheLowerIndex() {
        assertArrayEquals(new int[] {1, 3}, Allocation.top(new double[] {0.1, 0.9, 0.2, 0.8}, 2));
        assertArrayEquals(new int[] {0, 2}, Allocation.top(new double[] {0.5, 0.1, 0.5, 0.5}, 2));
        assertArrayEquals(new int[] {}, Allocation.top(new double[] {1, 2}, 0));
    }

    @Test
    void gqaQueryHeadsFollowTheirKvGroup() {
        ModelConfig c = config("llama3-gqa-f32"); // 4 query heads, 2 kv heads: n_rep 2
        assertArrayEquals(new int[] {2, 3}, ConcatMerge.queryHeads(c, new int[] {1}, false));
        assertArrayEquals(new int[] {1, 3}, ConcatMerge.queryHeads(c, new int[] {1}, true)); // the authors' tiling
        assertArrayEquals(new int[] {0, 1, 2, 3}, ConcatMerge.queryHeads(c, new int[] {0, 1}, false));
    }

    /** With ratio (1, 0) the merged layer is layer a (all units, same order), except the averaged norms. */
    @ParameterizedTest
    @ValueSource(strings = {"qwen2-f32", "qwen3-f32", "llama-mha-bf16", "opt-f32", "opt350-bf16", "gemma3-f32", "gemma3-bf16"})
    void ratioOneZeroReproducesLayerA(String name) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(name)); ScratchTensors store = new ScratchTensors()) {
            ModelConfig c = ckpt.config();
            Map<String, TensorData> a = LayerWeights.tensors(ckpt, 0), b = LayerWeights.tensors(ckpt, 1);
            MergedLayer m = ConcatMerge.merge(c, a, b, scores(c, 1), scores(c, 2), 1, 0, false, store, ckpt.dtype());
            assertEquals(0, m.headsB().length);
            assertEquals(0, m.channelsB().length);
            for (String s : Fixtures.layerTensorNames(ckpt, 0)) {
                float[] got = m.tensors().get(s).toFloat(), fa = a.get(s).toFloat(), fb = b.get(s).toFloat();
                if (s.endsWith("layernorm.weight") || s.contains("layer_norm.")) // OPT's LayerNorms: weight and bias, plain mean
                    for (int i = 0; i < got.length; i++) assertEquals(round(ckpt.dtype(), (fa[i] + fb[i]) / 2), got[i], s);
                else assertArrayEquals(fa, got, s); // biases and q/k norms: 1 * a + 0 * b
            }
        }
    }

    /** GQA, n_rep = 2, half and half: a keeps kv group 1, b keeps group 0; checked head by head. */
    @Test
    void gqaHalfAndHalfKeepsQueryHeadsWithTheirKvHeads() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("qwen2-f32")); ScratchTensors store = new ScratchTensors()) {
            ModelConfig c = ckpt.config();
            int hd = c.headDim(), d = c.hiddenSize(), F = c.intermediateSize();
            Map<String, TensorData> a = LayerWeights.tensors(ckpt, 0), b = LayerWeights.tensors(ckpt, 2);
            double[] chA = new double[F], chB = new double[F];
            for (int j = 0; j < F; j++) {
                chA[j] = j % 2 == 0 ? 2 : 1; // a's even channels, b's odd ones score higher
                chB[j] = j % 2 == 1 ? 2 : 1;
            }
            var sa = new ConcatMerge.Scores(new double[] {0.1, 0.9}, chA);
            var sb = new ConcatMerge.Scores(new double[] {0.7, 0.3}, chB);
            MergedLayer m = ConcatMerge.merge(c, a, b, sa, sb, 0.5, 0.5, false, store, DType.F32);
            assertArrayEquals(new int[] {1}, m.headsA());
            assertArrayEquals(new int[] {0}, m.headsB());
            String at = "self_attn.";
            // merged query heads 0,1 = a's heads 2,3 (kv group 1); 2,3 = b's heads 0,1 (kv group 0)
            int[][] qSource = {{0, 2}, {0, 3}, {1, 0}, {1, 1}};
            for (int j = 0; j < 4; j++) {
                Map<String, TensorData> src = qSource[j][0] == 0 ? a : b;
                int h = qSource[j][1];
                assertArrayEquals(block(src.get(at + "q_proj.weight"), h * hd, hd, d), block(m.tensors().get(at + "q_proj.weight"), j * hd, hd, d));
                assertArrayEquals(block(src.get(at + "q_proj.bias"), h * hd, hd, 1), block(m.tensors().get(at + "q_proj.bias"), j * hd, hd, 1));
                for (int r = 0; r < d; r++) // o_proj columns of the same head, same order
                    assertArrayEquals(row(src.get(at + "o_proj.weight"), r, h * hd, hd), row(m.tensors().get(at + "o_proj.weight"), r, j * hd, hd));
                // merged head j reads merged kv slot j / n_rep, which must be the source head's own kv group
                int slot = j / c.nRep(), group = h / c.nRep();
                for (String kv : new String[] {"k_proj.weight", "v_proj.weight"})
                    assertArrayEquals(block(src.get(at + kv), group * hd, hd, d), block(m.tensors().get(at + kv), slot * hd, hd, d));
            }
            // FFN: a's channels 0,2,4,... then b's 1,3,5,...; down_proj columns in the same order
            int half = F / 2;
            for (int i = 0; i < half; i++) {
                assertArrayEquals(block(a.get("mlp.gate_proj.weight"), 2 * i, 1, d), block(m.tensors().get("mlp.gate_proj.weight"), i, 1, d));
                assertArrayEquals(block(b.get("mlp.up_proj.weight"), 2 * i + 1, 1, d), block(m.tensors().get("mlp.up_proj.weight"), half + i, 1, d));
                assertEquals(row(b.get("mlp.down_proj.weight"), 5, 2 * i + 1, 1)[0], row(m.tensors().get("mlp.down_proj.weight"), 5, half + i, 1)[0]);
            }
        }
    }

    @Test
    void weightSumIsTheRatioWeightedSumOfEveryTensor() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("qwen3-f32")); ScratchTensors store = new ScratchTensors()) {
            ModelConfig c = ckpt.config();
            Map<String, TensorData> a = LayerWeights.tensors(ckpt, 1), b = LayerWeights.tensors(ckpt, 2);
            MergedLayer m = WeightSumMerge.merge(c, a, b, 0.25, 0.75, store, DType.F32);
            for (String s : Fixtures.layerTensorNames(ckpt, 0)) {
                float[] got = m.tensors().get(s).toFloat(), fa = a.get(s).toFloat(), fb = b.get(s).toFloat();
                for (int i = 0; i < got.length; i += 7) assertEquals(0.25f * fa[i] + 0.75f * fb[i], got[i], 1e-7f, s);
            }
        }
    }

    private static float round(DType t, float v) {
        return t == DType.BF16 ? Float.intBitsToFloat(come4j.io.Convert.toBf16(v) << 16) : v;
    }

    private static ConcatMerge.Scores scores(ModelConfig c, int seed) {
        java.util.Random r = new java.util.Random(seed);
        return new ConcatMerge.Scores(r.doubles(c.numKvHeads()).toArray(), r.doubles(c.intermediateSize()).toArray());
    }

    private static float[] block(TensorData t, int row0, int rows, int cols) {
        float[] out = new float[rows * cols];
        t.toFloat((long) row0 * cols, out, 0, out.length);
        return out;
    }

    private static float[] row(TensorData t, int r, int c0, int n) {
        float[] out = new float[n];
        t.toFloat((long) r * t.cols() + c0, out, 0, n);
        return out;
    }

    static ModelConfig config(String fixture) {
        return ModelConfig.load(Fixtures.DIR.resolve(fixture).resolve("config.json"));
    }
}
