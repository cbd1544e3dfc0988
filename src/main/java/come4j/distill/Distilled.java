package come4j.distill;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.calib.CalibrationContext;
import come4j.io.BadInputException;
import come4j.merge.Compression;
import come4j.merge.CompressionMethod;
import come4j.merge.WorkingModel;
import come4j.model.LayerWeights;
import come4j.model.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A method followed by hierarchical distillation of its merged layers (schedule sp), as one method: `come compress
 * --method come+distill`, and the distilled rows of `come bench`. The teacher is the run's original model; the output
 * records the distillation under "distill" as come-distill.json does.
 */
public record Distilled(CompressionMethod inner, List<Path> data, HierarchicalDistiller.Settings train) implements CompressionMethod {
    public static final String SUFFIX = "+distill";
    /** The name the distilled layers are committed under ({@link WorkingModel#steps}). */
    private static final String BY = "distill";
    private static final int SEQ_LEN = 256;
    private static final long SEED = 0;

    @Override
    public String name() {
        return inner.name() + SUFFIX;
    }

    @Override
    public boolean calibrated() {
        return inner.calibrated();
    }

    /**
     * The inner method, then one committed step of every distilled layer (its record: come-merge.json's "distill"): a
     * rerun after it replays the layers; one killed while distilling replays the inner method's steps and distils again.
     */
    @Override
    public Compression run(WorkingModel work, int targetLayers, Consumer<String> log) {
        if (data.isEmpty()) throw new BadInputException(null, name() + " needs training text (--distill-data)");
        Compression c = inner.run(work, targetLayers, log);
        List<HierarchicalDistiller.Block> blocks = new ArrayList<>();
        for (int j = 0; j < c.tree().size(); j++) {
            List<Integer> e = c.tree().get(j);
            if (e.size() > 1) blocks.add(new HierarchicalDistiller.Block(j, e.getFirst(), e.getLast()));
        }
        if (blocks.isEmpty()) return c; // nothing merged (a removal method): nothing to distil
        if (work.steps(BY).isEmpty()) distil(work, c, blocks, log);
        ObjectNode record = c.record().deepCopy();
        record.set("distill", work.records(BY).getFirst());
        return work.toCompression(c.settings(), record);
    }

    private void distil(WorkingModel work, Compression c, List<HierarchicalDistiller.Block> blocks, Consumer<String> log) {
        CalibrationContext ctx = work.context();
        int T = Math.min(SEQ_LEN, ctx.model().config().maxPositions());
        HierarchicalDistiller.Settings train = this.train.sized(c.config(), T);
        TrainingWindows windows;
        try (Tokenizer tok = Tokenizer.load(ctx.checkpoint().tokenizerFile())) {
            windows = TrainingWindows.build(data, tok, T, train.steps() * train.batch(), SEED, DistillJob.heldOut(train));
        }
        log.accept(DistillJob.plan(blocks.size(), train, T, windows, c.config()));
        ObjectNode distill = JsonNodeFactory.instance.objectNode();
        ObjectNode settings = distill.putObject("settings").put("schedule", "sp");
        settings.setAll(train.json());
        settings.setAll(DistillJob.dataJson(data, T, SEED, train));
        settings.put("windows", windows.training()).put("windows_available", windows.available());
        if (train.auto() != null) settings.put("held_out_windows", windows.heldOut());
        var trainedJson = distill.putArray("layers");
        Loss.Head head = train.loss() == Loss.LOGIT_LENS_KL ? Loss.Head.of(ctx.checkpoint()) : null;
        for (var t : HierarchicalDistiller.distil(ctx.model(), c.config(), blocks,
                blocks.stream().map(b -> LayerWeights.of(c.config(), c.layers().get(b.layer()))).toList(), windows, train, head, null, log)) {
            work.replace(t.block().layer(), t.params().store(work.store(), ctx.checkpoint().dtype()));
            trainedJson.add(t.json());
            log.accept(String.format("distilled layer %d (original %d-%d): %s %.5g -> %.5g", t.block().layer(), t.block().first(),
                    t.block().last(), train.loss().id, t.losses().getFirst(), t.losses().getLast()));
        }
        work.commit(BY, distill);
    }
}
