package come4j.io;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * tokenizer.json through DJL's Hugging Face tokenizers (offline). Truncation and padding are off: a long text is
 * encoded whole, never silently cut to DJL's default 512 tokens.
 */
public final class Tokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer hf;

    private Tokenizer(HuggingFaceTokenizer hf) {
        this.hf = hf;
    }

    public static Tokenizer load(Path file) {
        if (!Files.isRegularFile(file)) throw new BadInputException(file, "missing tokenizer (come4j needs tokenizer.json beside config.json)");
        System.setProperty("ai.djl.offline", "true");
        try {
            return new Tokenizer(HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optAddSpecialTokens(true)
                    .optTruncation(false)
                    .optPadding(false)
                    .build());
        } catch (Exception e) {
            throw new BadInputException(file, "cannot load tokenizer: " + e.getMessage());
        }
    }

    /** Token ids of {@code text} with the tokenizer's default special tokens (LLaMA: one BOS at the start). */
    public int[] encode(String text) {
        return toInts(hf.encode(text, true, false).getIds());
    }

    /** Token ids without special tokens. */
    public int[] encodePlain(String text) {
        return toInts(hf.encode(text, false, false).getIds());
    }

    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return hf.decode(l, true);
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    @Override
    public void close() {
        hf.close();
    }
}
