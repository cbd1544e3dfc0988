package come4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.SafeTensorsWriter;
import come4j.io.TensorData;
import come4j.io.TensorSpec;
import come4j.model.Checkpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The tiny transformers-made checkpoints of src/test/resources/fixtures and their goldens. */
public final class Fixtures {
    public static final Path DIR = Path.of("src/test/resources/fixtures");
    public static final Path PPL_TEXT = DIR.resolve("ppl.txt");

    private Fixtures() {}

    /** The five architectures, each in fp32 and bf16. */
    public static Stream<String> names() {
        return Stream.of("llama-mha", "llama3-gqa", "mistral", "qwen2", "qwen3").flatMap(a -> Stream.of(a + "-f32", a + "-bf16"));
    }

    /** Every fixture the forward pass runs on: the five LLaMA-family architectures, then OPT (pre-norm), OPT-350m (post-norm) and Gemma 3. */
    public static Stream<String> forwardNames() {
        return Stream.of(Stream.concat(names(), Stream.of("opt", "opt350", "gemma3").flatMap(a -> Stream.of(a + "-f32", a + "-bf16"))),
                phi3Names()).flatMap(s -> s);
    }

    /** Phi-3 (fused qkv_proj and gate_up_proj, sliding window) in fp32 and bf16, and Phi-3 with LongRoPE and partial rotary. */
    public static Stream<String> phi3Names() {
        return Stream.of("phi3-f32", "phi3-bf16", "phi3-longrope-f32");
    }

    /** The names (after "...layers.N.") of layer i's tensors as the checkpoint file holds them: a reference independent of the schema. */
    public static List<String> layerTensorNames(Checkpoint ckpt, int i) {
        Pattern layer = Pattern.compile("(?:.*\\.)?layers\\." + i + "\\.(.+)");
        return ckpt.tensors().keySet().stream().map(layer::matcher).filter(Matcher::matches).map(m -> m.group(1)).toList();
    }

    public static JsonNode golden(String name) {
        try {
            return new ObjectMapper().readTree(DIR.resolve(name).resolve("golden.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int[] ints(JsonNode n) {
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) out[i] = n.get(i).asInt();
        return out;
    }

    /**
     * A fixture deepened to {@code layers} layers (layer i is a copy of the fixture's layer i mod L), written to
     * {@code dir}: methods that search over many positions need more than the fixtures' three layers.
     */
    public static Path deepened(String name, int layers, Path dir) throws IOException {
        Path src = DIR.resolve(name);
        Files.createDirectories(dir);
        try (Checkpoint in = Checkpoint.open(src)) {
            int L = in.config().numLayers();
            Map<String, TensorData> plan = new LinkedHashMap<>();
            Pattern layer = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");
            for (var e : in.tensors().entrySet()) {
                Matcher m = layer.matcher(e.getKey());
                if (!m.matches()) plan.put(e.getKey(), e.getValue());
                else for (int i = Integer.parseInt(m.group(1)); i < layers; i += L) plan.put("model.layers." + i + "." + m.group(2), e.getValue());
            }
            List<TensorSpec> specs = new ArrayList<>();
            plan.forEach((n, t) -> specs.add(new TensorSpec(n, t.dtype(), t.shape())));
            try (SafeTensorsWriter w = new SafeTensorsWriter(dir, specs)) {
                for (var e : plan.entrySet()) w.write(e.getKey(), e.getValue().data());
                w.finish();
            }
            ObjectNode config = in.config().raw().deepCopy().put("num_hidden_layers", layers);
            JsonNode types = config.get("layer_types"); // per-layer settings repeat with the layers (Gemma 3, Qwen)
            if (types != null && types.isArray()) {
                var deep = config.putArray("layer_types");
                for (int i = 0; i < layers; i++) deep.add(types.get(i % L));
            }
            Files.writeString(dir.resolve("config.json"), config.toPrettyString());
        }
        Files.copy(src.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        return dir;
    }

    public static double maxAbsDiff(float[] actual, JsonNode expected) {
        double max = 0;
        for (int i = 0; i < expected.size(); i++) max = Math.max(max, Math.abs(actual[i] - expected.get(i).asDouble()));
        return max;
    }
}
