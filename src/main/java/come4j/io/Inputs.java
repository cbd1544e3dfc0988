package come4j.io;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A command's inputs (model, teacher, student, data files, task folders), resolved to real paths (links followed):
 * the one place that decides whether a path the command would write or delete touches an input, and what identifies an
 * input's content for resume.
 */
public final class Inputs {
    /** No inputs (a command that only reads what it writes). */
    public static final Inputs NONE = new Inputs(List.of(), List.of());

    private final List<Path> given, real;

    private Inputs(List<Path> given, List<Path> real) {
        this.given = given;
        this.real = real;
    }

    /** The inputs among {@code paths} that exist (a missing one is reported by whatever reads it). */
    public static Inputs of(Collection<Path> paths) {
        List<Path> given = new ArrayList<>(), real = new ArrayList<>();
        for (Path p : paths) {
            if (p == null || !Files.exists(p)) continue;
            try {
                real.add(p.toRealPath());
                given.add(p);
            } catch (IOException e) {
                throw new BadInputException(p, "cannot resolve: " + IoFailureException.reason(e));
            }
        }
        return new Inputs(List.copyOf(given), List.copyOf(real));
    }

    public static Inputs of(Path... paths) {
        return of(List.of(paths));
    }

    /**
     * Refuses ({@link BadInputException}, exit 2) a path this command would write or delete ({@code what}: "output
     * folder", "run folder", ...) that is an input, lies inside one or contains one.
     */
    public void requireApart(Path target, String what) {
        Path t = realPath(target);
        for (int i = 0; i < real.size(); i++) {
            Path in = real.get(i);
            if (t.startsWith(in))
                throw new BadInputException(target, what + (t.equals(in) ? " is" : " lies inside") + " the input " + given.get(i)
                        + "; choose an output outside every input");
            if (in.startsWith(t))
                throw new BadInputException(target, what + " contains the input " + given.get(i) + "; choose an output outside every input");
        }
    }

    /** The absolute path with symbolic links resolved as far as the path exists. */
    static Path realPath(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        try {
            if (Files.exists(abs)) return abs.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path parent = abs.getParent();
        return parent == null ? abs : realPath(parent).resolve(abs.getFileName());
    }

    /**
     * What identifies the content of every file at or below {@code path} (links followed) without reading it: relative
     * name, size, modification time, inode and change time. A file rewritten in place, even to the same size and with
     * its modification time set back, gets a new change time; a replaced file gets a new inode.
     */
    public static ArrayNode identity(Path path) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        try (Stream<Path> files = Files.walk(path.toRealPath())) {
            Path root = path.toRealPath();
            for (Path f : files.sorted().toList()) {
                BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
                if (!a.isRegularFile()) continue;
                Map<String, Object> unix = Files.readAttributes(f, "unix:ino,ctime");
                out.addObject().put("file", root.relativize(f).toString()).put("bytes", a.size())
                        .put("modified_ns", a.lastModifiedTime().to(TimeUnit.NANOSECONDS))
                        .put("inode", String.valueOf(unix.get("ino")))
                        .put("changed_ns", ((java.nio.file.attribute.FileTime) unix.get("ctime")).to(TimeUnit.NANOSECONDS));
            }
        } catch (IOException e) {
            throw new BadInputException(path, "cannot read: " + IoFailureException.reason(e));
        }
        return out;
    }

    /** The SHA-256 of each text file ({@code what}: how the user knows it, for the error), by name. */
    public static ArrayNode hashes(List<Path> files, String what) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        for (Path f : files) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(f);
            } catch (IOException e) { // an input: bad input, not an output failure
                throw new BadInputException(f, Files.exists(f) ? "cannot read the " + what : what + " not found");
            }
            try {
                out.addObject().put("file", f.toString())
                        .put("sha256", java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes)));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-256", e);
            }
        }
        return out;
    }
}
