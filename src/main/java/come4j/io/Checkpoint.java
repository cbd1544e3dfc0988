package come4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.model.ModelConfig;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Hugging Face checkpoint folder: config.json, one model.safetensors or shards listed by
 * model.safetensors.index.json, and tokenizer.json. Tensors stay mmap'd until {@link #close()}.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String INDEX = "model.safetensors.index.json";
    public static final String SINGLE = "model.safetensors";

    private final Path dir;
    private final ModelConfig config;
    private final Arena arena = Arena.ofShared();
    private final Map<String, TensorData> tensors = new LinkedHashMap<>();

    private Checkpoint(Path dir) {
        this.dir = dir;
        try {
            this.config = ModelConfig.load(dir.resolve("config.json"));
            loadTensors();
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public static Checkpoint open(Path dir) {
        if (!Files.isDirectory(dir)) throw new BadInputException(dir, "not a checkpoint folder (does not exist or is not a directory)");
        return new Checkpoint(dir);
    }

    private void loadTensors() {
        Path index = dir.resolve(INDEX), single = dir.resolve(SINGLE);
        if (Files.isRegularFile(index)) {
            JsonNode map;
            try {
                map = new ObjectMapper().readTree(index.toFile()).get("weight_map");
            } catch (IOException e) {
                throw new BadInputException(index, "not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
            }
            if (map == null || !map.isObject()) throw new BadInputException(index, "has no weight_map object");
            Map<String, String> byName = new TreeMap<>();
            map.properties().forEach(e -> byName.put(e.getKey(), e.getValue().asText()));
            Map<String, Map<String, TensorData>> shards = new TreeMap<>();
            Path base = dir.toAbsolutePath().normalize();
            for (var e : byName.entrySet()) {
                Path shard = base.resolve(e.getValue()).normalize();
                if (!shard.startsWith(base) || shard.equals(base))
                    throw new BadInputException(index, "shard '" + e.getValue() + "' of tensor '" + e.getKey() + "' lies outside this folder");
                if (!Files.isRegularFile(shard)) throw new BadInputException(shard, "shard listed in " + INDEX + " is missing");
                Map<String, TensorData> inShard = shards.computeIfAbsent(e.getValue(), f -> SafeTensorsFile.open(shard, arena));
                TensorData t = inShard.get(e.getKey());
                if (t == null) throw new BadInputException(shard, "tensor '" + e.getKey() + "' listed in " + INDEX + " is not in this shard");
                tensors.put(e.getKey(), t);
            }
        } else if (Files.isRegularFile(single)) {
            tensors.putAll(SafeTensorsFile.open(single, arena));
        } else {
            throw new BadInputException(dir, "no " + SINGLE + " or " + INDEX + " in this folder");
        }
    }

    public Path dir() {
        return dir;
    }

    public ModelConfig config() {
        return config;
    }

    public Map<String, TensorData> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** The tensor called {@code name}, checked against the expected shape. */
    public TensorData tensor(String name, long... shape) {
        TensorData t = tensors.get(name);
        if (t == null) throw new BadInputException(dir, "missing tensor '" + name + "'");
        if (shape.length > 0 && !java.util.Arrays.equals(t.shape(), shape))
            throw new BadInputException(dir, "tensor '" + name + "' has shape " + java.util.Arrays.toString(t.shape())
                    + " but config.json implies " + java.util.Arrays.toString(shape));
        return t;
    }

    /** The dtype most weights are stored in (the output keeps it). */
    public DType dtype() {
        Map<DType, Long> bytes = new LinkedHashMap<>();
        tensors.values().forEach(t -> bytes.merge(t.dtype(), t.data().byteSize(), Long::sum));
        return bytes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(DType.F32);
    }

    public Path tokenizerFile() {
        return dir.resolve("tokenizer.json");
    }

    @Override
    public void close() {
        arena.close();
    }
}
