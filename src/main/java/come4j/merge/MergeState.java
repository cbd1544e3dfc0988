package come4j.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import come4j.io.RunFolder;
import come4j.io.SafeTensorsFile;
import come4j.io.SafeTensorsWriter;
import come4j.io.TensorData;
import come4j.io.TensorSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The finished steps of a compress run in its {@link RunFolder}: each step's merged layer as {@code step-N/} (a
 * safetensors file of the stored bytes, so a replayed merge is bit-identical), then {@code steps-2.json} (the steps as
 * come-merge.json records them). The layer is saved first: a run killed in between redoes that step.
 */
public final class MergeState implements ProgressiveMerger.StepStore, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Named for come-merge.json's format 2 (BI, SBI as means): steps saved as format 1's sums are not resumed. */
    private static final String STEPS = "steps-2.json";

    private final RunFolder run;
    private final Arena arena = Arena.ofShared();

    public MergeState(RunFolder run) {
        this.run = run;
    }

    @Override
    public List<ProgressiveMerger.Step> finished() {
        List<ProgressiveMerger.Step> steps = new ArrayList<>();
        JsonNode saved = run.load(STEPS).map(MergeState::parse).orElse(JSON.createArrayNode());
        for (JsonNode step : saved) {
            var folder = run.loadFolder(folder(steps.size() + 1)).orElseThrow(
                    () -> new IllegalStateException(run.dir() + ": " + STEPS + " lists step " + (steps.size() + 1) + " but its layer is missing"));
            Map<String, TensorData> tensors = SafeTensorsFile.open(folder.resolve(SafeTensorsWriter.SINGLE), arena);
            steps.add(MergeRecord.parseStep(step, tensors));
        }
        return steps;
    }

    @Override
    public void saved(List<ProgressiveMerger.Step> steps) {
        Map<String, TensorData> layer = steps.getLast().merged().tensors();
        run.saveFolder(folder(steps.size()), dir -> {
            List<TensorSpec> specs = layer.entrySet().stream()
                    .map(e -> new TensorSpec(e.getKey(), e.getValue().dtype(), e.getValue().shape())).toList();
            try (SafeTensorsWriter w = new SafeTensorsWriter(dir, specs)) {
                for (var e : layer.entrySet()) w.write(e.getKey(), e.getValue().data());
                w.finish();
            }
        });
        ArrayNode all = JSON.createArrayNode();
        for (int i = 0; i < steps.size(); i++) all.add(MergeRecord.step(i + 1, steps.get(i)));
        try {
            run.save(STEPS, JSON.writeValueAsBytes(all));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String folder(int step) {
        return "step-" + step;
    }

    private static JsonNode parse(byte[] bytes) {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
