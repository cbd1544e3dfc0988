package come4j.distill;

import come4j.io.BadInputException;
import come4j.io.TextFiles;
import come4j.model.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The training windows: the documents of the data files joined by a blank line, tokenized once, cut into
 * non-overlapping windows of seqLen tokens; a seeded shuffle picks the distinct windows used. Batch s is a pure
 * function of s (an epoch's order is a shuffle seeded by seed and the epoch), so a resumed run reads the same batches.
 * The last {@code heldOut} windows of the list are never trained on (the held-out slice of the automatic schedule):
 * the last windows of the shuffle, so the training windows are those a run without a held-out slice would use.
 */
public record TrainingWindows(List<int[]> windows, long seed, long available, int heldOut) {

    public static TrainingWindows build(List<Path> files, Tokenizer tok, int seqLen, int needed, long seed) {
        return build(files, tok, seqLen, needed, seed, 0);
    }

    /** heldOut: windows kept out of training, at most a tenth of those available (at least one when asked for). */
    public static TrainingWindows build(List<Path> files, Tokenizer tok, int seqLen, int needed, long seed, int heldOut) {
        List<String> docs = new ArrayList<>();
        for (Path f : files) docs.addAll(TextFiles.documents(f));
        int[] ids = tok.encode(String.join("\n\n", docs));
        List<int[]> all = new ArrayList<>();
        for (int i = 0; i + seqLen <= ids.length; i += seqLen) all.add(Arrays.copyOfRange(ids, i, i + seqLen));
        if (all.isEmpty())
            throw new BadInputException(files.getFirst(), "training text gives " + ids.length + " tokens, fewer than one window of " + seqLen);
        Collections.shuffle(all, new Random(seed));
        int held = heldOut == 0 ? 0 : Math.max(1, Math.min(heldOut, all.size() / 10));
        if (held > 0 && all.size() < 2)
            throw new BadInputException(files.getFirst(), "training text gives one window of " + seqLen + " tokens; a held-out slice needs two (or give a learning rate)");
        List<int[]> kept = new ArrayList<>(all.subList(0, Math.min(needed, all.size() - held)));
        kept.addAll(all.subList(all.size() - held, all.size()));
        return new TrainingWindows(List.copyOf(kept), seed, all.size(), held);
    }

    /** The windows trained on. */
    public int training() {
        return windows.size() - heldOut;
    }

    /** The indices of the held-out windows. */
    public int[] heldOutIds() {
        return java.util.stream.IntStream.range(training(), windows.size()).toArray();
    }

    public int seqLen() {
        return windows.getFirst().length;
    }

    /** The windows of batch s (0-based): samples s·batch … s·batch + batch − 1 of the epoch-by-epoch order. */
    public int[] batch(int s, int batch) {
        int n = training();
        int[] out = new int[batch];
        int[] order = null;
        long epochOfOrder = -1;
        for (int k = 0; k < batch; k++) {
            long sample = (long) s * batch + k, epoch = sample / n;
            if (epoch != epochOfOrder) {
                order = order(epoch);
                epochOfOrder = epoch;
            }
            out[k] = order[(int) (sample % n)];
        }
        return out;
    }

    private int[] order(long epoch) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < training(); i++) idx.add(i);
        Collections.shuffle(idx, new Random(seed * 1_000_003L + epoch));
        return idx.stream().mapToInt(Integer::intValue).toArray();
    }
}
