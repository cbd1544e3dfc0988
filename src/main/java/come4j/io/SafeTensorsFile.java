package come4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reader of one .safetensors file: the whole file is mmap'd as one MemorySegment (any size), the header is validated
 * up front, and tensors are slices of the mapping that are only touched when read.
 */
public final class SafeTensorsFile {
    /** The Rust safetensors library's limit; also keeps the header within one Java array. */
    private static final long MAX_HEADER_BYTES = 100_000_000;

    private SafeTensorsFile() {}

    /** Maps {@code file} in {@code arena} and returns its tensors in file order. */
    public static Map<String, TensorData> open(Path file, Arena arena) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new BadInputException(file, "truncated safetensors file: " + size + " bytes, no header");
            return parse(file, ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena));
        } catch (IOException e) {
            throw new BadInputException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** The tensors of {@code all}, the whole content of {@code file} (at least 8 bytes), as slices of it. */
    static Map<String, TensorData> parse(Path file, MemorySegment all) {
        long size = all.byteSize();
        long headerLen = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen >= 0 && headerLen < 2)
            throw new BadInputException(file, "header length " + headerLen + " is too small for a JSON object");
        if (headerLen < 0 || headerLen > size - 8)
            throw new BadInputException(file, "header length " + Long.toUnsignedString(headerLen)
                    + " goes beyond the file (" + size + " bytes): truncated or not a safetensors file");
        if (headerLen > MAX_HEADER_BYTES)
            throw new BadInputException(file, "header length " + headerLen + " exceeds the " + MAX_HEADER_BYTES
                    + "-byte limit of safetensors");
        byte[] header = all.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
        return parse(file, UntrustedJson.parseObject(file, "header ", header), all.asSlice(8 + headerLen));
    }

    private static Map<String, TensorData> parse(Path file, JsonNode root, MemorySegment data) {
        List<TensorData> tensors = new ArrayList<>();
        List<long[]> spans = new ArrayList<>();
        for (var it = root.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            String name = e.getKey();
            JsonNode t = e.getValue();
            JsonNode offs = t.get("data_offsets"), shapeNode = t.get("shape"), dt = t.get("dtype");
            if (dt == null || !dt.isTextual() || shapeNode == null || !shapeNode.isArray()
                    || offs == null || !offs.isArray() || offs.size() != 2)
                throw new BadInputException(file, "tensor '" + name + "' lacks dtype, shape or data_offsets");
            DType dtype = DType.parse(dt.asText(), file, name);
            long[] shape = new long[shapeNode.size()];
            long bytes = dtype.bytes;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = count(file, name, "shape", shapeNode.get(i));
                try {
                    bytes = Math.multiplyExact(bytes, shape[i]);
                } catch (ArithmeticException overflow) {
                    throw new BadInputException(file, "tensor '" + name + "' has a shape too large to address: " + shapeNode);
                }
            }
            long begin = count(file, name, "data_offsets", offs.get(0)), end = count(file, name, "data_offsets", offs.get(1));
            if (end > data.byteSize())
                throw new BadInputException(file, "tensor '" + name + "' has data_offsets [" + begin + ", " + end
                        + "] outside the data section (" + data.byteSize() + " bytes)");
            if (end < begin)
                throw new BadInputException(file, "tensor '" + name + "' has data_offsets [" + begin + ", " + end
                        + "] that end before they begin");
            if (end - begin != bytes)
                throw new BadInputException(file, "tensor '" + name + "' holds " + (end - begin)
                        + " bytes but its shape and dtype need " + bytes);
            spans.add(new long[] {begin, end, tensors.size()});
            tensors.add(new TensorData(name, dtype, shape, data.asSlice(begin, end - begin)));
        }
        spans.sort(Comparator.comparingLong(s -> s[0]));
        for (int i = 1; i < spans.size(); i++)
            if (spans.get(i)[0] < spans.get(i - 1)[1])
                throw new BadInputException(file, "tensors '" + tensors.get((int) spans.get(i - 1)[2]).name()
                        + "' and '" + tensors.get((int) spans.get(i)[2]).name() + "' overlap");
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (TensorData t : tensors) out.put(t.name(), t);
        return out;
    }

    /** A dimension or offset: a non-negative JSON integer that fits a long (no strings, fractions or wrap-around). */
    private static long count(Path file, String tensor, String field, JsonNode n) {
        if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0)
            throw new BadInputException(file, "tensor '" + tensor + "' has " + field + " entry " + n
                    + " that is not a non-negative integer");
        return n.asLong();
    }
}
