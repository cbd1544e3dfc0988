package come4j.distill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.DType;
import come4j.io.Progress;
import come4j.io.RecordJson;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.merge.WorkingModel;
import come4j.model.Checkpoint;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Tokenizer;
import come4j.model.Transformer;
import come4j.report.DistillRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Schedule mp (method.md §14.2): each layer is distilled right after the merge that created it, before the next
 * statistics pass, so later statistics see the distilled layer. The teacher's boundaries are all computed once, up
 * front, since any block may come up.
 */
public final class StepDistiller implements WorkingModel.Refine, AutoCloseable {
    private final DistillationPlan plan;
    private final DistillationPlan.Prepared prepared;
    private final HierarchicalDistiller.Settings s;
    private final ScratchTensors store;
    private final DType dtype;
    private final Consumer<String> log;
    private final List<DistillRecord.Layer> record = new ArrayList<>();

    private StepDistiller(DistillationPlan plan, DistillationPlan.Prepared prepared, ScratchTensors store, DType dtype, Consumer<String> log) {
        this.plan = plan;
        this.prepared = prepared;
        this.s = plan.train();
        this.store = store;
        this.dtype = dtype;
        this.log = log;
    }

    /**
     * Schedule mp on the original model {@code base} (of checkpoint {@code ckpt}) with settings {@code s} (sized to its
     * layer) on the training text {@code data}: the teacher's boundaries over the windows are computed now, every one of
     * them; distilled layers go to {@code store} in the checkpoint's dtype.
     */
    public static StepDistiller prepare(HierarchicalDistiller.Settings s, List<Path> data, Checkpoint ckpt, Tokenizer tok, Transformer base,
                                        ScratchTensors store, Consumer<String> log) {
        DistillationPlan plan = DistillationPlan.sized(s, data, base.config());
        return new StepDistiller(plan, plan.prepare(tok, ckpt, base, null, log), store, ckpt.dtype(), log);
    }

    @Override
    public WorkingModel.Refined apply(ModelConfig c, int position, List<Integer> originals, Map<String, TensorData> tensors, Path states) {
        var block = new HierarchicalDistiller.Block(position, originals.getFirst(), originals.getLast());
        HierarchicalDistiller.Trained t;
        try (Progress bar = Progress.start("distill", (long) HierarchicalDistiller.stepsPerLayer(s) * s.batch() * plan.seqLen(), "tok")) {
            t = prepared.distiller(c, states, log).train(block, LayerWeights.of(c, tensors), bar);
        }
        List<Double> loss = t.losses();
        log.accept(String.format("distilled layer %d (original %s): %s %.5g -> %.5g", position, originals, s.loss().id,
                loss.getFirst(), loss.getLast()));
        record.add(t.record());
        return new WorkingModel.Refined(t.params().store(store, dtype), t.json());
    }

    @Override
    public void replayed(JsonNode note) {
        record.add(RecordJson.read(note, DistillRecord.Layer.class));
    }

    /** come-merge.json's "distill": the settings and the loss curves of every distilled step, in merge order. */
    public ObjectNode record() {
        return DistillationPlan.record(plan.settings("mp", null, null, null), record);
    }

    @Override
    public void close() {
        prepared.close();
    }
}
