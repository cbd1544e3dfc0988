package come4j.model;

import static come4j.io.SafeTensorsWriter.INDEX;
import static come4j.io.SafeTensorsWriter.SINGLE;

import com.fasterxml.jackson.databind.JsonNode;
import come4j.io.BadInputException;
import come4j.io.DType;
import come4j.io.Finite;
import come4j.io.SafeTensorsFile;
import come4j.io.TensorData;
import come4j.io.UntrustedJson;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face checkpoint folder: config.json, one model.safetensors or shards listed by
 * model.safetensors.index.json, and tokenizer.json. Tensors stay mmap'd until {@link #close()}.
 */
public final class Checkpoint implements AutoCloseable {
    /** A few MB even for models of thousands of tensors; anything far beyond is not an index. */
    private static final long MAX_INDEX_BYTES = 64L << 20;
    /** After the layer prefix: a canonical decimal index (no sign or leading zero), then the tensor's name in the layer. */
    private static final Pattern LAYER = Pattern.compile("(0|[1-9][0-9]*)\\.(.+)");

    private final Path dir;
    private final ModelConfig config;
    private final Arena arena = Arena.ofShared();
    private final Map<String, TensorData> tensors = new LinkedHashMap<>();
    private boolean finite;

    private Checkpoint(Path dir) {
        this.dir = dir;
        try {
            this.config = ModelConfig.load(dir.resolve("config.json"));
            loadTensors();
            checkLayerNames();
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
            JsonNode map = UntrustedJson.readObject(index, MAX_INDEX_BYTES).get("weight_map");
            if (map == null || !map.isObject()) throw new BadInputException(index, "has no weight_map object");
            Map<String, String> byName = new TreeMap<>();
            for (var e : map.properties()) {
                if (!e.getValue().isTextual())
                    throw new BadInputException(index, "weight_map entry of tensor '" + e.getKey() + "' is " + e.getValue() + ", not a file name");
                byName.put(e.getKey(), e.getValue().asText());
            }
            Map<String, Map<String, TensorData>> shards = new TreeMap<>();
            for (var e : byName.entrySet()) {
                Map<String, TensorData> inShard = shards.computeIfAbsent(e.getValue(), f -> SafeTensorsFile.open(shard(index, f), arena));
                TensorData t = inShard.get(e.getKey());
                if (t == null)
                    throw new BadInputException(shard(index, e.getValue()), "tensor '" + e.getKey() + "' listed in " + INDEX + " is not in this shard");
                tensors.put(e.getKey(), t);
            }
        } else if (Files.isRegularFile(single)) {
            tensors.putAll(SafeTensorsFile.open(single, arena));
        } else {
            throw new BadInputException(dir, "no " + SINGLE + " or " + INDEX + " in this folder");
        }
    }

    /**
     * Every "model.layers.N." tensor (the family's layer prefix) must name a layer of config.json and a tensor its
     * family's schema declares for this config, so that a stray tensor is refused when the checkpoint opens rather
     * than dropped, misplaced or merged by a guessed rule when an output is written. Tensors outside the layers are
     * kept: the writers copy them unchanged.
     */
    private void checkLayerNames() {
        LayerSchema schema = config.schema();
        String prefix = schema.family().layerPrefix();
        int layers = config.numLayers();
        for (String name : tensors.keySet()) {
            if (!name.startsWith(prefix)) continue;
            Matcher m = LAYER.matcher(name.substring(prefix.length()));
            if (!m.matches())
                throw new BadInputException(dir, "tensor '" + name + "' has no layer index after '" + prefix + "'");
            if (m.group(1).length() > 9 || Integer.parseInt(m.group(1)) >= layers)
                throw new BadInputException(dir, "tensor '" + name + "' names layer " + m.group(1) + " but config.json has num_hidden_layers "
                        + layers + " (layers 0.." + (layers - 1) + ")");
            if (!schema.stored(m.group(2)))
                throw new BadInputException(dir, "tensor '" + name + "' is not part of a " + config.architecture()
                        + " layer as config.json describes it (unknown name '" + m.group(2) + "')");
        }
    }

    /** Refuses weights holding NaN or ±Inf, naming the tensor; every command that computes with the weights calls it (scanned once). */
    public void requireFinite() {
        if (finite) return;
        Finite.require(dir, tensors, "input");
        finite = true;
    }

    /**
     * The shard file an index entry names: a plain file inside this folder, reached without leaving it ("..", absolute
     * paths and symbolic links that point elsewhere are refused, so a downloaded index cannot make us read other files).
     * The one exception is the Hugging Face cache, whose snapshot folders link every file to the repository's blobs.
     */
    private Path shard(Path index, String name) {
        Path base = dir.toAbsolutePath().normalize(), shard = base.resolve(name).normalize();
        if (name.isEmpty() || !shard.startsWith(base) || shard.equals(base))
            throw new BadInputException(index, "shard '" + name + "' lies outside this folder");
        if (!Files.isRegularFile(shard)) throw new BadInputException(shard, "shard listed in " + INDEX + " is missing");
        try {
            Path real = shard.toRealPath(), home = base.toRealPath();
            if (!real.startsWith(home) && !real.startsWith(huggingFaceBlobs(home)))
                throw new BadInputException(index, "shard '" + name + "' is a link to " + real + ", outside this folder");
            return shard;
        } catch (IOException e) {
            throw new BadInputException(shard, "cannot read: " + e.getMessage(), e);
        }
    }

    /** For a cache snapshot {@code <repo>/snapshots/<revision>}, the folder {@code <repo>/blobs}; else the folder itself. */
    private static Path huggingFaceBlobs(Path folder) {
        Path snapshots = folder.getParent();
        boolean cache = snapshots != null && snapshots.getFileName() != null && snapshots.getFileName().toString().equals("snapshots")
                && snapshots.getParent() != null;
        return cache ? snapshots.resolveSibling("blobs") : folder;
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
