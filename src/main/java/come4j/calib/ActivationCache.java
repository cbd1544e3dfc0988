package come4j.calib;

import come4j.io.TempFolder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import come4j.io.BadInputException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * The calibration windows' hidden states at every layer boundary, in mmap'd temp files (one per boundary): after a
 * merge at (a, b) the boundaries up to a are still valid and are read back instead of recomputed, and they occupy the
 * page cache, not the heap. A cache made {@linkplain #over over} another one reads the other's boundaries until it
 * writes its own: methods that change the model share the original model's boundaries without copying them.
 */
public final class ActivationCache implements AutoCloseable {
    private final TempFolder dir = new TempFolder("come4j-activations");
    private final Arena arena = Arena.ofShared();
    private final Map<Integer, MemorySegment> boundaries = new HashMap<>();
    private final int windows, windowFloats, hidden;
    private final ActivationCache base;

    public ActivationCache(int windows, int tokensPerWindow, int hidden) {
        this(windows, tokensPerWindow * hidden, hidden, null);
    }

    private ActivationCache(int windows, int windowFloats, int hidden, ActivationCache base) {
        this.windows = windows;
        this.windowFloats = windowFloats;
        this.hidden = hidden;
        this.base = base;
    }

    /**
     * The most a run's caches hold on disk: the original model's L + 1 boundaries, plus the at most L a method that
     * changes the model writes over them (its working cache).
     */
    public static long bytesUpTo(int layers, int windows, int tokensPerWindow, int hidden) {
        return (2L * layers + 1) * windows * tokensPerWindow * hidden * Float.BYTES;
    }

    /** Where the caches go: the JVM's temp folder (java.io.tmpdir). */
    public static Path folder() {
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    /** Refuses, before any work, a cache of {@code bytes} that the temp folder's usable space cannot hold. */
    public static void requireSpace(long bytes, String otherFix) {
        Path dir = folder();
        long free;
        try {
            free = Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            throw new BadInputException(dir, "cannot read the temp folder's free space: " + e.getMessage());
        }
        if (free < bytes)
            throw new BadInputException(dir, String.format(Locale.ROOT, "the activation cache needs up to %,.1f MB but the temp folder has "
                    + "%,.1f MB free: free space there, point it elsewhere (COME_JAVA_OPTS=-Djava.io.tmpdir=DIR) or %s", bytes / 1e6, free / 1e6, otherFix));
    }

    /** An empty cache that reads {@code base}'s boundary k until it stores boundary k itself (base is never written). */
    public static ActivationCache over(ActivationCache base) {
        return new ActivationCache(base.windows, base.windowFloats, base.hidden, base);
    }

    /** Boundary k for reading: this cache's own, else the base's; one nobody stored is a bug, not zeros. */
    private synchronized MemorySegment read(int k) {
        MemorySegment own = boundaries.get(k);
        if (own != null) return own;
        if (base != null) return base.read(k);
        throw new IllegalStateException("activation boundary " + k + " is read but was never stored");
    }

    private synchronized MemorySegment boundary(int k) {
        return boundaries.computeIfAbsent(k, key -> {
            try (FileChannel ch = FileChannel.open(dir.path().resolve("b" + key), StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE)) {
                return ch.map(FileChannel.MapMode.READ_WRITE, 0, (long) windows * windowFloats * 4, arena);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** Stores window w's hidden states at boundary k (from src[off..off + T*d)). */
    public void put(int k, int w, float[] src, int off) {
        MemorySegment.copy(src, off, boundary(k), ValueLayout.JAVA_FLOAT, (long) w * windowFloats * 4, windowFloats);
    }

    /** Reads window w's hidden states at boundary k into dst[off..]. */
    public void get(int k, int w, float[] dst, int off) {
        getRows(k, w, 0, windowFloats / hidden, dst, off);
    }

    /** Reads tokens [t0, t0 + rows) of window w at boundary k into dst[off..]. */
    public void getRows(int k, int w, int t0, int rows, float[] dst, int off) {
        long at = ((long) w * windowFloats + (long) t0 * hidden) * 4;
        MemorySegment.copy(read(k), ValueLayout.JAVA_FLOAT, at, dst, off, rows * hidden);
    }

    @Override
    public void close() {
        arena.close();
        dir.close();
    }
}
