package come4j.distill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import come4j.io.DType;
import come4j.io.Progress;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.merge.WorkingModel;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Schedule mp (method.md §14.2): each layer is distilled right after the merge that created it, before the next
 * statistics pass, so later statistics see the distilled layer. The teacher's boundaries are all computed once, up
 * front, since any block may come up.
 */
public final class StepDistiller implements WorkingModel.Refine {
    private final TeacherBoundaries teacher;
    private final TrainingWindows data;
    private final HierarchicalDistiller.Settings s;
    private final Loss.Head head;
    private final ScratchTensors store;
    private final DType dtype;
    private final Consumer<String> log;
    private final ArrayNode record = JsonNodeFactory.instance.arrayNode();

    public StepDistiller(TeacherBoundaries teacher, TrainingWindows data, HierarchicalDistiller.Settings s, Loss.Head head,
                         ScratchTensors store, DType dtype, Consumer<String> log) {
        this.teacher = teacher;
        this.data = data;
        this.s = s;
        this.head = head;
        this.store = store;
        this.dtype = dtype;
        this.log = log;
    }

    @Override
    public WorkingModel.Refined apply(ModelConfig c, int position, List<Integer> originals, Map<String, TensorData> tensors) {
        var block = new HierarchicalDistiller.Block(position, originals.getFirst(), originals.getLast());
        var distiller = new HierarchicalDistiller(c, head, teacher, data, s, null, log);
        HierarchicalDistiller.Trained t;
        try (Progress bar = Progress.start("distill", (long) HierarchicalDistiller.stepsPerLayer(s) * s.batch() * data.seqLen(), "tok")) {
            t = distiller.train(block, LayerWeights.of(c, tensors), bar);
        }
        List<Double> loss = t.losses();
        log.accept(String.format("distilled layer %d (original %s): %s %.5g -> %.5g", position, originals, s.loss().id,
                loss.getFirst(), loss.getLast()));
        var json = t.json();
        record.add(json);
        return new WorkingModel.Refined(t.params().store(store, dtype), json);
    }

    @Override
    public void replayed(JsonNode note) {
        record.add(note);
    }

    /** The loss curves of every distilled step, in merge order. */
    public ArrayNode record() {
        return record;
    }
}
