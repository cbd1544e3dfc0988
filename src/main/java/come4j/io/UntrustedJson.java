package come4j.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * JSON from files a user hands us (checkpoint headers, config, index, tokenizer): strict UTF-8, bounded size and
 * nesting, no duplicate keys, nothing after the document. Every problem becomes a {@link BadInputException} naming the
 * file, so a hostile file costs at most its size cap in memory and never surfaces as another exception.
 */
public final class UntrustedJson {
    /** Real files nest 3 to 6 levels; Jackson's default (1000) lets a tiny file drive deep recursion. */
    static final int MAX_DEPTH = 64;

    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private UntrustedJson() {}

    /** Reads {@code file} (at most {@code maxBytes}) as one JSON object. */
    public static JsonNode readObject(Path file, long maxBytes) {
        TextFiles.requireRegular(file, maxBytes, "JSON file");
        try {
            return parseObject(file, "", Files.readAllBytes(file));
        } catch (IOException e) {
            throw new BadInputException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** Parses {@code bytes} of {@code file} as one JSON object; {@code what} prefixes messages (e.g. "header "). */
    static JsonNode parseObject(Path file, String what, byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new BadInputException(file, what + "is not valid UTF-8");
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(text);
        } catch (IOException e) {
            throw new BadInputException(file, what + "malformed JSON: " + firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) throw new BadInputException(file, what + "is not a JSON object");
        return root;
    }

    /** Jackson's message without the source location it appends (which names no file: we name it). */
    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("").replaceFirst(" \\(start marker at \\[Source:.*", "");
    }
}
