package come4j.eval;

import java.util.List;

/**
 * One multiple-choice document as lm-eval scores it: a (context, continuation) request per choice. Most tasks share one
 * context and vary the continuation (" " + choice); winogrande varies the context and shares the continuation.
 * {@code choices} are the bare choice strings (their lengths in code points normalise acc_norm); {@code group} is the
 * MMLU subject (empty elsewhere).
 */
public record Item(String group, List<String> contexts, List<String> continuations, int gold, List<String> choices) {
    /** The usual shape: one context, continuation = target delimiter + choice. */
    static Item of(String group, String context, List<String> choices, int gold) {
        if (gold < 0 || gold >= choices.size()) throw new IllegalArgumentException("the answer is not among the choices");
        return new Item(group, choices.stream().map(c -> context).toList(), choices.stream().map(c -> " " + c).toList(), gold, choices);
    }
}
