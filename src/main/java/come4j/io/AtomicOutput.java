package come4j.io;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * An output folder that appears complete or not at all: it is built inside the output's run folder ({@link RunFolder})
 * and put in place by {@link #commit()}, a sequence that a rerun finishes if the process is killed in it; {@link
 * #close()} without a commit deletes what was built. Use with try-with-resources.
 */
public final class AtomicOutput implements AutoCloseable {
    /** Files a compressed checkpoint keeps from its input as they are (those present are copied). */
    public static final List<String> UNCHANGED_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "tokenizer.model", "added_tokens.json", "vocab.json", "merges.txt",
            "chat_template.jinja", "generation_config.json");

    private final RunFolder run;
    private final boolean overwrite;
    private final Path target, temp;
    private boolean committed;

    private AtomicOutput(RunFolder run, Path target, boolean overwrite) throws IOException {
        this.run = run;
        this.target = target;
        this.overwrite = overwrite;
        this.temp = run.newOutputFolder();
    }

    /**
     * Starts building the output of {@code run} (which has checked it against the inputs). Refuses an output that
     * exists unless {@code overwrite}.
     */
    public static AtomicOutput create(RunFolder run, Path target, boolean overwrite) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        checkTarget(abs, overwrite);
        return new AtomicOutput(run, abs, overwrite);
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

    /**
     * Puts the finished folder in place ({@link RunFolder#commitOutput}): an old output is replaced only once the new
     * one is complete.
     */
    public void commit() throws IOException {
        if (committed) throw new IllegalStateException(target + " was already committed");
        checkTarget(target, overwrite);
        run.commitOutput();
        committed = true;
    }

    /** Deletes the folder being built unless it was committed. */
    @Override
    public void close() throws IOException {
        if (!committed) TempFolder.deleteTree(temp);
    }

    private static void checkTarget(Path target, boolean overwrite) {
        if (!Files.exists(target)) return;
        if (!overwrite) throw new BadInputException(target, "output folder already exists: choose another --out, or add --overwrite to replace it once the new output is complete");
        if (!Files.isDirectory(target)) throw new BadInputException(target, "output exists and is not a folder");
    }

    /**
     * Replaces one file with what {@code writer} writes into a hidden temporary beside it ({@code .NAME.tmp}), synced
     * and renamed: a reader or a killed run sees the old file or the new one, whole, never a part.
     */
    public static void replaceFile(Path file, RunFolder.FolderWriter writer) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try {
            Files.deleteIfExists(tmp);
            writer.write(tmp);
            RunFolder.sync(tmp);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }
}
