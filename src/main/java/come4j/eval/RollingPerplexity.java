package come4j.eval;

import com.fasterxml.jackson.annotation.JsonProperty;
import come4j.model.Tokenizer;
import come4j.model.Transformer;
import come4j.tensor.Parallel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * lm-eval's wikitext perplexity (evaluation.md §2), a different number from the pruning-paper protocol: each document
 * is detokenized, scored with rolling windows of the model's maximum length (the first conditioned on the prefix
 * token, each later full window on one preceding token, the last one back-filled), and the summed log-likelihood is
 * normalised by the original document's words and bytes.
 */
public final class RollingPerplexity {
    public record Result(@JsonProperty("word_perplexity") double wordPerplexity, @JsonProperty("byte_perplexity") double bytePerplexity,
                         @JsonProperty("bits_per_byte") double bitsPerByte, int documents, long tokens, double seconds) {}

    private RollingPerplexity() {}

    public static Result evaluate(Transformer model, Tokenizer tok, List<String> pages, int maxLength, boolean specialTokens) {
        long start = System.nanoTime(), tokens = 0, words = 0, bytes = 0;
        int bos = model.config().bosTokenId(), prefix = bos >= 0 ? bos : model.config().eosTokenId();
        int[][] ids = new int[pages.size()][];
        for (int i = 0; i < ids.length; i++) {
            String text = detokenize(pages.get(i));
            ids[i] = specialTokens ? tok.encode(text) : tok.encodePlain(text);
            tokens += ids[i].length;
            words += WORDS.split(pages.get(i), -1).length;
            bytes += pages.get(i).getBytes(StandardCharsets.UTF_8).length;
        }
        double[] total = {0}; // pages side by side, their log-likelihoods added in page order
        Parallel.sideBySide(ids.length, Parallel.together(model.passBytes(maxLength, true)),
                i -> logLikelihood(model, ids[i], prefix, maxLength), (pageLl, i) -> total[0] += pageLl);
        double ll = total[0];
        return new Result(Math.exp(-ll / words), Math.exp(-ll / bytes), -ll / bytes / Math.log(2), pages.size(), tokens,
                (System.nanoTime() - start) / 1e9);
    }

    private static final Pattern WORDS = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);

    /** Σ log P(t_i | ...) over the rolling windows of §2. */
    static double logLikelihood(Transformer model, int[] t, int prefix, int M) {
        int N = t.length;
        double ll = 0;
        for (int P = 0; P < N; ) {
            int p = Math.min(N - P, M);
            int[] input = new int[P == 0 ? p : M];
            if (P == 0) { // the prefix token, then t[0 .. p-2]: predicts t[0 .. p-1]
                input[0] = prefix;
                System.arraycopy(t, 0, input, 1, p - 1);
            } else { // t[P+p-M-1 .. P+p-2]: the last p positions predict t[P .. P+p-1]
                System.arraycopy(t, P + p - M - 1, input, 0, M);
            }
            int[] target = new int[input.length];
            java.util.Arrays.fill(target, -1);
            for (int k = 0; k < p; k++) target[input.length - p + k] = t[P + k];
            double[] nll = model.tokenNll(model.finalStates(input, 1), input.length, target);
            for (int k = 0; k < p; k++) ll -= nll[input.length - p + k];
            P += p;
        }
        return ll;
    }

    private static final Pattern[] BRACKETS = {
            Pattern.compile("\\(\\s*([^)]*?)\\s*\\)", Pattern.UNICODE_CHARACTER_CLASS),
            Pattern.compile("\\[\\s*([^\\]]*?)\\s*\\]", Pattern.UNICODE_CHARACTER_CLASS),
            Pattern.compile("\\{\\s*([^}]*?)\\s*\\}", Pattern.UNICODE_CHARACTER_CLASS),
            Pattern.compile("\"\\s*([^\"]*?)\\s*\"", Pattern.UNICODE_CHARACTER_CLASS),
            Pattern.compile("'\\s*([^']*?)\\s*'", Pattern.UNICODE_CHARACTER_CLASS)};
    private static final String[] OPEN = {"(", "[", "{", "\"", "'"}, CLOSE = {")", "]", "}", "\"", "'"};

    /** lm-eval's wikitext_detokenizer, rule by rule in its order. */
    static String detokenize(String s) {
        s = s.replace("s '", "s'");
        s = s.replaceAll("/' [0-9]/", Matcher.quoteReplacement("/'[0-9]/")); // a no-op in practice, kept for parity
        s = s.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".");
        s = s.replace(" : ", ": ").replace(" ; ", "; ").replace(" . ", ". ").replace(" ! ", "! ").replace(" ? ", "? ")
                .replace(" , ", ", ");
        for (int i = 0; i < BRACKETS.length; i++) {
            String open = OPEN[i], close = CLOSE[i];
            s = BRACKETS[i].matcher(s).replaceAll(m -> Matcher.quoteReplacement(open + m.group(1) + close));
        }
        s = s.replace("= = = =", "====").replace("= = =", "===").replace("= =", "==");
        s = s.replace(" \u00b0 ", "\u00b0");
        s = s.replace(" \n", "\n").replace("\n ", "\n");
        s = s.replace(" N ", " 1 ");
        return s.replace(" 's", "'s");
    }
}
