package come4j.distill;

import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.calib.CalibrationContext;
import come4j.io.BadInputException;
import come4j.io.RecordJson;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.merge.Compression;
import come4j.merge.CompressionMethod;
import come4j.model.LayerWeights;
import come4j.model.Tokenizer;
import come4j.report.DistillSettings;
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

    @Override
    public Compression run(CalibrationContext ctx, int targetLayers, ScratchTensors store, Consumer<String> log) {
        if (data.isEmpty()) throw new BadInputException(null, name() + " needs training text (--distill-data)");
        Compression c = inner.run(ctx, targetLayers, store, log);
        List<HierarchicalDistiller.Block> blocks = new ArrayList<>();
        for (int j = 0; j < c.tree().size(); j++) {
            List<Integer> e = c.tree().get(j);
            if (e.size() > 1) blocks.add(new HierarchicalDistiller.Block(j, e.getFirst(), e.getLast()));
        }
        if (blocks.isEmpty()) return c; // nothing merged (a removal method): nothing to distil
        int T = Math.min(SEQ_LEN, ctx.model().config().maxPositions());
        HierarchicalDistiller.Settings train = this.train.sized(c.config(), T);
        TrainingWindows windows;
        try (Tokenizer tok = Tokenizer.load(ctx.checkpoint().tokenizerFile())) {
            windows = TrainingWindows.build(data, tok, T, train.steps() * train.batch(), SEED, DistillJob.heldOut(train));
        }
        log.accept(DistillJob.plan(blocks.size(), train, T, windows, c.config()));
        List<Map<String, TensorData>> layers = new ArrayList<>(c.layers());
        ObjectNode record = c.record().deepCopy(), distill = record.putObject("distill");
        distill.set("settings", RecordJson.tree(new DistillSettings("sp", null, null, null, train.record(), null, DistillJob.data(data, T, SEED, train),
                null, null, null).withWindows(windows.training(), windows.available(), train.auto() != null ? windows.heldOut() : null)));
        var trainedJson = distill.putArray("layers");
        Loss.Head head = train.loss() == Loss.LOGIT_LENS_KL ? Loss.Head.of(ctx.checkpoint()) : null;
        for (var t : HierarchicalDistiller.distil(ctx.model(), c.config(), blocks,
                blocks.stream().map(b -> LayerWeights.of(c.config(), c.layers().get(b.layer()))).toList(), windows, train, head, null, log)) {
            layers.set(t.block().layer(), t.params().store(store, ctx.checkpoint().dtype()));
            trainedJson.add(t.json());
            log.accept(String.format("distilled layer %d (original %d-%d): %s %.5g -> %.5g", t.block().layer(), t.block().first(),
                    t.block().last(), train.loss().id, t.losses().getFirst(), t.losses().getLast()));
        }
        return new Compression(c.config(), c.tree(), layers, c.settings(), record);
    }
}
