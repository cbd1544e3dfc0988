package come4j.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
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
 *   <li>{@link #complete()} deletes the folder once the output is committed; {@link #close()} alone keeps it (unless
 *       nothing was saved).</li>
 * </ul>
 */
public final class RunFolder implements AutoCloseable {
    private static final String LOCK = "lock", OWNER = "owner", SETTINGS = "settings";
    /** Run folders this process holds. */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path dir, held;
    private final FileChannel lockChannel;
    private final boolean resumed;
    private boolean released;

    private RunFolder(Path dir, FileChannel lockChannel, boolean resumed) throws IOException {
        this.dir = dir;
        this.held = dir.toRealPath();
        this.lockChannel = lockChannel;
        this.resumed = resumed;
    }

    /** The run folder of output folder {@code out}, locked for this process; its state is kept if {@code settings} match. */
    public static RunFolder open(Path out, String settings) {
        Path abs = out.toAbsolutePath().normalize();
        Path dir = abs.resolveSibling("." + abs.getFileName() + ".run");
        try {
            FileChannel lock = lock(abs, dir);
            try {
                byte[] want = settings.getBytes(StandardCharsets.UTF_8);
                Path stored = dir.resolve(SETTINGS);
                boolean same = Files.isRegularFile(stored) && Arrays.equals(Files.readAllBytes(stored), want);
                RunFolder run = new RunFolder(dir, lock, same);
                if (!same) {
                    run.clear();
                    run.writeFile(SETTINGS, want);
                }
                return run;
            } catch (IOException | RuntimeException e) {
                lock.close();
                HELD.remove(dir.toRealPath());
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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

    /** Writes files into a folder. */
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
            throw new UncheckedIOException(e);
        }
    }

    private static void sync(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private static String checkName(String name) {
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*") || List.of(LOCK, OWNER, SETTINGS).contains(name) || name.endsWith(".tmp"))
            throw new IllegalArgumentException("run folder entry name '" + name + "' must be a plain file name, not lock, owner, settings or *.tmp");
        return name;
    }

    /** Deletes every entry but the lock and its owner (state of other settings, or of a finished run). */
    private void clear() throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path p : entries.toList())
                if (!List.of(LOCK, OWNER).contains(p.getFileName().toString())) TempFolder.deleteTree(p);
        }
    }

    /** The output is committed: deletes the folder and releases the lock. */
    public void complete() {
        if (released) return;
        try {
            clear();
            Files.deleteIfExists(dir.resolve(OWNER));
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
            if (entries.allMatch(p -> List.of(LOCK, OWNER, SETTINGS).contains(p.getFileName().toString()))) {
                complete();
                return;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        release();
    }

    private void release() {
        if (released) return;
        released = true;
        HELD.remove(held);
        try {
            lockChannel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
