package come4j.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A scratch folder of the system's temp space ({@code come4j-*}), deleted with everything in it on close. Its name
 * carries its owner ({@code PREFIX-PID_START-RANDOM}: pid and process start time), given by the one call that creates
 * it, so that what a killed run left, at any moment, is recognised and freed by the next run ({@link #freeStale()}),
 * and nothing else is ever touched.
 */
public final class TempFolder implements AutoCloseable {
    /** The owner mark of folders made by earlier versions, whose names do not carry it: "PID START-MILLIS". */
    private static final String OWNER = ".come4j-owner";
    /** A folder's name ending in its owner: PREFIX-PID_START-RANDOM. */
    private static final Pattern OWNED = Pattern.compile("come4j-.*-(\\d{1,18})_(-?\\d{1,19})-\\d+");

    private final Path path;

    public TempFolder(String prefix) {
        try {
            path = Files.createTempDirectory(prefix + "-" + ProcessHandle.current().pid() + "_" + startMillis(ProcessHandle.current()) + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        try {
            deleteTree(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What {@link #freeStale()} removed: the bytes of the folders of {@code runs} dead processes. */
    public record Freed(int runs, long bytes) {
        /** The line shown on start, when anything was freed. */
        public Optional<String> line() {
            return runs == 0 ? Optional.empty() : Optional.of(String.format("freed %.1f MB of scratch space that %d killed run%s left in %s",
                    bytes / 1e6, runs, runs == 1 ? "" : "s", System.getProperty("java.io.tmpdir")));
        }
    }

    /**
     * Deletes the scratch folders in the temp space whose owner process is gone (its pid is not running, or runs a
     * process started at another time). Folders with neither an owner in their name nor an owner mark (another
     * program's) stay.
     */
    public static Freed freeStale() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        java.util.Set<String> owners = new java.util.HashSet<>();
        long bytes = 0;
        try (Stream<Path> entries = Files.list(tmp)) {
            for (Path dir : entries.filter(p -> p.getFileName().toString().startsWith("come4j-")).toList()) {
                Optional<String> gone = Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) ? goneOwner(dir) : Optional.empty();
                if (gone.isEmpty()) continue;
                long size = size(dir);
                deleteTree(dir);
                owners.add(gone.get());
                bytes += size;
            }
        } catch (IOException e) {
            // the temp space cannot be listed or a folder vanished meanwhile: nothing to free now
        }
        return new Freed(owners.size(), bytes);
    }

    /**
     * The owner ("PID START") of a scratch folder if its process is gone: from the folder's name, or from the owner mark
     * of an earlier version's folder; empty for a live owner or none.
     */
    private static Optional<String> goneOwner(Path dir) {
        Matcher named = OWNED.matcher(dir.getFileName().toString());
        String text;
        try {
            text = named.matches() ? named.group(1) + " " + named.group(2) : Files.readString(dir.resolve(OWNER)).strip();
        } catch (IOException e) {
            return Optional.empty();
        }
        if (!text.matches("\\d{1,18} -?\\d{1,19}")) return Optional.empty();
        String[] f = text.split(" ");
        Optional<ProcessHandle> p = ProcessHandle.of(Long.parseLong(f[0]));
        if (p.isEmpty() || !p.get().isAlive()) return Optional.of(text);
        long start = startMillis(p.get()); // unknown (-1): assume the owner still runs
        return start != -1 && start != Long.parseLong(f[1]) ? Optional.of(text) : Optional.empty();
    }

    private static long startMillis(ProcessHandle p) {
        return p.info().startInstant().map(Instant::toEpochMilli).orElse(-1L);
    }

    private static long size(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    /** Deletes a folder and everything below it (links are removed, never followed). */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
