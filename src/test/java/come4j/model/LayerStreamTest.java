package come4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import come4j.Fixtures;
import come4j.tensor.Backends;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class LayerStreamTest {
    @ParameterizedTest
    @MethodSource("come4j.Fixtures#forwardNames")
    void boundariesMatchTransformersHiddenStates(String name) throws Exception {
        var dir = Fixtures.DIR.resolve(name);
        JsonNode g = Fixtures.golden(name), hs = g.get("hidden_states");
        int[] ids = Fixtures.ints(g.get("input_ids"));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            Transformer m = Transformer.load(ckpt);
            // the golden sequence twice, streamed in batches of one: both windows must see the same states
            LayerStream s = new LayerStream(m, List.of(ids, ids.clone()), 1);
            for (int k = 0; k <= m.numLayers(); k++) {
                if (k > 0) s.advance(LayerHooks.NONE);
                // OPT-350m's last state in transformers is after project_out (32 wide); its logits cover that step
                if (hs.get(k).size() != ids.length * m.config().hiddenSize()) continue;
                for (int w = 0; w < 2; w++) {
                    double diff = Fixtures.maxAbsDiff(s.boundary(w), hs.get(k));
                    assertTrue(diff < 1e-4, name + " boundary " + k + " window " + w + ": " + diff);
                }
            }
        }
    }

    /** The hooked o_proj and down_proj inputs, pushed through W_o and W_down, rebuild the layer's residual update. */
    @ParameterizedTest
    @ValueSource(strings = {"mistral-f32", "llama-mha-f32"})
    void hooksSeeTheInputsOfOprojAndDownproj(String name) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(name))) {
            Transformer m = Transformer.load(ckpt);
            ModelConfig c = m.config();
            int T = 10, d = c.hiddenSize();
            int[] a = Arrays.copyOfRange(DecodingTest.IDS, 0, T), b = Arrays.copyOfRange(DecodingTest.IDS, 2, 2 + T);
            LayerStream s = new LayerStream(m, List.of(a, b), 2);
            s.advance(LayerHooks.NONE);
            float[][] before = {s.hidden(0).clone(), s.hidden(1).clone()};
            List<float[]> attn = new ArrayList<>(), ffn = new ArrayList<>();
            s.advance(new LayerHooks() {
                public void attentionOutput(int layer, float[] x, int rows) {
                    assertEquals(1, layer);
                    assertEquals(2 * T * c.qDim(), x.length);
                    attn.add(x.clone());
                }

                public void ffnInner(int layer, float[] x, int rows) {
                    assertEquals(2 * T * c.intermediateSize(), x.length);
                    ffn.add(x.clone());
                }
            });
            LayerWeights w = m.layers().get(1);
            float[] o = new float[2 * T * d], down = new float[2 * T * d];
            Backends.fp32().matmul(attn.get(0), 2 * T, w.o(), o);
            Backends.fp32().matmul(ffn.get(0), 2 * T, w.down(), down);
            for (int win = 0; win < 2; win++)
                for (int i = 0; i < T * d; i++) {
                    float rebuilt = before[win][i] + o[win * T * d + i] + down[win * T * d + i];
                    assertEquals(s.hidden(win)[i], rebuilt, 1e-5f);
                }
        }
    }

    /**
     * Arrays handed to hooks are the hook's to keep: the layers after it, and passes without hooks (which reuse their
     * arrays, {@link Workspace}), never write them.
     */
    @ParameterizedTest
    @ValueSource(strings = {"mistral-f32", "llama-mha-f32"})
    void hookedArraysAreNotWrittenLater(String name) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(name))) {
            Transformer m = Transformer.load(ckpt);
            int T = 10;
            int[] a = Arrays.copyOfRange(DecodingTest.IDS, 0, T), b = Arrays.copyOfRange(DecodingTest.IDS, 2, 2 + T);
            LayerStream s = new LayerStream(m, List.of(a, b), 2);
            List<float[]> kept = new ArrayList<>(), copies = new ArrayList<>();
            s.advance(new LayerHooks() {
                public void attentionOutput(int layer, float[] x, int rows) {
                    kept.add(x);
                    copies.add(x.clone());
                }

                public void ffnInner(int layer, float[] x, int rows) {
                    kept.add(x);
                    copies.add(x.clone());
                }
            });
            while (s.position() < m.numLayers()) s.advance(LayerHooks.NONE);
            m.tokenNll(new float[2 * T * m.config().hiddenSize()], 2 * T, new int[2 * T]);
            assertEquals(2, kept.size());
            for (int i = 0; i < kept.size(); i++) assertTrue(Arrays.equals(copies.get(i), kept.get(i)), "hooked array " + i + " was written");
        }
    }

    /** A thread's workspace hands out the same arrays call after call; a pass inside another on the thread gets its own. */
    @Test
    void workspaceArraysAreReusedButNotShared() {
        Workspace outer = Workspace.acquire();
        float[] q = outer.array(Workspace.Q, 64);
        Workspace inner = Workspace.acquire();
        assertTrue(inner != outer);
        assertTrue(inner.array(Workspace.Q, 64) != q);
        inner.release();
        outer.release();
        Workspace again = Workspace.acquire();
        assertTrue(again == outer);
        assertTrue(again.array(Workspace.Q, 64) == q);
        assertTrue(again.array(Workspace.Q, 32) != q); // another size: another array
        again.release();
    }
}
