package come4j.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import come4j.io.BadInputException;
import come4j.io.UntrustedJson;
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

    /**
     * The checkpoint's tokenizer, refused when it names token ids that the model's embedding does not have (in its
     * vocabulary, added tokens or the special tokens its post-processor inserts, such as BOS).
     */
    public static Tokenizer load(Checkpoint ckpt) {
        Path file = ckpt.tokenizerFile();
        JsonNode root = read(file);
        int vocab = ckpt.config().vocabSize();
        long maxId = maxId(root);
        if (maxId >= vocab)
            throw new BadInputException(file, "has token id " + maxId + " but config.json has vocab_size " + vocab + " (tokenizer of another model?)");
        long special = maxSpecialId(root.path("post_processor"));
        if (special >= vocab)
            throw new BadInputException(file, "post_processor inserts special token id " + special + " but config.json has vocab_size " + vocab);
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
        requireUnk(file, root.path("model"));
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

    /** The largest id among the post-processor's special tokens (TemplateProcessing's ids, Bert/Roberta's sep and cls), or -1. */
    private static long maxSpecialId(JsonNode processor) {
        long max = -1;
        for (JsonNode t : processor.path("special_tokens")) for (JsonNode id : t.path("ids")) max = Math.max(max, id.asLong(-1));
        for (String f : new String[] {"sep", "cls"}) max = Math.max(max, processor.path(f).path(1).asLong(-1));
        for (JsonNode p : processor.path("processors")) max = Math.max(max, maxSpecialId(p));
        return max;
    }

    /**
     * The unknown token that the model falls back on: WordPiece and WordLevel always need theirs in the vocabulary,
     * BPE when it names one and has no byte fallback, Unigram's unk_id must be one of its pieces. Otherwise encoding
     * fails on the first unknown character, long after loading.
     */
    private static void requireUnk(Path file, JsonNode model) {
        String type = model.path("type").asText("");
        JsonNode vocab = model.path("vocab"), unk = model.path("unk_token");
        if (type.equals("Unigram")) {
            JsonNode id = model.path("unk_id");
            if (!id.isNull() && !id.isMissingNode() && !(id.canConvertToInt() && id.asInt() >= 0 && id.asInt() < vocab.size()))
                throw new BadInputException(file, "unk_id " + id + " is not one of the model's " + vocab.size() + " pieces");
            return;
        }
        boolean needed = type.equals("WordPiece") || type.equals("WordLevel")
                || type.equals("BPE") && unk.isTextual() && !model.path("byte_fallback").asBoolean(false);
        if (!needed) return;
        if (!unk.isTextual()) throw new BadInputException(file, type + " model has no unk_token, which it needs for unknown text");
        if (vocab.isObject() && !vocab.has(unk.asText()))
            throw new BadInputException(file, "unk_token '" + unk.asText() + "' is not in the model's vocab");
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
