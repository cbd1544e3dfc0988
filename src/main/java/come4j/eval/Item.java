package come4j.eval;

import java.util.List;

/**
 * One multiple-choice document as lm-eval scores it: a (context, continuation) request per choice. Most tasks share one
 * context and vary the continuation (" " + choice); winogrande varies the context and shares the continuation.
 * {@code choices} are the bare choice strings (their lengths in code points normalise acc_norm); {@code group} is the
 * MMLU subject (empty elsewhere).
 */
public record Item(String group, List<String> contexts, List<String> continuations, int gold, List<String> choices) {
    /** A document with one choice (always "right") or a gold outside the choices would be scored wrongly, not refused. */
    public Item {
        if (choices.size() < 2) throw new IllegalArgumentException("has " + choices.size() + " choice(s); a multiple-choice item needs at least 2");
        if (gold < 0 || gold >= choices.size()) throw new IllegalArgumentException("the answer (index " + gold + ") is not among the " + choices.size() + " choices");
    }

    /** The usual shape: one context, continuation = target delimiter + choice. */
    static Item of(String group, String context, List<String> choices, int gold) {
        return new Item(group, choices.stream().map(c -> context).toList(), choices.stream().map(c -> " " + c).toList(), gold, choices);
    }
}
