package come4j.distill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.calib.CalibrationContext;
import come4j.io.BadInputException;
import come4j.io.RecordJson;
import come4j.merge.Compression;
import come4j.merge.CompressionMethod;
import come4j.merge.WorkingModel;
import come4j.model.LayerWeights;
import come4j.model.Tokenizer;
import come4j.report.DistillRecord;
import come4j.report.DistillSettings;
import java.nio.file.Path;
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

    @Override
    public String name() {
        return inner.name() + SUFFIX;
    }

    @Override
    public boolean calibrated() {
        return inner.calibrated();
    }

    /**
     * The inner method, then one committed step per distilled layer (its record: the settings and the layer's entry
     * of come-merge.json's "distill"). Layers train independently (each between its block's teacher boundaries), so a
     * rerun replays the layers already distilled and trains only the others.
     */
    @Override
    public Compression run(WorkingModel work, int targetLayers, Consumer<String> log) {
        if (data.isEmpty()) throw new BadInputException(null, name() + " needs training text (--distill-data)");
        Compression c = inner.run(work, targetLayers, log);
        List<HierarchicalDistiller.Block> blocks = DistillationPlan.blocks(c.tree());
        if (blocks.isEmpty()) return c; // nothing merged (a removal method): nothing to distil
        int done = work.steps(BY).size();
        if (done < blocks.size()) distil(work, c, blocks.subList(done, blocks.size()), log);
        List<JsonNode> steps = work.records(BY);
        List<DistillRecord.Layer> layers = steps.stream().map(r -> RecordJson.read(r.get("layer"), DistillRecord.Layer.class)).toList();
        ObjectNode record = c.record().deepCopy();
        record.set("distill", DistillationPlan.record(DistillSettings.of(steps.getFirst().get("settings")), layers));
        return work.toCompression(c.settings(), record);
    }

    private void distil(WorkingModel work, Compression c, List<HierarchicalDistiller.Block> blocks, Consumer<String> log) {
        CalibrationContext ctx = work.context();
        DistillationPlan plan = DistillationPlan.sized(train, data, c.config());
        try (Tokenizer tok = Tokenizer.load(ctx.checkpoint().tokenizerFile());
             DistillationPlan.Prepared p = plan.prepare(tok, ctx.checkpoint(), ctx.model(), blocks, log)) {
            DistillSettings settings = DistillationPlan.windows(plan.settings("sp", null, null, null), p.windows());
            p.distiller(c.config(), work.trainingStates(BY), log).trainAll(blocks,
                    blocks.stream().map(b -> LayerWeights.of(c.config(), c.layers().get(b.layer()))).toList(), t -> {
                        work.replace(t.block().layer(), t.params().store(work.store(), ctx.checkpoint().dtype()));
                        ObjectNode step = JsonNodeFactory.instance.objectNode();
                        step.set("settings", RecordJson.tree(settings));
                        step.set("layer", t.json());
                        work.commit(BY, step);
                        log.accept(String.format("distilled layer %d (original %d-%d): %s %.5g -> %.5g", t.block().layer(), t.block().first(),
                                t.block().last(), plan.train().loss().id, t.losses().getFirst(), t.losses().getLast()));
                    });
        }
    }
}
