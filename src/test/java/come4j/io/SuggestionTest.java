package come4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SuggestionTest {
    static final List<String> METHODS = List.of("come", "come-p", "weightsum", "shortgpt", "reverse", "magnitude", "magnitude+", "sleb");

    @Test
    void typosFindTheirName() {
        assertEquals(Optional.of("come-p"), Suggestion.closest("comep", METHODS)); // not "come": separators do not count
        assertEquals(Optional.of("shortgpt"), Suggestion.closest("shortgtp", METHODS));
        assertEquals(Optional.of("weightsum"), Suggestion.closest("WeightSum", METHODS));
        assertEquals(Optional.of("--model"), Suggestion.closest("--modle", List.of("--method", "--model", "--out")));
        assertEquals(Optional.of("--target-layers"), Suggestion.closest("--target", List.of("--threads", "--target-layers")));
    }

    @Test
    void farNamesGetNoSuggestion() {
        assertEquals(Optional.empty(), Suggestion.closest("squad", METHODS));
        assertEquals(Optional.empty(), Suggestion.closest("mka", METHODS));
        assertEquals("", Suggestion.didYouMean("xyz", METHODS));
    }

    @Test
    void distanceCountsEditsAndSwaps() {
        assertEquals(0, Suggestion.distance("abc", "abc"));
        assertEquals(1, Suggestion.distance("ab", "ba"));
        assertEquals(3, Suggestion.distance("kitten", "sitting"));
        assertEquals(4, Suggestion.distance("", "abcd"));
    }

    @Test
    void unknownNamesTheKindTheValueAndTheChoices() {
        assertEquals("unknown loss 'mes' (did you mean mse?); one of kl_hidden, mse, logit_lens_kl",
                Suggestion.unknown("loss", "mes", List.of("kl_hidden", "mse", "logit_lens_kl")).line());
    }
}
