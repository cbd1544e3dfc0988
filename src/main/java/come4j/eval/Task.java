package come4j.eval;

import com.fasterxml.jackson.databind.JsonNode;
import come4j.io.BadInputException;
import come4j.io.Records;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The zero-shot tasks with lm-evaluation-harness's prompts (evaluation.md §4), read from local JSON Lines files in the
 * Hugging Face record format: {@code <data-dir>/<folder>/<split>.jsonl} or Parquet ({@link Records}).
 */
public enum Task {
    ARC_EASY("arc_easy", "arc_easy", true),
    ARC_CHALLENGE("arc_challenge", "arc_challenge", true),
    HELLASWAG("hellaswag", "hellaswag", true),
    PIQA("piqa", "piqa", true),
    BOOLQ("boolq", "boolq", false),
    WINOGRANDE("winogrande", "winogrande", false),
    OPENBOOKQA("openbookqa", "openbookqa", true),
    MMLU("mmlu", "mmlu", false),
    MMLU_5SHOT("mmlu_5shot", "mmlu", false);

    public final String key, folder;
    public final boolean accNorm;

    Task(String key, String folder, boolean accNorm) {
        this.key = key;
        this.folder = folder;
        this.accNorm = accNorm;
    }

    public static Task parse(String key) {
        for (Task t : values()) if (t.key.equals(key)) return t;
        throw come4j.io.Suggestion.unknown("task", key, java.util.Arrays.stream(values()).map(t -> t.key).toList());
    }

    /** The evaluation split as lm-eval uses it. */
    public String split() {
        return switch (this) {
            case ARC_EASY, ARC_CHALLENGE, OPENBOOKQA, MMLU, MMLU_5SHOT -> "test";
            default -> "validation";
        };
    }

    public List<Item> items(Path dataDir) {
        Path file = dataDir.resolve(folder).resolve(split());
        List<JsonNode> docs = Records.read(dataDir.resolve(folder), split());
        List<Item> items = new ArrayList<>();
        Map<String, List<JsonNode>> dev = this == MMLU_5SHOT ? bySubject(Records.read(dataDir.resolve(folder), "dev")) : Map.of();
        for (int i = 0; i < docs.size(); i++) {
            try {
                items.add(item(docs.get(i), dev));
            } catch (RuntimeException e) {
                if (e instanceof BadInputException) throw e;
                throw new BadInputException(file, "record " + (i + 1) + " does not have the fields of " + key + ": " + e.getMessage());
            }
        }
        return items;
    }

    Item item(JsonNode d, Map<String, List<JsonNode>> dev) {
        return switch (this) {
            case ARC_EASY, ARC_CHALLENGE -> Item.of("", "Question: " + text(d, "question") + "\nAnswer:",
                    strings(d.get("choices").get("text")), strings(d.get("choices").get("label")).indexOf(text(d, "answerKey")));
            case OPENBOOKQA -> Item.of("", text(d, "question_stem"), strings(d.get("choices").get("text")),
                    strings(d.get("choices").get("label")).indexOf(PyText.lstrip(text(d, "answerKey"))));
            case HELLASWAG -> Item.of("", hellaswag(text(d, "activity_label") + ": " + text(d, "ctx_a") + " " + PyText.capitalize(text(d, "ctx_b"))),
                    strings(d.get("endings")).stream().map(Task::hellaswag).toList(), Integer.parseInt(text(d, "label")));
            case PIQA -> Item.of("", "Question: " + text(d, "goal") + "\nAnswer:", List.of(text(d, "sol1"), text(d, "sol2")), d.get("label").asInt());
            case BOOLQ -> Item.of("", text(d, "passage") + "\nQuestion: " + text(d, "question") + "?\nAnswer:", List.of("no", "yes"), d.get("label").asInt());
            case WINOGRANDE -> {
                String s = text(d, "sentence");
                int i = s.indexOf('_');
                String cont = " " + PyText.strip(s.substring(i + 1));
                List<String> options = List.of(text(d, "option1"), text(d, "option2"));
                yield new Item("", options.stream().map(o -> s.substring(0, i) + o).toList(), List.of(cont, cont),
                        text(d, "answer").equals("1") ? 0 : 1, options);
            }
            case MMLU, MMLU_5SHOT -> {
                String subject = text(d, "subject");
                StringBuilder ctx = new StringBuilder("The following are multiple choice questions (with answers) about "
                        + subject.replace('_', ' ') + ".\n\n");
                if (this == MMLU_5SHOT)
                    for (JsonNode shot : dev.getOrDefault(subject, List.of()).subList(0, Math.min(5, dev.getOrDefault(subject, List.of()).size())))
                        ctx.append(mmluBlock(shot)).append(' ').append("ABCD".charAt(shot.get("answer").asInt())).append("\n\n");
                yield Item.of(subject, ctx.append(mmluBlock(d)).toString(), List.of("A", "B", "C", "D"), d.get("answer").asInt());
            }
        };
    }

    private static String mmluBlock(JsonNode d) {
        List<String> c = strings(d.get("choices"));
        return PyText.strip(text(d, "question")) + "\nA. " + c.get(0) + "\nB. " + c.get(1) + "\nC. " + c.get(2) + "\nD. " + c.get(3) + "\nAnswer:";
    }

    private static final Pattern BRACKETS = Pattern.compile("\\[.*?\\]");

    /** lm-eval's hellaswag preprocess: strip, " [title]" -> ". ", drop [bracketed] spans, "  " -> " ". */
    static String hellaswag(String s) {
        s = PyText.strip(s).replace(" [title]", ". ");
        return BRACKETS.matcher(s).replaceAll("").replace("  ", " ");
    }

    private static String text(JsonNode d, String field) {
        JsonNode v = d.get(field);
        if (v == null || v.isNull()) throw new IllegalArgumentException("missing field '" + field + "'");
        return v.asText();
    }

    private static List<String> strings(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(x -> out.add(x.asText()));
        return out;
    }

    private static Map<String, List<JsonNode>> bySubject(List<JsonNode> docs) {
        Map<String, List<JsonNode>> m = new LinkedHashMap<>();
        for (JsonNode d : docs) m.computeIfAbsent(text(d, "subject"), k -> new ArrayList<>()).add(d);
        return m;
    }
}
