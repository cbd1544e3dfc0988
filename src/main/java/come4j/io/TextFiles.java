package come4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Evaluation and calibration text: a plain text file is one document; a .jsonl file holds one document per line in a
 * "text" field (or "page", as EleutherAI/wikitext_document_level stores them).
 */
public final class TextFiles {
    private TextFiles() {}

    /** The documents of a file joined with "\n\n" (the pruning-paper protocol). */
    public static String read(Path file) {
        return String.join("\n\n", documents(file));
    }

    public static List<String> documents(Path file) {
        if (!Files.isRegularFile(file)) throw new BadInputException(file, "text file not found");
        if (!file.getFileName().toString().endsWith(".jsonl")) {
            try {
                return List.of(Files.readString(file, StandardCharsets.UTF_8));
            } catch (java.nio.charset.MalformedInputException e) {
                throw new BadInputException(file, "is not valid UTF-8 text");
            } catch (IOException e) {
                throw new BadInputException(file, "cannot read: " + e.getMessage());
            }
        }
        List<String> docs = new ArrayList<>();
        List<JsonNode> records = Records.jsonl(file);
        for (int i = 0; i < records.size(); i++) {
            JsonNode rec = records.get(i), text = rec.has("text") ? rec.get("text") : rec.get("page");
            if (text == null || !text.isTextual())
                throw new BadInputException(file, "record " + (i + 1) + " has no \"text\" (or \"page\") string field");
            docs.add(text.asText());
        }
        return docs;
    }
}
