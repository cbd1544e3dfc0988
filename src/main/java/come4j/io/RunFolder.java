package come4j.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.LinkOption;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The state of a long command that writes one output folder, kept beside it ({@code .<out>.run}) so that a killed
 * run, rerun with the same settings, resumes after its last saved step.
 *
 * <ul>
 *   <li>One run per output at a time: {@link #open} takes an OS lock ({@link FileChannel#tryLock}) on a file in the
 *       folder, so a second command writing the same output is refused, and a killed process's lock is released by
 *       the OS.</li>
 *   <li>State belongs to settings: the settings (any text, e.g. JSON of every option and input fingerprint that the
 *       result depends on) are stored; opened with other settings, the old state is discarded.</li>
 *   <li>Every {@link #save} and {@link #saveFolder} is atomic and durable: after a crash an entry is either the old
 *       one or the new one, whole.</li>
 *   <li>The output is committed by a recoverable sequence ({@link #commitOutput}): built in the folder, marked
 *       committed, the old output moved into the folder, the new one renamed into place. A run killed anywhere in it is
 *       finished by the next {@link #open} with the same settings, and rolled back (old output restored) by one with
 *       other settings.</li>
 *   <li>{@link #complete()} deletes the folder once the output is committed; {@link #close()} alone keeps it (unless
 *       nothing was saved).</li>
 *   <li>The folder is marked as come's ({@value #MARKER}, naming the output): a folder of that name without the marker
 *       is refused, never cleared; nothing beside the output is ever removed by its name alone.</li>
 * </ul>
 */
public final class RunFolder implements AutoCloseable {
    static final String MARKER = "come4j-run";
    private static final String LOCK = "lock", OWNER = "owner", SETTINGS = "settings";
    /** The output being built, the old output while it is replaced, and the mark that the new output is complete. */
    private static final String OUTPUT = "output", REPLACED = "replaced", COMMITTED = "committed";
    private static final List<String> RESERVED = List.of(MARKER, LOCK, OWNER, SETTINGS, OUTPUT, REPLACED, COMMITTED);
    /** Run folders this process holds (by real path), and the runs open now (for the interrupt message). */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();
    private static final Set<RunFolder> OPEN = ConcurrentHashMap.newKeySet();

    private final Path out, dir, held;
    private final byte[] settings;
    private final FileChannel lockChannel;
    private final boolean resumed;
    private String discarded;
    private boolean finishedEarlier, released;

    private RunFolder(Path out, Path dir, byte[] settings, FileChannel lockChannel, boolean resumed) throws IOException {
        this.out = out;
        this.settings = settings;
        this.dir = dir;
        this.held = dir.toRealPath();
        this.lockChannel = lockChannel;
        this.resumed = resumed;
    }

    /** The run folder of output folder {@code out}, locked for this process; its state is kept if {@code settings} match. */
    public static RunFolder open(Path out, String settings) {
        return open(out, settings, Inputs.NONE);
    }

    /**
     * As {@link #open(Path, String)}, after refusing an output or run folder that is, contains or lies inside one of
     * {@code inputs} (before anything is written). An earlier run of the same settings killed while committing its
     * output is finished ({@link #finishedEarlier()}); with other settings its old output is restored.
     */
    public static RunFolder open(Path out, String settings, Inputs inputs) {
        Path abs = out.toAbsolutePath().normalize();
        Path dir = abs.resolveSibling("." + abs.getFileName() + ".run");
        inputs.requireApart(out, "output folder");
        inputs.requireApart(dir, "run folder");
        try {
            FileChannel lock = lock(abs, dir);
            try {
                byte[] want = settings.getBytes(StandardCharsets.UTF_8);
                // a completing run deletes its settings before the committed mark, which holds them too
                Path stored = Files.isRegularFile(dir.resolve(SETTINGS)) ? dir.resolve(SETTINGS) : dir.resolve(COMMITTED);
                byte[] had = Files.isRegularFile(stored) ? Files.readAllBytes(stored) : null;
                boolean same = had != null && Arrays.equals(had, want);
                RunFolder run = new RunFolder(abs, dir, want, lock, same);
                if (same && Files.exists(dir.resolve(COMMITTED))) {
                    run.finishCommit();
                    run.finishedEarlier = true;
                    if (!Files.exists(dir.resolve(SETTINGS))) run.writeFile(SETTINGS, want); // killed while completing
                } else if (!same) {
                    run.rollBack();
                    if (had != null) run.discarded = changedFields(had, want);
                    run.clear(MARKER, LOCK, OWNER);
                    run.writeFile(SETTINGS, want);
                }
                OPEN.add(run);
                return run;
            } catch (IOException | RuntimeException e) {
                deleteIfStateless(dir); // while holding the lock
                lock.close();
                HELD.remove(dir.toRealPath());
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The top-level fields of two JSON settings that differ (or "settings" when they are not JSON objects). */
    private static String changedFields(byte[] had, byte[] want) {
        try {
            var a = Json.MAPPER.readTree(had);
            var b = Json.MAPPER.readTree(want);
            if (a != null && a.isObject() && b.isObject()) {
                java.util.TreeSet<String> names = new java.util.TreeSet<>();
                a.fieldNames().forEachRemaining(names::add);
                b.fieldNames().forEachRemaining(names::add);
                names.removeIf(n -> java.util.Objects.equals(a.get(n), b.get(n)));
                if (!names.isEmpty()) return String.join(", ", names);
            }
        } catch (IOException e) {
            // not JSON: say only that they differ
        }
        return "settings";
    }

    /**
     * Creates the folder and locks its lock file. The lock is POSIX's, which a process loses when it closes any
     * descriptor of the file: so this process never opens the lock file twice (its own holds are tracked in HELD) and
     * nobody reads it (the owner's pid goes to another file). A run that completes deletes the folder while another
     * process may hold the old lock file open; comparing inode numbers before opening and after locking tells whether
     * the lock taken is on the file that is there now (an inode held open cannot be reused).
     */
    private static FileChannel lock(Path out, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path held = dir.toRealPath();
        // the marker is written before the lock file, so a folder with a lock file and no marker is not come's
        try (Stream<Path> entries = Files.list(dir)) {
            if (!Files.exists(dir.resolve(MARKER)) && entries.anyMatch(p -> !List.of(LOCK, OWNER).contains(p.getFileName().toString())))
                throw new BadInputException(dir, "exists but is not a come run folder (no " + MARKER + " file); move it away, come never deletes it");
        }
        if (!Files.exists(dir.resolve(MARKER))) Files.writeString(dir.resolve(MARKER), "come4j run folder of " + out + "\n");
        if (!HELD.add(held)) throw busy(out, dir);
        try {
            while (true) {
                Files.createDirectories(dir);
                Path path = dir.resolve(LOCK);
                Object before;
                FileChannel ch;
                try {
                    if (!Files.exists(path)) Files.createFile(path);
                    before = Files.getAttribute(path, "unix:ino");
                    ch = FileChannel.open(path, StandardOpenOption.WRITE);
                } catch (NoSuchFileException | FileAlreadyExistsException e) {
                    continue; // raced with a run that completed or one that started: look again
                }
                if (ch.tryLock() == null) {
                    ch.close();
                    throw busy(out, dir);
                }
                Object after = Files.exists(path) ? Files.getAttribute(path, "unix:ino") : null;
                if (before.equals(after)) {
                    Files.writeString(dir.resolve(OWNER), Long.toString(ProcessHandle.current().pid()));
                    return ch;
                }
                ch.close();
            }
        } catch (IOException | RuntimeException e) {
            HELD.remove(held);
            throw e;
        }
    }

    private static BadInputException busy(Path out, Path dir) {
        String owner;
        try {
            owner = Files.readString(dir.resolve(OWNER)).strip();
        } catch (IOException e) {
            owner = "";
        }
        return new BadInputException(out, "another come run" + (owner.isEmpty() ? "" : " (process " + owner + ")")
                + " is writing this output; wait for it to finish or choose another output folder");
    }

    /** Whether state saved by an earlier run with the same settings was found. */
    public boolean resumed() {
        return resumed;
    }

    /** Whether an earlier run of these settings had committed its output, and opening finished putting it in place. */
    public boolean finishedEarlier() {
        return finishedEarlier;
    }

    /** Why an earlier run's state was discarded (the settings fields that changed), if it was. */
    public Optional<String> discarded() {
        return Optional.ofNullable(discarded);
    }

    /** Where the output is built until {@link #commitOutput}: a fresh empty folder (what a killed run left goes). */
    public Path newOutputFolder() throws IOException {
        Path f = dir.resolve(OUTPUT);
        Files.deleteIfExists(dir.resolve(COMMITTED)); // what is built now is not committed (an earlier output may have been)
        TempFolder.deleteTree(f);
        return Files.createDirectory(f);
    }

    /**
     * Puts the output built in {@link #newOutputFolder} in place of {@code out}: marks it complete, moves an old output
     * into this folder, renames the new one into place and deletes the old one. Killed at any point, the next
     * {@link #open} with the same settings finishes it.
     */
    public void commitOutput() throws IOException {
        writeFile(COMMITTED, settings);
        crashPoint("committed");
        finishCommit();
    }

    private void finishCommit() throws IOException {
        Path built = dir.resolve(OUTPUT), old = dir.resolve(REPLACED);
        if (Files.isDirectory(built)) {
            if (Files.exists(out, LinkOption.NOFOLLOW_LINKS)) { // a link named as output is replaced, never followed
                Files.move(out, old, StandardCopyOption.ATOMIC_MOVE);
                crashPoint("old-output-moved");
            }
            Files.move(built, out, StandardCopyOption.ATOMIC_MOVE);
            sync(out.getParent());
            crashPoint("new-output-in-place");
        }
        TempFolder.deleteTree(old);
    }

    /** Undoes a commit that other settings will not finish: the old output goes back if the new one is not in place. */
    private void rollBack() throws IOException {
        Path old = dir.resolve(REPLACED);
        if (Files.exists(old, LinkOption.NOFOLLOW_LINKS) && !Files.exists(out, LinkOption.NOFOLLOW_LINKS))
            Files.move(old, out, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Fault injection for the kill-and-rerun tests: with {@code -Dcome4j.crash-at=POINT} the JVM halts there as
     * SIGKILL would (no finally blocks, no shutdown hooks); with {@code -Dcome4j.pause-at=POINT} it says so on stderr
     * and waits there a minute, so that a test's Ctrl-C lands while the run is surely still going.
     */
    public static void crashPoint(String point) {
        if (point.equals(System.getProperty("come4j.crash-at"))) Runtime.getRuntime().halt(137);
        if (point.equals(System.getProperty("come4j.pause-at"))) {
            System.err.println("come: paused at " + point);
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** What the open runs have saved, for the one line printed when the command is interrupted (Ctrl-C). */
    public static String interruptedLine() {
        List<String> kept = new java.util.ArrayList<>();
        for (RunFolder r : OPEN)
            if (!r.released && r.hasState()) kept.add(r.dir.toString());
        return kept.isEmpty() ? "interrupted; no output was written and nothing was saved (rerun the command to start again)"
                : "interrupted; no output was written, the finished work is kept in " + String.join(", ", kept)
                + ": rerun the same command to resume";
    }

    private boolean hasState() {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.anyMatch(p -> !List.of(MARKER, LOCK, OWNER, SETTINGS, OUTPUT).contains(p.getFileName().toString()));
        } catch (IOException e) {
            return false;
        }
    }

    public Path dir() {
        return dir;
    }

    /** The bytes last saved under {@code name}, if any. */
    public Optional<byte[]> load(String name) {
        Path f = dir.resolve(checkName(name));
        try {
            return Files.isRegularFile(f) ? Optional.of(Files.readAllBytes(f)) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Replaces entry {@code name} with {@code bytes}, atomically and durably. */
    public void save(String name, byte[] bytes) {
        writeFile(checkName(name), bytes);
    }

    private void writeFile(String name, byte[] bytes) {
        saveFolderOrFile(name, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) ch.write(b);
                ch.force(true);
            }
        });
    }

    /** Writes files into a folder (or one file, for {@link AtomicOutput#replaceFile}). */
    public interface FolderWriter {
        void write(Path folder) throws IOException;
    }

    /** The folder last saved under {@code name}, if any (for state too large for one byte array, e.g. tensors). */
    public Optional<Path> loadFolder(String name) {
        Path f = dir.resolve(checkName(name));
        return Files.isDirectory(f) ? Optional.of(f) : Optional.empty();
    }

    /**
     * Replaces folder entry {@code name} with what {@code writer} writes into a fresh folder; returns the folder. The
     * files are synced before the folder appears under its name, so it is never seen half-written (an existing folder
     * of that name is removed first).
     */
    public Path saveFolder(String name, FolderWriter writer) {
        return saveFolderOrFile(checkName(name), tmp -> {
            Files.createDirectory(tmp);
            writer.write(tmp);
            try (Stream<Path> files = Files.list(tmp)) {
                for (Path f : files.toList()) sync(f);
            }
        });
    }

    /** Removes entry {@code name} (a file or folder), if present. */
    public void delete(String name) {
        try {
            TempFolder.deleteTree(dir.resolve(checkName(name)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Builds {@code name} under a temporary name, then renames it into place and syncs the folder. */
    private Path saveFolderOrFile(String name, FolderWriter build) {
        Path target = dir.resolve(name), tmp = dir.resolve(name + ".tmp");
        try {
            TempFolder.deleteTree(tmp); // left by a run killed while building it
            build.write(tmp);
            if (Files.isDirectory(target)) TempFolder.deleteTree(target); // a rename replaces files, not folders
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            sync(dir);
            return target;
        } catch (IOException e) {
            try {
                TempFolder.deleteTree(tmp); // no partial file stays (e.g. on a full disk)
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw new UncheckedIOException(e);
        }
    }

    static void sync(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private static String checkName(String name) {
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*") || RESERVED.contains(name) || name.endsWith(".tmp"))
            throw new IllegalArgumentException("run folder entry name '" + name + "' must be a plain file name, not one of "
                    + RESERVED + " or *.tmp");
        return name;
    }

    /** Deletes every entry but {@code keep} (state of other settings, or of a finished run). */
    private void clear(String... keep) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path p : entries.toList())
                if (!List.of(keep).contains(p.getFileName().toString())) TempFolder.deleteTree(p);
        }
    }

    /** The output is committed: deletes the folder and releases the lock. */
    public void complete() {
        if (released) return;
        try {
            // the committed mark goes last but the marker and lock: a rerun after a kill in between only cleans up
            clear(MARKER, LOCK, OWNER, COMMITTED);
            crashPoint("run-folder-cleared");
            Files.deleteIfExists(dir.resolve(OWNER));
            Files.deleteIfExists(dir.resolve(COMMITTED));
            Files.deleteIfExists(dir.resolve(MARKER));
            Files.delete(dir.resolve(LOCK));
            Files.delete(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            release();
        }
    }

    /** Releases the lock, keeping the state for a rerun; a folder with no state saved (a run refused early) goes. */
    @Override
    public void close() {
        if (released) return;
        try (Stream<Path> entries = Files.list(dir)) {
            if (entries.allMatch(p -> List.of(MARKER, LOCK, OWNER, SETTINGS, OUTPUT).contains(p.getFileName().toString()))) {
                complete();
                return;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        release();
    }

    /** Removes a run folder that holds no state (after a failed open: nothing of it may stay). */
    private static void deleteIfStateless(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            if (entries.allMatch(p -> List.of(MARKER, LOCK, OWNER, SETTINGS).contains(p.getFileName().toString()))) TempFolder.deleteTree(dir);
        } catch (IOException e) {
            // what stays is come's (marked) and the next run clears it
        }
    }

    private void release() {
        if (released) return;
        released = true;
        OPEN.remove(this);
        HELD.remove(held);
        try {
            lockChannel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
