package come4j.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * The committed steps of a compress run ({@link WorkingModel.Log}) in its {@link RunFolder}: each new layer as
 * {@code edit-N/} (a safetensors file of the stored bytes, so a replayed edit is bit-identical), then {@value #STEPS}
 * (every step: the method that made it, its record, its edits naming their layers' folders). The layers are saved
 * first: a run killed in between redoes that step.
 */
public final class EditStore implements WorkingModel.Log, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String STEPS = "edits.json";

    private final RunFolder run;
    private final Arena arena = Arena.ofShared();

    public EditStore(RunFolder run) {
        this.run = run;
    }

    @Override
    public List<WorkingModel.Step> saved() {
        List<WorkingModel.Step> steps = new ArrayList<>();
        JsonNode saved = run.load(STEPS).map(EditStore::parse).orElse(JSON.createArrayNode());
        for (JsonNode step : saved) {
            List<WorkingModel.Edit> edits = new ArrayList<>();
            for (JsonNode e : step.get("edits"))
                edits.add(switch (e.get("edit").asText()) {
                    case "collapse" -> new WorkingModel.Collapse(e.get("first").asInt(), e.get("last").asInt(), tensors(e));
                    case "remove" -> new WorkingModel.Remove(e.get("at").asInt());
                    case "replace" -> new WorkingModel.Replace(e.get("at").asInt(), tensors(e), e.hasNonNull("note") ? e.get("note") : null);
                    default -> throw new IllegalStateException(run.dir() + ": " + STEPS + " holds an unknown edit " + e);
                });
            steps.add(new WorkingModel.Step(step.get("by").asText(), step.get("record"), edits));
        }
        return steps;
    }

    private Map<String, TensorData> tensors(JsonNode edit) {
        String name = edit.get("tensors").asText();
        var folder = run.loadFolder(name).orElseThrow(
                () -> new IllegalStateException(run.dir() + ": " + STEPS + " names " + name + " but it is missing"));
        return SafeTensorsFile.open(folder.resolve(SafeTensorsWriter.SINGLE), arena);
    }

    /** A folder of the run folder per method: a method's states cannot be read as another's (streamline+distill). */
    @Override
    public java.nio.file.Path trainingStates(String by) {
        java.nio.file.Path dir = run.dir().resolve("training-" + by);
        try {
            return java.nio.file.Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void save(List<WorkingModel.Step> steps) {
        ArrayNode all = JSON.createArrayNode();
        int layers = 0; // edit-N numbers the edits that bring a layer, over all steps
        for (int i = 0; i < steps.size(); i++) {
            WorkingModel.Step s = steps.get(i);
            ObjectNode o = all.addObject().put("by", s.by());
            o.set("record", s.record());
            ArrayNode edits = o.putArray("edits");
            for (WorkingModel.Edit e : s.edits()) {
                ObjectNode x = edits.addObject();
                Map<String, TensorData> layer = switch (e) {
                    case WorkingModel.Collapse c -> {
                        x.put("edit", "collapse").put("first", c.first()).put("last", c.last());
                        yield c.tensors();
                    }
                    case WorkingModel.Remove r -> {
                        x.put("edit", "remove").put("at", r.at());
                        yield null;
                    }
                    case WorkingModel.Replace r -> {
                        x.put("edit", "replace").put("at", r.at()).set("note", r.note());
                        yield r.tensors();
                    }
                };
                if (layer == null) continue;
                String name = "edit-" + ++layers;
                x.put("tensors", name);
                if (i == steps.size() - 1) write(name, layer); // the earlier steps' layers are saved already
            }
        }
        try {
            run.save(STEPS, JSON.writeValueAsBytes(all));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // where the kill-and-rerun tests stop a run (RunFolder.crashPoint): after step N, or after a method's step
        RunFolder.crashPoint("saved step " + steps.size());
        RunFolder.crashPoint("saved " + steps.getLast().by());
    }

    private void write(String name, Map<String, TensorData> layer) {
        run.saveFolder(name, dir -> {
            List<TensorSpec> specs = layer.entrySet().stream()
                    .map(e -> new TensorSpec(e.getKey(), e.getValue().dtype(), e.getValue().shape())).toList();
            try (SafeTensorsWriter w = new SafeTensorsWriter(dir, specs)) {
                for (var e : layer.entrySet()) w.write(e.getKey(), e.getValue().data());
                w.finish();
            }
        });
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
