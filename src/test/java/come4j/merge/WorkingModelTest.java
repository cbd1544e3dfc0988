package come4j.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import come4j.Fixtures;
import come4j.calib.CalibrationContext;
import come4j.io.RunFolder;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.model.Checkpoint;
import come4j.model.ModelConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The edits of a working model on a 5-layer model, against trees and layer lists written out by hand. */
class WorkingModelTest {
    /** A refinement that hands back a fixed layer and counts what it did. */
    static final class Fixed implements WorkingModel.Refine {
        final Map<String, TensorData> layer;
        final List<JsonNode> replayed = new ArrayList<>();
        int applied;

        Fixed(Map<String, TensorData> layer) {
            this.layer = layer;
        }

        public WorkingModel.Refined apply(ModelConfig c, int position, List<Integer> originals, Map<String, TensorData> tensors, java.nio.file.Path states) {
            applied++;
            return new WorkingModel.Refined(layer, JsonNodeFactory.instance.objectNode().put("at", position).put("originals", originals.toString()));
        }

        public void replayed(JsonNode note) {
            replayed.add(note);
        }
    }

    /** Steps kept in memory, as a run folder would keep them. */
    static final class Memory implements WorkingModel.Log {
        List<WorkingModel.Step> steps = List.of();

        public List<WorkingModel.Step> saved() {
            return steps;
        }

        public void save(List<WorkingModel.Step> s) {
            steps = s;
        }
    }

    @Test
    void editsChangeTreeConfigTensorsAndModelTogether(@TempDir Path tmp) throws Exception {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.deepened("qwen2-f32", 5, tmp.resolve("m"))); ScratchTensors store = new ScratchTensors();
             CalibrationContext ctx = new CalibrationContext(ckpt, null, 1)) {
            List<Map<String, TensorData>> t = ctx.tensors();
            WorkingModel w = new WorkingModel(ctx, store);
            w.collapse(1, 3, t.get(4)); // layers 1..3 become one layer, given layer 4's tensors
            assertEquals(List.of(List.of(0), List.of(1, 2, 3), List.of(4)), w.tree().entries());
            assertEquals(List.of(t.get(0), t.get(4), t.get(4)), w.tensors());
            assertEquals(3, w.config().numLayers());
            assertEquals(3, w.model().layers().size());
            assertSame(ctx.model().layers().get(0), w.model().layers().get(0), "an unchanged layer keeps its weights");

            WorkingModel.State tried = w.candidate(new WorkingModel.Remove(0));
            assertEquals(List.of(List.of(1, 2, 3), List.of(4)), tried.tree().entries());
            assertEquals(3, w.size(), "a candidate changes nothing");

            w.remove(0);
            w.merge(0, t.get(2)); // no refinement: the pair's tensors as given
            assertEquals(List.of(List.of(1, 2, 3, 4)), w.tree().entries());
            assertEquals(List.of(t.get(2)), w.tensors());
            w.replace(0, t.get(3));
            assertEquals(List.of(t.get(3)), w.tensors());
            assertEquals(1, w.model().numLayers());
            assertThrows(IllegalStateException.class, () -> w.toCompression(null, null), "edits must be committed first");
            w.commit("test", JsonNodeFactory.instance.objectNode());
            Compression c = w.toCompression(come4j.report.RunSettings.MethodSettings.NONE, JsonNodeFactory.instance.objectNode());
            assertEquals(List.of(List.of(1, 2, 3, 4)), c.tree().entries());
            assertEquals(1, c.config().numLayers());
        }
    }

    /** A rerun replays the saved steps: the same tree and layers, the refinement's notes handed back, nothing refined again. */
    @Test
    void replayEqualsTheLiveModelAndRefinesNothing(@TempDir Path tmp) throws Exception {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.deepened("qwen2-f32", 5, tmp.resolve("m"))); ScratchTensors store = new ScratchTensors();
             CalibrationContext ctx = new CalibrationContext(ckpt, null, 1)) {
            List<Map<String, TensorData>> t = ctx.tensors();
            Memory log = new Memory();
            Fixed live = new Fixed(t.get(0));
            WorkingModel w = new WorkingModel(ctx, store, log, live, x -> {});
            w.merge(3, t.get(1)); // merged into t1, then refined into t0
            w.commit("a", JsonNodeFactory.instance.numberNode(1));
            w.remove(0);
            w.commit("b", JsonNodeFactory.instance.numberNode(2));
            assertEquals(1, live.applied);
            assertEquals(List.of(List.of(1), List.of(2), List.of(3, 4)), w.tree().entries());
            assertEquals(List.of(t.get(1), t.get(2), t.get(0)), w.tensors());

            Fixed again = new Fixed(t.get(2));
            List<String> lines = new ArrayList<>();
            WorkingModel r = new WorkingModel(ctx, store, log, again, lines::add);
            assertEquals(List.of("resuming after step 2 (saved by an interrupted run)"), lines);
            assertEquals(w.tree().entries(), r.tree().entries());
            assertEquals(w.tensors(), r.tensors());
            assertEquals(w.config().numLayers(), r.config().numLayers());
            assertEquals(0, again.applied);
            assertEquals(List.of("{\"at\":3,\"originals\":\"[3, 4]\"}"), again.replayed.stream().map(JsonNode::toString).toList());
            assertEquals(List.of(JsonNodeFactory.instance.numberNode(2)), r.records("b"));
        }
    }

    /** What EditStore saves reads back as the same steps, with each new layer's bytes. */
    @Test
    void editStoreReadsBackItsSteps(@TempDir Path tmp) throws Exception {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("qwen2-f32")); ScratchTensors store = new ScratchTensors();
             CalibrationContext ctx = new CalibrationContext(ckpt, null, 1)) {
            List<Map<String, TensorData>> t = ctx.tensors();
            Path out = tmp.resolve("out");
            try (RunFolder run = RunFolder.open(out, "settings"); EditStore saved = new EditStore(run)) {
                WorkingModel w = new WorkingModel(ctx, store, saved, new Fixed(t.get(2)), x -> {});
                w.merge(0, t.get(1));
                w.commit("a", JsonNodeFactory.instance.objectNode().put("x", 0.1));
                w.remove(1);
                w.commit("b", JsonNodeFactory.instance.nullNode());
            }
            try (RunFolder run = RunFolder.open(out, "settings"); EditStore saved = new EditStore(run)) {
                List<WorkingModel.Step> steps = saved.saved();
                assertEquals(List.of("a", "b"), steps.stream().map(WorkingModel.Step::by).toList());
                assertEquals(0.1, steps.getFirst().record().get("x").asDouble());
                var edits = steps.getFirst().edits();
                var collapse = (WorkingModel.Collapse) edits.get(0);
                assertEquals(List.of(0, 1), List.of(collapse.first(), collapse.last()));
                assertSameBytes(t.get(1), collapse.tensors());
                var replace = (WorkingModel.Replace) edits.get(1);
                assertEquals(0, replace.at());
                assertEquals("[0, 1]", replace.note().get("originals").asText());
                assertSameBytes(t.get(2), replace.tensors());
                assertEquals(new WorkingModel.Remove(1), steps.get(1).edits().getFirst());
            }
        }
    }

    private static void assertSameBytes(Map<String, TensorData> expected, Map<String, TensorData> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String name : expected.keySet()) assertArrayEquals(expected.get(name).toFloat(), actual.get(name).toFloat(), name);
    }
}
