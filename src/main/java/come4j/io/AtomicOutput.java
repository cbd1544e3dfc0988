package come4j.io;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * An output folder that appears complete or not at all: it is built in a hidden sibling folder and renamed into place
 * by {@link #commit()}; {@link #close()} without a commit deletes what was built. Use with try-with-resources.
 */
public final class AtomicOutput implements AutoCloseable {
    /** Files a compressed checkpoint keeps from its input as they are (those present are copied). */
    public static final List<String> UNCHANGED_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "tokenizer.model", "added_tokens.json", "vocab.json", "merges.txt",
            "chat_template.jinja", "generation_config.json");

    private final Path target;
    private final boolean overwrite;
    private final Path temp;
    private boolean committed;

    private AtomicOutput(Path target, boolean overwrite, Path temp) {
        this.target = target;
        this.overwrite = overwrite;
        this.temp = temp;
    }

    /**
     * Starts building {@code target}. Refuses a target that exists (unless {@code overwrite}), and one that is the
     * input folder, lies inside it or contains it, so that the input checkpoint is never written or deleted.
     */
    public static AtomicOutput create(Path target, Path input, boolean overwrite) throws IOException {
        checkApart(target, input);
        // Renames act on the path as given: a symbolic link named as output is replaced, never the folder it points to.
        Path abs = target.toAbsolutePath().normalize();
        checkTarget(abs, overwrite);
        Files.createDirectories(abs.getParent());
        return new AtomicOutput(abs, overwrite, createTempSibling(abs));
    }

    /** Refuses an output folder that is the input folder, lies inside it or contains it. */
    public static void checkApart(Path target, Path input) throws IOException {
        Path out = realPath(target), in = realPath(input);
        if (out.startsWith(in))
            throw new BadInputException(target, "output folder is the input checkpoint folder or lies inside it (" + input + ")");
        if (in.startsWith(out))
            throw new BadInputException(target, "output folder contains the input checkpoint folder (" + input + ")");
    }

    /**
     * Deletes what killed runs left beside the target (their unfinished folders, or the old output of an interrupted
     * replacement). Only safe while holding the output's lock ({@link RunFolder}).
     */
    public void removeLeftovers() throws IOException {
        String prefix = "." + target.getFileName() + ".";
        try (var siblings = Files.list(target.getParent())) {
            for (Path p : siblings.toList()) {
                String name = p.getFileName().toString();
                if (!p.equals(temp) && (name.startsWith(prefix + "tmp-") || name.startsWith(prefix + "old-"))) TempFolder.deleteTree(p);
            }
        }
    }

    /** The folder to write the output into until {@link #commit()}. */
    public Path dir() {
        return temp;
    }

    /** Where the output appears on {@link #commit()}. */
    public Path target() {
        return target;
    }

    /** Copies those of {@link #UNCHANGED_FILES} that {@code inputDir} has; returns their names. */
    public List<String> copyUnchangedFiles(Path inputDir) throws IOException {
        List<String> copied = new ArrayList<>();
        for (String name : UNCHANGED_FILES) {
            Path src = inputDir.resolve(name);
            if (!Files.isRegularFile(src)) continue;
            Files.copy(src, temp.resolve(name));
            copied.add(name);
        }
        return copied;
    }

    /** Writes config.json: fields in the order of {@code config}, two-space indent, trailing newline. */
    public void writeConfig(ObjectNode config) throws IOException {
        Json.writePretty(temp.resolve("config.json"), config);
    }

    /** Moves the finished folder into place with one atomic rename; an old folder is deleted only afterwards. */
    public void commit() throws IOException {
        if (committed) throw new IllegalStateException(target + " was already committed");
        checkTarget(target, overwrite);
        if (!Files.exists(target)) {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } else {
            Path old = sibling(target, "old");
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                try {
                    Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException restore) {
                    e.addSuppressed(restore);
                }
                throw e;
            }
            TempFolder.deleteTree(old);
        }
        committed = true;
    }

    /** Deletes the folder being built unless it was committed. */
    @Override
    public void close() throws IOException {
        if (!committed) TempFolder.deleteTree(temp);
    }

    private static void checkTarget(Path target, boolean overwrite) {
        if (!Files.exists(target)) return;
        if (!overwrite) throw new BadInputException(target, "output folder already exists (choose another or allow overwriting)");
        if (!Files.isDirectory(target)) throw new BadInputException(target, "output exists and is not a folder");
    }

    /** A fresh empty folder next to {@code target}, on the same file system so that renames are atomic. */
    private static Path createTempSibling(Path target) throws IOException {
        while (true) {
            try {
                // not Files.createTempDirectory: it makes the folder owner-only, and the folder becomes the output
                return Files.createDirectory(sibling(target, "tmp"));
            } catch (FileAlreadyExistsException e) {
                // taken: draw another name
            }
        }
    }

    /** A hidden name next to {@code target}: {@code .<name>.<kind>-<random hex>}. */
    private static Path sibling(Path target, String kind) {
        String suffix = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        return target.resolveSibling("." + target.getFileName() + "." + kind + "-" + suffix);
    }

    /** The absolute path with symbolic links resolved as far as the path exists, to compare folders reliably. */
    private static Path realPath(Path p) throws IOException {
        Path abs = p.toAbsolutePath().normalize();
        if (Files.exists(abs)) return abs.toRealPath();
        Path parent = abs.getParent();
        return parent == null ? abs : realPath(parent).resolve(abs.getFileName());
    }

}
