package come4j.merge;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.AtomicOutput;
import come4j.io.Finite;
import come4j.io.SafeTensorsWriter;
import come4j.io.TensorData;
import come4j.io.TensorSpec;
import come4j.model.Checkpoint;
import come4j.model.LayerSchema;
import come4j.model.ModelConfig;
import come4j.report.MergeReport;
import come4j.report.ModelCard;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes the compressed model as a standard checkpoint, atomically: the input's tensors in the input's order and
 * dtype, layers renumbered 0..L*-1 (a merged layer at the place of its first original layer, the others dropped),
 * config.json updated, tokenizer and generation files copied. Unchanged tensors are copied byte for byte.
 */
public final class CompressedCheckpoint {
    private static final Pattern LAYER = Pattern.compile("(\\d+)\\.(.+)");

    private CompressedCheckpoint() {}

    /**
     * The whole output of a method into the (uncommitted) folder: the checkpoint, come-merge.json, report.html and the
     * model card README.md (the input's own card kept in it).
     */
    public static void write(Checkpoint input, Compression c, ObjectNode record, AtomicOutput o) throws IOException {
        write(input, c.config(), c.tree(), c.layers(), o);
        Files.writeString(o.dir().resolve("come-merge.json"), new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(record) + "\n");
        MergeReport.writeHtml(record, o.dir().resolve("report.html"));
        ModelCard.write(record, null, input.dir(), o.dir().resolve("README.md"));
    }

    /** Writes the checkpoint into the (uncommitted) output folder. */
    public static void write(Checkpoint input, ModelConfig config, MergeTree tree, List<Map<String, TensorData>> layers,
                             AtomicOutput o) throws IOException {
        Map<Integer, Integer> finalOf = new LinkedHashMap<>(); // original layer -> final layer it opens
        for (int j = 0; j < tree.size(); j++) finalOf.put(tree.get(j).getFirst(), j);
        LayerSchema schema = config.schema();
        String prefix = schema.family().layerPrefix();
        Map<String, TensorData> plan = new LinkedHashMap<>(), merged = new LinkedHashMap<>();
        for (var e : input.tensors().entrySet()) {
            Matcher m = e.getKey().startsWith(prefix) ? LAYER.matcher(e.getKey().substring(prefix.length())) : null;
            if (m == null || !m.matches()) {
                plan.put(e.getKey(), e.getValue());
                continue;
            }
            Integer j = finalOf.get(Integer.parseInt(m.group(1)));
            if (j == null) continue;
            // What the method left unchanged (buffers always) is the original layer's that opens final layer j.
            // A fused tensor (Phi-3's qkv_proj, gate_up_proj) is its parts stacked again.
            TensorData t = schema.parts(m.group(2)).isEmpty() ? layers.get(j).getOrDefault(m.group(2), e.getValue())
                    : schema.fuse(m.group(2), e.getValue(), layers.get(j));
            String name = schema.prefix(j) + m.group(2);
            plan.put(name, t);
            if (t != e.getValue()) merged.put(name, t);
        }
        Finite.require(o.target(), merged, "merged"); // the input's own tensors were checked when it was loaded
        List<TensorSpec> specs = new ArrayList<>();
        plan.forEach((name, t) -> specs.add(new TensorSpec(name, t.dtype(), t.shape())));
        try (SafeTensorsWriter w = new SafeTensorsWriter(o.dir(), specs)) {
            for (var e : plan.entrySet()) w.write(e.getKey(), e.getValue().data());
            w.finish();
        }
        o.writeConfig(config.raw());
        o.copyUnchangedFiles(input.dir());
    }
}
