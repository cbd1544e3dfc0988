package come4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
        try {
            if (!file.getFileName().toString().endsWith(".jsonl")) return List.of(Files.readString(file, StandardCharsets.UTF_8));
            ObjectMapper json = new ObjectMapper();
            List<String> docs = new ArrayList<>();
            int lineNo = 0;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                lineNo++;
                if (line.isBlank()) continue;
                JsonNode text;
                try {
                    JsonNode rec = json.readTree(line);
                    text = rec.has("text") ? rec.get("text") : rec.get("page");
                } catch (IOException e) {
                    throw new BadInputException(file, "line " + lineNo + " is not valid JSON");
                }
                if (text == null || !text.isTextual()) throw new BadInputException(file, "line " + lineNo + " has no \"text\" (or \"page\") string field");
                docs.add(text.asText());
            }
            return docs;
        } catch (java.nio.charset.MalformedInputException e) {
            throw new BadInputException(file, "is not valid UTF-8 text");
        } catch (IOException e) {
            throw new BadInputException(file, "cannot read: " + e.getMessage());
        }
    }
}
