package come4j.distill;

import come4j.io.BadInputException;
import come4j.io.TextFiles;
import come4j.io.Tokenizer;
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
 */
public record TrainingWindows(List<int[]> windows, long seed, long available) {

    public static TrainingWindows build(List<Path> files, Tokenizer tok, int seqLen, int needed, long seed) {
        List<String> docs = new ArrayList<>();
        for (Path f : files) docs.addAll(TextFiles.documents(f));
        int[] ids = tok.encode(String.join("\n\n", docs));
        List<int[]> all = new ArrayList<>();
        for (int i = 0; i + seqLen <= ids.length; i += seqLen) all.add(Arrays.copyOfRange(ids, i, i + seqLen));
        if (all.isEmpty())
            throw new BadInputException(files.getFirst(), "training text gives " + ids.length + " tokens, fewer than one window of " + seqLen);
        Collections.shuffle(all, new Random(seed));
        return new TrainingWindows(List.copyOf(all.subList(0, Math.min(needed, all.size()))), seed, all.size());
    }

    public int seqLen() {
        return windows.getFirst().length;
    }

    /** The windows of batch s (0-based): samples s·batch … s·batch + batch − 1 of the epoch-by-epoch order. */
    public int[] batch(int s, int batch) {
        int n = windows.size();
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
        for (int i = 0; i < windows.size(); i++) idx.add(i);
        Collections.shuffle(idx, new Random(seed * 1_000_003L + epoch));
        return idx.stream().mapToInt(Integer::intValue).toArray();
    }
}
