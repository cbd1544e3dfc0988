package come4j.io;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * tokenizer.json through DJL's Hugging Face tokenizers (offline). Truncation and padding are off: a long text is
 * encoded whole, never silently cut to DJL's default 512 tokens.
 */
public final class Tokenizer implements AutoCloseable {
    /** Large vocabularies make files of tens of MB; far beyond is not a tokenizer. */
    private static final long MAX_FILE_BYTES = 256L << 20;

    private final HuggingFaceTokenizer hf;

    private Tokenizer(HuggingFaceTokenizer hf) {
        this.hf = hf;
    }

    /** The checkpoint's tokenizer, refused when it has token ids that the model's embedding does not have. */
    public static Tokenizer load(Checkpoint ckpt) {
        Path file = ckpt.tokenizerFile();
        long maxId = maxId(read(file));
        int vocab = ckpt.config().vocabSize();
        if (maxId >= vocab)
            throw new BadInputException(file, "has token id " + maxId + " but config.json has vocab_size " + vocab + " (tokenizer of another model?)");
        return build(file);
    }

    public static Tokenizer load(Path file) {
        read(file);
        return build(file);
    }

    /** tokenizer.json as JSON, checked before the native library sees it. */
    private static JsonNode read(Path file) {
        if (!Files.isRegularFile(file)) throw new BadInputException(file, "missing tokenizer (come4j needs tokenizer.json beside config.json)");
        JsonNode root = UntrustedJson.readObject(file, MAX_FILE_BYTES);
        if (!root.path("model").isObject()) throw new BadInputException(file, "has no \"model\" object: not a Hugging Face tokenizer.json");
        return root;
    }

    private static Tokenizer build(Path file) {
        System.setProperty("ai.djl.offline", "true");
        try {
            return new Tokenizer(HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optAddSpecialTokens(true)
                    .optTruncation(false)
                    .optPadding(false)
                    .build());
        } catch (Exception e) {
            throw new BadInputException(file, "cannot load tokenizer: " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
    }

    /** The largest token id tokenizer.json names: in model.vocab (an object of ids, or a list for Unigram) and added_tokens. */
    private static long maxId(JsonNode root) {
        JsonNode vocab = root.path("model").path("vocab");
        long max = vocab.isArray() ? vocab.size() - 1 : -1;
        if (vocab.isObject()) for (JsonNode id : vocab) max = Math.max(max, id.asLong(-1));
        for (JsonNode t : root.path("added_tokens")) max = Math.max(max, t.path("id").asLong(-1));
        return max;
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
