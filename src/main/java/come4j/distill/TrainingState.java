package come4j.distill;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * One layer's training state after some steps: parameters, AdamW moments and the loss of every step so far. Written to
 * a temp file and renamed, so a killed run leaves either the previous state or the new one; values are stored exactly
 * (fp32 bits), so a resumed run continues bit for bit.
 */
public record TrainingState(int step, List<Double> losses, LayerParams params, LayerParams m, LayerParams v) {
    private static final int MAGIC = 0x434d4454; // "CMDT"

    public void save(Path file) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16))) {
            out.writeInt(MAGIC);
            out.writeInt(step);
            out.writeInt(losses.size());
            for (double l : losses) out.writeDouble(l);
            for (LayerParams p : List.of(params, m, v))
                for (Arr a : p.tensors().values())
                    for (int i = 0; i < a.length(); i++) out.writeFloat((float) a.get(i));
        } catch (IOException e) { // e.g. a full disk: no partial file stays, and the error names the file
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw new UncheckedIOException(new java.nio.file.FileSystemException(tmp.toString(), null, e.getMessage()));
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The state saved in file, read into fresh fp32 copies shaped like {@code like}; null when there is none. */
    public static TrainingState load(Path file, LayerParams like) {
        if (!Files.isRegularFile(file)) return null;
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            if (in.readInt() != MAGIC) throw new IOException("not a training state");
            int step = in.readInt(), n = in.readInt();
            List<Double> losses = new ArrayList<>();
            for (int i = 0; i < n; i++) losses.add(in.readDouble());
            LayerParams[] parts = {like.zeros(), like.zeros(), like.zeros()};
            for (LayerParams p : parts)
                for (Arr a : p.tensors().values())
                    for (int i = 0; i < a.length(); i++) a.set(i, in.readFloat());
            return new TrainingState(step, losses, parts[0], parts[1], parts[2]);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read training state " + file + ": " + e.getMessage(), e);
        }
    }
}
