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

    /** The items of the evaluation split; each record is checked (fields, their types, the answer among >= 2 choices). */
    public List<Item> items(Path dataDir) {
        Path dir = dataDir.resolve(folder);
        Map<String, List<JsonNode>> dev = this == MMLU_5SHOT ? bySubject(records(dir, "dev")) : Map.of();
        return records(dir, split()).stream().map(r -> item(r, dev)).toList();
    }

    /** The first {@code limit} items (--limit of eval and bench; null: all). */
    public static List<Item> first(List<Item> items, Integer limit) {
        checkLimit(limit);
        return limit == null ? items : items.subList(0, Math.min(limit, items.size()));
    }

    public static void checkLimit(Integer limit) {
        if (limit != null && limit < 1) throw new BadInputException(null, "--limit must be at least 1, not " + limit);
    }

    /** The records of a split; a split without records is refused. */
    private List<Records.Record> records(Path dir, String split) {
        List<Records.Record> docs = Records.located(dir, split);
        if (docs.isEmpty())
            throw new BadInputException(Records.source(dir, split), "holds no records (" + key + " needs its " + split + " split)");
        return docs;
    }

    private static BadInputException bad(Records.Record r, String key, String problem) {
        return new BadInputException(r.file(), r.where() + ": " + problem + " (" + key + " record format)");
    }

    private Item item(Records.Record r, Map<String, List<JsonNode>> dev) {
        try {
            if (!r.json().isObject()) throw new IllegalArgumentException("not a JSON object");
            return item(r.json(), dev);
        } catch (IllegalArgumentException e) {
            throw bad(r, key, e.getMessage());
        }
    }

    Item item(JsonNode d, Map<String, List<JsonNode>> dev) {
        return switch (this) {
            case ARC_EASY, ARC_CHALLENGE -> Item.of("", "Question: " + text(d, "question") + "\nAnswer:",
                    strings(field(d, "choices"), "text"), labelled(d, text(d, "answerKey")));
            case OPENBOOKQA -> Item.of("", text(d, "question_stem"), strings(field(d, "choices"), "text"),
                    labelled(d, PyText.lstrip(text(d, "answerKey"))));
            case HELLASWAG -> Item.of("", hellaswag(text(d, "activity_label") + ": " + text(d, "ctx_a") + " " + PyText.capitalize(text(d, "ctx_b"))),
                    strings(d, "endings").stream().map(Task::hellaswag).toList(), number(d, "label", 0));
            case PIQA -> Item.of("", "Question: " + text(d, "goal") + "\nAnswer:", List.of(text(d, "sol1"), text(d, "sol2")), number(d, "label", 0));
            case BOOLQ -> Item.of("", text(d, "passage") + "\nQuestion: " + text(d, "question") + "?\nAnswer:", List.of("no", "yes"), number(d, "label", 0));
            case WINOGRANDE -> {
                String s = text(d, "sentence");
                int i = s.indexOf('_');
                if (i < 0) throw new IllegalArgumentException("field 'sentence' has no '_' blank for the options");
                String cont = " " + PyText.strip(s.substring(i + 1));
                List<String> options = List.of(text(d, "option1"), text(d, "option2"));
                yield new Item("", options.stream().map(o -> s.substring(0, i) + o).toList(), List.of(cont, cont),
                        number(d, "answer", 1), options);
            }
            case MMLU, MMLU_5SHOT -> {
                String subject = text(d, "subject");
                StringBuilder ctx = new StringBuilder("The following are multiple choice questions (with answers) about "
                        + subject.replace('_', ' ') + ".\n\n");
                if (this == MMLU_5SHOT)
                    for (JsonNode shot : dev.getOrDefault(subject, List.of()).subList(0, Math.min(5, dev.getOrDefault(subject, List.of()).size())))
                        ctx.append(mmluBlock(shot)).append(' ').append("ABCD".charAt(number(shot, "answer", 0))).append("\n\n");
                yield Item.of(subject, ctx.append(mmluBlock(d)).toString(), List.of("A", "B", "C", "D"), number(d, "answer", 0));
            }
        };
    }

    /** The index of answerKey among choices.label (ARC, OpenBookQA: letters or digits, as the dataset gives them). */
    private static int labelled(JsonNode d, String answer) {
        List<String> labels = strings(field(d, "choices"), "label");
        int n = strings(field(d, "choices"), "text").size();
        if (labels.size() != n) throw new IllegalArgumentException("choices has " + n + " texts but " + labels.size() + " labels");
        int i = labels.indexOf(answer);
        if (i < 0) throw new IllegalArgumentException("answerKey '" + answer + "' is not one of the choice labels " + labels);
        return i;
    }

    /**
     * An answer given as a number (a JSON integer, or digits in a string as hellaswag and winogrande store it), minus
     * {@code first} (winogrande counts its options from 1). A letter such as "B" is refused: these datasets never
     * use letters, so it would be a file of another format.
     */
    private static int number(JsonNode d, String name, int first) {
        JsonNode v = field(d, name);
        if (v.isIntegralNumber() && v.canConvertToInt()) return v.asInt() - first;
        if (v.isTextual() && v.asText().matches("[0-9]{1,9}")) return Integer.parseInt(v.asText()) - first;
        throw new IllegalArgumentException("field '" + name + "' is " + v + ", not a choice number");
    }

    private static String mmluBlock(JsonNode d) {
        List<String> c = strings(d, "choices");
        if (c.size() != 4) throw new IllegalArgumentException("field 'choices' has " + c.size() + " entries; MMLU questions have 4 (A-D)");
        return PyText.strip(text(d, "question")) + "\nA. " + c.get(0) + "\nB. " + c.get(1) + "\nC. " + c.get(2) + "\nD. " + c.get(3) + "\nAnswer:";
    }

    private static final Pattern BRACKETS = Pattern.compile("\\[.*?\\]");

    /** lm-eval's hellaswag preprocess: strip, " [title]" -> ". ", drop [bracketed] spans, "  " -> " ". */
    static String hellaswag(String s) {
        s = PyText.strip(s).replace(" [title]", ". ");
        return BRACKETS.matcher(s).replaceAll("").replace("  ", " ");
    }

    private static JsonNode field(JsonNode d, String name) {
        JsonNode v = d.get(name);
        if (v == null || v.isNull()) throw new IllegalArgumentException("missing field '" + name + "'");
        return v;
    }

    private static String text(JsonNode d, String name) {
        JsonNode v = field(d, name);
        if (!v.isTextual()) throw new IllegalArgumentException("field '" + name + "' is " + v + ", not a string");
        return v.asText();
    }

    /** Field {@code name} of {@code d}: an array of strings. */
    private static List<String> strings(JsonNode d, String name) {
        JsonNode a = field(d, name);
        if (!a.isArray()) throw new IllegalArgumentException("field '" + name + "' is not an array");
        List<String> out = new ArrayList<>();
        for (JsonNode x : a) {
            if (!x.isTextual()) throw new IllegalArgumentException("field '" + name + "' holds " + x + ", not a string");
            out.add(x.asText());
        }
        return out;
    }

    private static Map<String, List<JsonNode>> bySubject(List<Records.Record> docs) {
        Map<String, List<JsonNode>> m = new LinkedHashMap<>();
        for (Records.Record d : docs) {
            try {
                mmluBlock(d.json());
                if (number(d.json(), "answer", 0) >= 4) throw new IllegalArgumentException("field 'answer' is " + d.json().get("answer") + ", not 0..3");
                m.computeIfAbsent(text(d.json(), "subject"), k -> new ArrayList<>()).add(d.json());
            } catch (IllegalArgumentException e) {
                throw bad(d, "mmlu", e.getMessage());
            }
        }
        return m;
    }
}
