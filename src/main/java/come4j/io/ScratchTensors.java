package come4j.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tensors made during a run (merged layers), stored in the model's dtype in mmap'd temp files: they read exactly as
 * they will be written, and they live in the page cache rather than the heap, so memory stays bounded however many
 * layers are merged.
 */
public final class ScratchTensors implements AutoCloseable {
    /** A tensor to store: fp32 values of the given shape. */
    public record Values(String name, long[] shape, float[] data) {}

    private final TempFolder dir = new TempFolder("come4j-scratch");
    private final Arena arena = Arena.ofShared();
    private int files;

    /** Stores the tensors (converted to dtype) in one new file and returns read-only views of them by name. */
    public synchronized Map<String, TensorData> store(List<Values> tensors, DType dtype) {
        long bytes = 0;
        for (Values v : tensors) bytes += (long) v.data().length * dtype.bytes;
        Path file = dir.path().resolve("t" + files++ + ".bin");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, Math.max(1, bytes), arena);
            Map<String, TensorData> out = new LinkedHashMap<>();
            long off = 0;
            for (Values v : tensors) {
                long size = (long) v.data().length * dtype.bytes;
                MemorySegment slice = seg.asSlice(off, size);
                Convert.fromFloat(v.data(), 0, v.data().length, slice, dtype, 0);
                out.put(v.name(), new TensorData(v.name(), dtype, v.shape().clone(), slice.asReadOnly()));
                off += size;
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        arena.close();
        dir.close();
    }
}
