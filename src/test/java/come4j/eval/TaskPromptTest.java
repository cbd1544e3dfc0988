package come4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each task's prompt, continuations and gold, character by character as evaluation.md §4 specifies them. */
class TaskPromptTest {
    static JsonNode json(String s) {
        try {
            return new ObjectMapper().readTree(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static Item item(Task t, String record) {
        return t.item(json(record), Map.of());
    }

    @Test
    void arcWithNumericLabelsAndThreeChoices() {
        Item it = item(Task.ARC_CHALLENGE, """
                {"id": "x", "question": "Which gas do plants absorb?", "choices": {"text": ["oxygen", "carbon dioxide", "neon"],
                 "label": ["1", "2", "3"]}, "answerKey": "2"}""");
        assertEquals(List.of("Question: Which gas do plants absorb?\\nAnswer:".replace("\\n", "\n")), it.contexts().subList(0, 1));
        assertEquals(List.of(" oxygen", " carbon dioxide", " neon"), it.continuations());
        assertEquals(1, it.gold());
    }

    @Test
    void hellaswagPreprocessAndCapitalize() {
        Item it = item(Task.HELLASWAG, """
                {"activity_label": "Making tea", "ctx_a": "A man boils water.", "ctx_b": "tHE man [header] pours", "ctx": "",
                 "endings": ["it into a cup [title] Add sugar.", " slowly  and   carefully.\\u00a0"], "label": "1"}""");
        assertEquals("Making tea: A man boils water. The man  pours".replace("  ", " "), it.contexts().getFirst());
        assertEquals(List.of(" it into a cup. Add sugar.", " slowly and  carefully."), it.continuations());
        assertEquals(1, it.gold());
        // an empty ctx_b leaves a trailing space that the preprocess strips
        assertEquals("Cooking: Eggs.", item(Task.HELLASWAG, """
                {"activity_label": "Cooking", "ctx_a": "Eggs.", "ctx_b": "", "endings": ["a", "b"], "label": "0"}""").contexts().getFirst());
    }

    @Test
    void piqaBoolqOpenbookqa() {
        Item piqa = item(Task.PIQA, """
                {"goal": "Open a jar", "sol1": "Twist the lid.", "sol2": "Shake it.", "label": 0}""");
        assertEquals("Question: Open a jar\nAnswer:", piqa.contexts().getFirst());
        assertEquals(List.of(" Twist the lid.", " Shake it."), piqa.continuations());
        Item boolq = item(Task.BOOLQ, """
                {"question": "is the sky blue", "passage": "The sky is blue.", "idx": 0, "label": 1}""");
        assertEquals("The sky is blue.\nQuestion: is the sky blue?\nAnswer:", boolq.contexts().getFirst());
        assertEquals(List.of(" no", " yes"), boolq.continuations());
        assertEquals(1, boolq.gold());
        Item obqa = item(Task.OPENBOOKQA, """
                {"id": "7", "question_stem": "The sun is a", "choices": {"text": ["star", "planet", "moon", "comet"],
                 "label": ["A", "B", "C", "D"]}, "answerKey": " A"}""");
        assertEquals("The sun is a", obqa.contexts().getFirst());
        assertEquals(0, obqa.gold());
    }

    @Test
    void winograndeScoresOneContinuationUnderTwoContexts() {
        Item it = item(Task.WINOGRANDE, """
                {"sentence": "The trophy doesn't fit into the brown suitcase because _ is too large.",
                 "option1": "the trophy", "option2": "the suitcase", "answer": "2"}""");
        assertEquals(List.of("The trophy doesn't fit into the brown suitcase because the trophy",
                "The trophy doesn't fit into the brown suitcase because the suitcase"), it.contexts());
        assertEquals(List.of(" is too large.", " is too large."), it.continuations());
        assertEquals(1, it.gold());
    }

    @Test
    void mmluZeroAndFiveShot() {
        String q = """
                {"question": " What is 2 + 2? ", "subject": "elementary_mathematics", "choices": ["3", "4", "5", "6"], "answer": 1}""";
        String desc = "The following are multiple choice questions (with answers) about elementary mathematics.\n\n";
        String block = "What is 2 + 2?\nA. 3\nB. 4\nC. 5\nD. 6\nAnswer:";
        Item zero = item(Task.MMLU, q);
        assertEquals(desc + block, zero.contexts().getFirst());
        assertEquals(List.of(" A", " B", " C", " D"), zero.continuations());
        assertEquals("elementary_mathematics", zero.group());
        List<JsonNode> dev = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++)
            dev.add(json("{\"question\": \"Q" + i + "\", \"subject\": \"elementary_mathematics\", \"choices\": [\"a\", \"b\", \"c\", \"d\"], \"answer\": " + (i % 4) + "}"));
        Item five = Task.MMLU_5SHOT.item(json(q), Map.of("elementary_mathematics", dev));
        StringBuilder expected = new StringBuilder(desc);
        for (int i = 0; i < 5; i++) // the first five dev rows, in order
            expected.append("Q").append(i).append("\nA. a\nB. b\nC. c\nD. d\nAnswer: ").append("ABCD".charAt(i % 4)).append("\n\n");
        assertEquals(expected + block, five.contexts().getFirst());
    }

    @Test
    void pythonStringSemantics() {
        assertEquals("x", PyText.strip("\u00a0 x\t\n"));
        assertEquals("Hello world", PyText.capitalize("hELLO WORLD"));
        assertEquals("", PyText.capitalize(""));
    }
}
