package come4j.io;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a checkpoint's weights as safetensors, tensor by tensor through a bounded buffer, split into shards named as
 * transformers names them. The plan fixes names, dtypes, shapes and order up front; callers then write the tensors in
 * plan order and call {@link #finish()}. {@link #close()} alone only releases the open file (for error paths).
 */
public final class SafeTensorsWriter implements AutoCloseable {
    /** transformers' max_shard_size "5GB" (decimal). */
    public static final long DEFAULT_SHARD_LIMIT = 5_000_000_000L;
    /** A checkpoint folder's weights as transformers names them: one file, or shards listed by the index. */
    public static final String SINGLE = "model.safetensors", INDEX = "model.safetensors.index.json";

    private static final int BUFFER_BYTES = 1 << 22;

    private record Shard(String file, List<TensorSpec> tensors) {}

    private final Path dir;
    private final List<TensorSpec> plan;
    private final List<Shard> shards;
    private final byte[] buffer = new byte[BUFFER_BYTES];
    private final MemorySegment bufferSegment = MemorySegment.ofArray(buffer);
    private int filled;
    private int next; // index in plan of the next tensor to write
    private int shardIndex = -1;
    private int leftInShard; // tensors of the open shard still to write
    private FileChannel channel;
    private boolean finished;

    public SafeTensorsWriter(Path dir, List<TensorSpec> plan) {
        this(dir, plan, DEFAULT_SHARD_LIMIT);
    }

    public SafeTensorsWriter(Path dir, List<TensorSpec> plan, long shardLimit) {
        if (plan.isEmpty()) throw new IllegalArgumentException("nothing to write: the plan is empty");
        if (shardLimit <= 0) throw new IllegalArgumentException("shard limit must be positive, not " + shardLimit);
        var names = new HashSet<String>();
        for (TensorSpec t : plan)
            if (t.name().equals("__metadata__") || !names.add(t.name()))
                throw new IllegalArgumentException("tensor name '" + t.name() + "' is reserved or planned twice");
        this.dir = dir;
        this.plan = List.copyOf(plan);
        this.shards = split(this.plan, shardLimit);
    }

    /**
     * Consecutive tensors fill a shard until the next would push it past the limit. Unlike huggingface_hub, which
     * puts an oversized tensor in a shard of its own but keeps filling the shard before it, shards here hold
     * consecutive tensors only, so that they can be written in one pass.
     */
    private static List<Shard> split(List<TensorSpec> plan, long limit) {
        List<List<TensorSpec>> groups = new ArrayList<>();
        List<TensorSpec> current = new ArrayList<>();
        long size = 0;
        for (TensorSpec t : plan) {
            if (!current.isEmpty() && size + t.byteSize() > limit) {
                groups.add(current);
                current = new ArrayList<>();
                size = 0;
            }
            current.add(t);
            size += t.byteSize();
        }
        groups.add(current);
        List<Shard> shards = new ArrayList<>();
        for (int i = 0; i < groups.size(); i++) {
            String file = groups.size() == 1 ? SINGLE
                    : String.format("model-%05d-of-%05d.safetensors", i + 1, groups.size());
            shards.add(new Shard(file, List.copyOf(groups.get(i))));
        }
        return shards;
    }

    /** The files {@link #finish()} will have written, in order: the shards, then the index when there are several. */
    public List<String> files() {
        List<String> files = new ArrayList<>(shards.stream().map(Shard::file).toList());
        if (shards.size() > 1) files.add(INDEX);
        return files;
    }

    /** Writes the next tensor of the plan from fp32, converted to its planned dtype (bf16 and f16 round to nearest even). */
    public void write(String name, float[] values) throws IOException {
        TensorSpec t = expect(name);
        if (values.length != t.numel())
            throw new IllegalArgumentException("tensor '" + name + "' needs " + t.numel() + " values, got " + values.length);
        start();
        int size = t.dtype().bytes;
        for (int from = 0; from < values.length; ) {
            if (BUFFER_BYTES - filled < size) flush();
            int count = Math.min((BUFFER_BYTES - filled) / size, values.length - from);
            Convert.fromFloat(values, from, count, bufferSegment.asSlice(filled), t.dtype(), 0);
            filled += count * size;
            from += count;
        }
    }

    /** Writes the next tensor of the plan as stored bytes, unchanged (already in the planned dtype). */
    public void write(String name, MemorySegment rawBytes) throws IOException {
        TensorSpec t = expect(name);
        if (rawBytes.byteSize() != t.byteSize())
            throw new IllegalArgumentException("tensor '" + name + "' needs " + t.byteSize() + " bytes, got " + rawBytes.byteSize());
        start();
        put(rawBytes);
    }

    /** Checks that every planned tensor was written, completes the last shard and writes the index. */
    public void finish() throws IOException {
        if (finished) return;
        if (next < plan.size())
            throw new IllegalStateException("tensor '" + plan.get(next).name() + "' and " + (plan.size() - next - 1)
                    + " after it were planned but not written");
        closeShard();
        if (shards.size() > 1) writeIndex();
        finished = true;
    }

    /** The planned tensor that must come next, which must be called {@code name}. */
    private TensorSpec expect(String name) {
        if (next == plan.size())
            throw new IllegalStateException("tensor '" + name + "' was not planned or was already written");
        TensorSpec t = plan.get(next);
        if (!t.name().equals(name))
            throw new IllegalStateException("expected tensor '" + t.name() + "' next (plan order), got '" + name + "'");
        return t;
    }

    /** Moves on to the next planned tensor, opening the next shard when that tensor starts it. */
    private void start() throws IOException {
        if (leftInShard == 0) openNextShard();
        leftInShard--;
        next++;
    }

    private void openNextShard() throws IOException {
        closeShard();
        Shard shard = shards.get(++shardIndex);
        channel = FileChannel.open(dir.resolve(shard.file()), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        leftInShard = shard.tensors().size();
        byte[] header = header(shard.tensors());
        byte[] length = new byte[8];
        ByteBuffer.wrap(length).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
        put(MemorySegment.ofArray(length));
        put(MemorySegment.ofArray(header));
    }

    /**
     * As the Rust safetensors library writes it: compact JSON, "__metadata__" first, padded with spaces to a multiple
     * of 8 bytes so that the data starts aligned. Tensors keep plan order, their data back to back.
     */
    private static byte[] header(List<TensorSpec> tensors) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (TensorSpec t : tensors) {
            ObjectNode info = root.putObject(t.name());
            info.put("dtype", t.dtype().name());
            var shape = info.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            info.putArray("data_offsets").add(offset).add(offset + t.byteSize());
            offset += t.byteSize();
        }
        byte[] json = Json.compact(root).getBytes(StandardCharsets.UTF_8);
        byte[] padded = Arrays.copyOf(json, json.length + (8 - json.length % 8) % 8);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        return padded;
    }

    /** {"metadata": {"total_size": ...}, "weight_map": {...}} with sorted keys, as transformers writes it. */
    private void writeIndex() throws IOException {
        Map<String, String> weightMap = new TreeMap<>();
        long total = 0;
        for (Shard s : shards)
            for (TensorSpec t : s.tensors()) {
                weightMap.put(t.name(), s.file());
                total += t.byteSize();
            }
        ObjectNode index = Json.MAPPER.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode map = index.putObject("weight_map");
        weightMap.forEach(map::put);
        Json.writePretty(dir.resolve(INDEX), index);
    }

    private void put(MemorySegment bytes) throws IOException {
        for (long from = 0; from < bytes.byteSize(); ) {
            if (filled == BUFFER_BYTES) flush();
            int count = (int) Math.min(BUFFER_BYTES - filled, bytes.byteSize() - from);
            MemorySegment.copy(bytes, from, bufferSegment, filled, count);
            filled += count;
            from += count;
        }
    }

    private void flush() throws IOException {
        ByteBuffer out = ByteBuffer.wrap(buffer, 0, filled);
        try {
            while (out.hasRemaining()) channel.write(out);
        } catch (java.nio.file.FileSystemException e) {
            throw e;
        } catch (IOException e) { // a full disk says only "No space left on device": name the shard
            throw new java.nio.file.FileSystemException(dir.resolve(shards.get(shardIndex).file()).toString(), null, e.getMessage());
        }
        filled = 0;
    }

    /** Flushes and syncs the open shard, so that a committed output folder never holds half-written files. */
    private void closeShard() throws IOException {
        if (channel == null) return;
        try (FileChannel ch = channel) {
            flush();
            ch.force(false);
        } finally {
            channel = null;
        }
    }

    /** Releases the open shard without completing it; after {@link #finish()} there is nothing left to release. */
    @Override
    public void close() throws IOException {
        if (channel == null) return;
        try {
            channel.close();
        } finally {
            channel = null;
            filled = 0;
        }
    }
}
