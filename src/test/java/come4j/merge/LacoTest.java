package come4j.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import come4j.Fixtures;
import come4j.calib.CalibrationContext;
import come4j.calib.CalibrationSet;
import come4j.calib.Similarity;
import come4j.io.BadInputException;
import come4j.io.DType;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.model.Checkpoint;
import come4j.model.LayerHooks;
import come4j.model.LayerWeights;
import come4j.model.Tokenizer;
import come4j.model.Transformer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LacoTest {
    /** RDSC, weight by weight: θ_0 + (θ_1 − θ_0) + (θ_2 − θ_0) on the projections, layer 0's norms as they were. */
    @Test
    void rdscSumsTheDifferencesToTheFirstLayer() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("qwen2-f32")); ScratchTensors store = new ScratchTensors()) {
            List<Map<String, TensorData>> layers = new ArrayList<>();
            for (int i = 0; i < 3; i++) layers.add(LayerWeights.tensors(ckpt, i));
            Map<String, TensorData> m = Laco.rdsc(ckpt.config(), layers, store, DType.F32);
            for (String name : Fixtures.layerTensorNames(ckpt, 0)) {
                float[] a = layers.get(0).get(name).toFloat(), b = layers.get(1).get(name).toFloat(), c = layers.get(2).get(name).toFloat();
                float[] got = m.get(name).toFloat();
                if (name.endsWith("_proj.weight")) {
                    for (int i = 0; i < a.length; i++) assertEquals((double) a[i] + (b[i] - (double) a[i]) + (c[i] - (double) a[i]), got[i], 1e-6, name + "[" + i + "]");
                } else {
                    assertSame(layers.get(0).get(name), m.get(name), name + " is layer 0's"); // norms and q/k/v biases kept
                }
            }
        }
    }

    static CalibrationSet set(Checkpoint ckpt, int seqLen) {
        try (Tokenizer tok = Tokenizer.load(ckpt.tokenizerFile())) {
            return CalibrationSet.build(List.of(Fixtures.PPL_TEXT), tok, CalibrationSet.Recipe.authors(256, seqLen, 10, "text"));
        }
    }

    /** The similarity of LaCo's first try, computed here window by window on the full models, without any cache. */
    @Test
    void firstTryMeasuresTheCosineOfTheFinalHiddenStates() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama3-gqa-f32")); ScratchTensors store = new ScratchTensors()) {
            CalibrationSet set = set(ckpt, 32);
            Compression c;
            try (CalibrationContext ctx = new CalibrationContext(ckpt, set, 4)) {
                c = new Laco(Laco.Settings.DEFAULTS).run(new WorkingModel(ctx, store), 2, x -> {});
            }
            JsonNode laco = c.record().get("laco");
            assertEquals(2, laco.get("c").asInt()); // C = 4 does not fit 3 layers: the largest that does
            JsonNode first = laco.get("tries").get(0);
            assertEquals(0, first.get("l").asInt());
            assertEquals(1, first.get("m").asInt());
            Transformer full = Transformer.load(ckpt);
            List<Map<String, TensorData>> t = List.of(LayerWeights.tensors(ckpt, 0), LayerWeights.tensors(ckpt, 1));
            var cfg = full.config().withLayers(new int[] {0, 2});
            Transformer collapsed = full.withLayers(cfg, List.of(LayerWeights.of(cfg, Laco.rdsc(full.config(), t, store, DType.F32)), full.layers().get(2)));
            double sum = 0;
            for (int[] w : set.windows()) sum += Similarity.cosine(finalHidden(collapsed, w), 0, finalHidden(full, w), 0, w.length * cfg.hiddenSize());
            assertEquals(sum / set.windows().size(), first.get("cosine").asDouble(), 1e-9);
            assertEquals(List.of(List.of(0, 1), List.of(2)), c.tree().entries());
            assertTrue(laco.get("threshold").asDouble() < first.get("cosine").asDouble());
        }
    }

    static float[] finalHidden(Transformer m, int[] ids) {
        float[] h = m.embed(ids);
        for (int i = 0; i < m.numLayers(); i++) m.layer(i, h, 1, ids.length, 0, null, LayerHooks.NONE);
        return m.finalNorm(h, 0, ids.length);
    }

    /**
     * On 8 layers to 5: the search ends at exactly the target, every kept try's cosine is above T and every rejected
     * one's at most T, T sits just under the smallest kept cosine, and a slightly higher T would not reach 5 layers.
     */
    @Test
    void thresholdSearchReachesTheTargetExactly(@TempDir Path tmp) throws Exception {
        Path model = Fixtures.deepened("llama-mha-f32", 8, tmp.resolve("m8"));
        try (Checkpoint ckpt = Checkpoint.open(model); ScratchTensors store = new ScratchTensors();
             CalibrationContext ctx = new CalibrationContext(ckpt, set(ckpt, 32), 4)) {
            List<String> log = new ArrayList<>();
            Compression c = new Laco(new Laco.Settings(3, 1, 0)).run(new WorkingModel(ctx, store), 5, log::add);
            assertEquals(5, c.config().numLayers());
            assertEquals(5, c.tree().size());
            JsonNode laco = c.record().get("laco");
            double t = laco.get("threshold").asDouble(), minKept = Double.POSITIVE_INFINITY;
            int removed = 0;
            for (JsonNode x : laco.get("tries")) {
                double cos = x.get("cosine").asDouble();
                if (x.get("kept").asBoolean()) {
                    assertTrue(cos > t);
                    minKept = Math.min(minKept, cos);
                    removed += x.get("m").asInt();
                } else {
                    assertTrue(cos <= t);
                }
                JsonNode o = x.get("original"); // the originals the window's m + 1 layers stand for: a contiguous block
                assertTrue(o.size() >= x.get("m").asInt() + 1);
                assertEquals(o.get(0).asInt() + o.size() - 1, o.get(o.size() - 1).asInt());
            }
            assertEquals(3, removed);
            List<Double> measured = new ArrayList<>(); // every collapse any walk tried, each measured once
            laco.get("measured").forEach(x -> measured.add(x.get("cosine").asDouble()));
            for (JsonNode x : laco.get("tries")) assertTrue(measured.contains(x.get("cosine").asDouble()));
            assertEquals(minKept, t, 1e-8);
            List<Integer> flat = new ArrayList<>();
            c.tree().entries().forEach(flat::addAll);
            assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), flat);
            assertEquals(List.of(7), c.tree().get(4)); // the top layer is never merged
            // the search's last walk above T reached another count
            boolean above = false;
            for (JsonNode s : laco.get("search")) above |= s.get("threshold").asDouble() > t && s.get("layers").asInt() != 5;
            assertTrue(above, laco.get("search").toString());
            assertTrue(log.getLast().contains("5 layers"), log.getLast());
        }
    }

    /**
     * A context shared by two targets (as in a bench) reuses the first search's measured collapses, and the second
     * record is the same as on a fresh context.
     */
    @Test
    void searchesOnOneContextShareMeasuredCollapses(@TempDir Path tmp) throws Exception {
        Path model = Fixtures.deepened("llama-mha-f32", 8, tmp.resolve("m8"));
        Laco laco = new Laco(new Laco.Settings(3, 1, 0));
        try (Checkpoint ckpt = Checkpoint.open(model); ScratchTensors store = new ScratchTensors()) {
            CalibrationSet set = set(ckpt, 32);
            JsonNode fresh;
            try (CalibrationContext ctx = new CalibrationContext(ckpt, set, 4)) {
                fresh = laco.run(new WorkingModel(ctx, store), 5, x -> {}).record();
            }
            try (CalibrationContext ctx = new CalibrationContext(ckpt, set, 4)) {
                laco.run(new WorkingModel(ctx, store), 6, x -> {});
                java.util.Map<String, Double> known = ctx.shared("laco.cosines", java.util.HashMap::new);
                int before = known.size();
                assertEquals(fresh, laco.run(new WorkingModel(ctx, store), 5, x -> {}).record());
                assertTrue(known.size() - before < fresh.get("laco").get("measured").size(), "nothing reused");
            }
        }
    }

    @Test
    void unreachableTargetIsOneClearLine() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama-mha-f32")); ScratchTensors store = new ScratchTensors();
             CalibrationContext ctx = new CalibrationContext(ckpt, set(ckpt, 32), 4)) {
            // the top layer never merges and one collapse at l = 0 ends the walk: 3 layers cannot become 1
            BadInputException e = assertThrows(BadInputException.class, () -> new Laco(Laco.Settings.DEFAULTS).run(new WorkingModel(ctx, store), 1, x -> {}));
            assertTrue(e.getMessage().contains("cannot reach 1 layers"), e.getMessage());
        }
    }
}
