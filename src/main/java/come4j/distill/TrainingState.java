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
 * One layer's training state after some steps: parameters, AdamW moments and the loss of every step so far; under the
 * automatic schedule also the rate search's held-out losses, the held-out losses measured so far and the weights of
 * the best of them (null otherwise). Written to
 * a temp file and renamed, so a killed run leaves either the previous state or the new one; values are stored exactly
 * (fp32 bits), so a resumed run continues bit for bit.
 */
public record TrainingState(int step, List<Double> losses, List<Double> searched, List<Double> heldOut, LayerParams params,
                            LayerParams m, LayerParams v, LayerParams best) {
    private static final int MAGIC = 0x434d4455; // "CMDU" (issue 17's layout; "CMDT" states are not read)

    public void save(Path file) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16))) {
            out.writeInt(MAGIC);
            out.writeInt(step);
            for (List<Double> list : List.of(losses, searched, heldOut)) {
                out.writeInt(list.size());
                for (double l : list) out.writeDouble(l);
            }
            out.writeBoolean(best != null);
            for (LayerParams p : best == null ? List.of(params, m, v) : List.of(params, m, v, best))
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
            int step = in.readInt();
            List<List<Double>> lists = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                int n = in.readInt();
                List<Double> list = new ArrayList<>();
                for (int i = 0; i < n; i++) list.add(in.readDouble());
                lists.add(list);
            }
            LayerParams[] parts = {like.zeros(), like.zeros(), like.zeros(), in.readBoolean() ? like.zeros() : null};
            for (LayerParams p : parts)
                if (p != null)
                    for (Arr a : p.tensors().values())
                        for (int i = 0; i < a.length(); i++) a.set(i, in.readFloat());
            return new TrainingState(step, lists.get(0), lists.get(1), lists.get(2), parts[0], parts[1], parts[2], parts[3]);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read training state " + file + ": " + e.getMessage(), e);
        }
    }
}
