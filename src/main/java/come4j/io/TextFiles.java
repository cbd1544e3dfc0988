package come4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.UnmappableCharacterException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * Evaluation and calibration text: a plain text file is one document; a .jsonl file holds one document per line in a
 * "text" field (or "page", as EleutherAI/wikitext_document_level stores them). Every text input (calibration,
 * perplexity, distillation data, task records) is read through {@link #text}: plain files only, at most
 * {@link #MAX_BYTES}, strict UTF-8.
 */
public final class TextFiles {
    /**
     * A text is held in memory as one string and tokenized whole, and a Java string holds under 2^31 bytes; 1 GiB is
     * twice WikiText-103 and leaves room for the token ids. Larger corpora are split into several files.
     */
    public static final long MAX_BYTES = 1L << 30;

    private TextFiles() {}

    /** The documents of a file joined with "\n\n" (the pruning-paper protocol). */
    public static String read(Path file) {
        return String.join("\n\n", documents(file));
    }

    public static List<String> documents(Path file) {
        if (!file.getFileName().toString().endsWith(".jsonl")) return List.of(text(file));
        List<String> docs = new ArrayList<>();
        for (Records.Record r : Records.jsonl(file)) {
            JsonNode rec = r.json(), text = rec.has("text") ? rec.get("text") : rec.get("page");
            if (text == null || !text.isTextual())
                throw new BadInputException(file, r.where() + " has no \"text\" (or \"page\") string field");
            docs.add(text.asText());
        }
        return docs;
    }

    /** The lines of a plain text file (line breaks as {@link String#lines()}: \n, \r or \r\n). */
    public static List<String> lines(Path file) {
        return text(file).lines().toList();
    }

    /**
     * The whole of a text file, refused unless it is a regular file (a FIFO would block for ever, a device such as
     * /dev/zero never ends) of at most {@link #MAX_BYTES} bytes of valid UTF-8.
     */
    public static String text(Path file) {
        requireText(file, "text file");
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (MalformedInputException | UnmappableCharacterException e) {
            throw notUtf8(file);
        } catch (IOException e) {
            throw new BadInputException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** Refuses a text input ({@code what}: "calibration text", ...) as {@link #text} would, for callers that hash it first. */
    public static void requireText(Path file, String what) {
        requireRegular(file, MAX_BYTES, what, "; texts are read into memory whole: split a larger one into several files");
    }

    /** Refuses {@code file} unless it is a regular file (links followed) of at most {@code maxBytes}. */
    public static void requireRegular(Path file, long maxBytes, String what) {
        requireRegular(file, maxBytes, what, "");
    }

    private static void requireRegular(Path file, long maxBytes, String what, String tooLargeHint) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new BadInputException(file, what + " not found");
        } catch (IOException e) {
            throw new BadInputException(file, "cannot read: " + e.getMessage(), e);
        }
        if (a.isDirectory()) throw new BadInputException(file, "is a folder, not a " + what);
        if (!a.isRegularFile())
            throw new BadInputException(file, "is not a regular file (a pipe, socket or device); give the " + what + " as a plain file");
        if (a.size() > maxBytes)
            throw new BadInputException(file, "is " + a.size() + " bytes, over the " + maxBytes + "-byte limit of a " + what + tooLargeHint);
    }

    /** Where the first malformed UTF-8 sequence of {@code file} is, by line and byte offset (the decoder's own message is "Input length = 1"). */
    private static BadInputException notUtf8(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            return new BadInputException(file, "cannot read: " + e.getMessage(), e);
        }
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(1 << 16);
        CoderResult r;
        do {
            out.clear();
            r = d.decode(in, out, true);
        } while (r.isOverflow());
        int at = Math.min(in.position(), bytes.length - 1), line = 1;
        for (int i = 0; i < at; i++) if (bytes[i] == '\n') line++;
        return new BadInputException(file, String.format("is not valid UTF-8: byte 0x%02X at offset %d (line %d); save it as UTF-8",
                bytes[at] & 0xFF, at, line));
    }
}
