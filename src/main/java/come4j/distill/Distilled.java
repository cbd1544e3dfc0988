package come4j.distill;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.calib.CalibrationContext;
import come4j.io.BadInputException;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.merge.Compression;
import come4j.merge.CompressionMethod;
import come4j.model.LayerWeights;
import come4j.model.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A method followed by hierarchical distillation of its merged layers (schedule sp), as one method: `come compress
 * --method come+distill`, and the distilled rows of `come bench`. The teacher is the run's original model; the output
 * records the distillation under "distill" as come-distill.json does.
 */
public record Distilled(CompressionMethod inner, List<Path> data, HierarchicalDistiller.Settings train) implements CompressionMethod {
    public static final String SUFFIX = "+distill";

    @Override
    public String name() {
        return inner.name() + SUFFIX;
    }

    @Override
    public boolean calibrated() {
        return inner.calibrated();
    }

    @Override
    public Compression run(CalibrationContext ctx, int targetLayers, ScratchTensors store, Consumer<String> log) {
        if (data.isEmpty()) throw new BadInputException(null, name() + " needs training text (--distill-data)");
        Compression c = inner.run(ctx, targetLayers, store, log);
        List<HierarchicalDistiller.Block> blocks = DistillationPlan.blocks(c.tree());
        if (blocks.isEmpty()) return c; // nothing merged (a removal method): nothing to distil
        DistillationPlan plan = DistillationPlan.sized(train, data, c.config());
        List<Map<String, TensorData>> layers = new ArrayList<>(c.layers());
        ObjectNode record = c.record().deepCopy();
        ArrayNode trained = JsonNodeFactory.instance.arrayNode();
        try (Tokenizer tok = Tokenizer.load(ctx.checkpoint().tokenizerFile());
             DistillationPlan.Prepared p = plan.prepare(tok, ctx.checkpoint(), ctx.model(), blocks, log)) {
            ObjectNode settings = plan.settings(JsonNodeFactory.instance.objectNode().put("schedule", "sp"));
            DistillationPlan.windows(settings, p.windows());
            record.set("distill", DistillationPlan.record(settings, trained));
            for (var t : p.distiller(c.config(), null, log).trainAll(blocks,
                    blocks.stream().map(b -> LayerWeights.of(c.config(), c.layers().get(b.layer()))).toList())) {
                layers.set(t.block().layer(), t.params().store(store, ctx.checkpoint().dtype()));
                trained.add(t.json());
                log.accept(String.format("distilled layer %d (original %d-%d): %s %.5g -> %.5g", t.block().layer(), t.block().first(),
                        t.block().last(), plan.train().loss().id, t.losses().getFirst(), t.losses().getLast()));
            }
        }
        return new Compression(c.config(), c.tree(), layers, c.settings(), record);
    }
}
