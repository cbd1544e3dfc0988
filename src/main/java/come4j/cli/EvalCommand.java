package come4j.cli;

import come4j.eval.Item;
import come4j.eval.LogLikelihood;
import come4j.eval.Perplexity;
import come4j.eval.RollingPerplexity;
import come4j.eval.Scores;
import come4j.eval.Task;
import come4j.eval.TaskResult;
import come4j.eval.TaskScores;
import come4j.model.Checkpoint;
import come4j.model.Tokenizer;
import come4j.io.RecordJson;
import come4j.report.TaskReport;
import come4j.io.BadInputException;
import come4j.io.TextFiles;
import come4j.model.Transformer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Measure perplexity (pruning-paper protocol) and zero-shot task accuracy (lm-eval conventions).", "",
                "Perplexity (--ppl): documents are joined by a blank line and tokenized once (BOS as the tokenizer adds it), cut into non-overlapping windows of --ppl-seq-len tokens with the tail dropped; each window is scored on its own and PPL = exp(mean window loss). Tasks (--tasks): multiple-choice log-likelihoods with lm-evaluation-harness's prompts, delimiters and metrics, on local data files."},
        footerHeading = "%nExamples:%n",
        footer = {"  come eval --model " + Examples.MODEL + " --ppl-seq-len 256 \\",
                "      --ppl " + Examples.HELDOUT,
                "  come eval --model " + Examples.MODEL + " --compare out/sotu-come30 \\",
                "      --ppl " + Examples.HELDOUT + " --ppl-seq-len 256",
                "  come eval --model " + Examples.MODEL + " --tasks boolq,piqa \\",
                "      --data-dir " + Examples.TASK_DATA + " --limit 50 --json"})
final class EvalCommand implements Runnable {
    @Mixin
    ModelOption model;

    @Option(names = "--ppl", paramLabel = "FILE",
            description = "Text to score: plain text, or .jsonl with a \"text\" (or \"page\") field per line.")
    Path text;

    @Option(names = "--tasks", split = ",", paramLabel = "TASK",
            description = "Zero-shot tasks with lm-eval's prompts: arc_easy, arc_challenge, hellaswag, piqa, boolq, winogrande, openbookqa, mmlu, mmlu_5shot.")
    List<String> tasks = new ArrayList<>();

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Task data in the Hugging Face record format: DIR/<task>/<split>.jsonl or the Hub's Parquet (<split>.parquet, <split>-00000-of-0000N.parquet); mmlu_5shot also reads DIR/mmlu/dev.")
    Path dataDir;

    @Option(names = "--limit", paramLabel = "N", description = "Score only the first N items of each task.")
    Integer limit;

    @Option(names = "--log-samples", description = "With --json: per item, every request's log-likelihood and greedy flag.")
    boolean logSamples;

    @Option(names = "--lm-eval-bos", description = "Encode requests with the tokenizer's special tokens (lm-eval >= 0.4.10) instead of without (classic lm-eval, the default).")
    boolean bos;

    @Option(names = {"--ppl-seq-len", "--seq-len"}, paramLabel = "N", description = "Perplexity window length (paper mode: default 2048, capped by max_position_embeddings; rolling mode: default max_position_embeddings). --seq-len is the deprecated spelling.")
    Integer seqLen;

    @Option(names = "--ppl-mode", paramLabel = "MODE", defaultValue = "paper",
            description = "paper: non-overlapping windows of the joined text (SparseGPT/SLEB/CoMe); rolling: lm-eval's wikitext task (per document, detokenized, rolling windows; word and byte perplexity, bits per byte). Default ${DEFAULT-VALUE}.")
    String pplMode;

    @Option(names = "--batch", paramLabel = "N", description = "Windows per forward pass (default: about 2048 tokens' worth).")
    Integer batch;

    @Option(names = "--json", description = "Print one JSON object: ppl, tokens, windows, seconds, tokens_per_second (rolling mode: word_perplexity, byte_perplexity, bits_per_byte, documents, tokens, seconds); with --tasks a \"tasks\" object (per task: acc, acc_stderr, acc_norm, acc_norm_stderr, items, seconds, groups).")
    boolean json;

    @Mixin
    CommonOptions common;

    @Option(names = "--compare", paramLabel = "DIR|ORG/NAME", converter = ModelOption.ModelPath.class,
            description = "A second checkpoint (e.g. the compressed one): both are evaluated and shown side by side with retained %%.")
    Path compare;

    @Override
    public void run() {
        if (text == null && tasks.isEmpty()) throw new BadInputException(null, "nothing to evaluate: give --ppl FILE and/or --tasks LIST");
        if (!pplMode.equals("paper") && !pplMode.equals("rolling")) throw come4j.io.Suggestion.unknown("--ppl-mode", pplMode, List.of("paper", "rolling"));
        if (!tasks.isEmpty() && dataDir == null) throw new BadInputException(null, "--tasks needs --data-dir (task data are local files)");
        Task.checkLimit(limit);
        Scores a = evaluateModel(model.dir, compare == null && !json);
        if (compare == null) {
            if (json) System.out.println(RecordJson.tree(a));
            return;
        }
        Scores b = evaluateModel(compare, false);
        if (json) {
            System.out.println(RecordJson.tree(new Comparison(a, b)));
        } else {
            TaskReport.compare(model.dir.toString(), a, compare.toString(), b, System.out);
        }
    }

    /** `--compare --json`: both models' scores. */
    private record Comparison(Scores model, Scores compare) {}

    /** Perplexity and tasks of one checkpoint as JSON; printed as they finish when {@code print}. */
    private Scores evaluateModel(Path dir, boolean print) {
        try (Checkpoint ckpt = Checkpoint.open(dir); Tokenizer tok = Tokenizer.load(ckpt)) {
            ckpt.requireFinite(); // NaN weights would print "perplexity NaN" and score tasks
            Scores o = new Scores(null, null, null, null);
            Transformer m = Transformer.load(ckpt); // once: small models pack their weights at load
            if (text != null && pplMode.equals("rolling")) {
                int M = seqLen(ckpt.config().maxPositions(), seqLen != null ? seqLen : ckpt.config().maxPositions());
                var r = RollingPerplexity.evaluate(m, tok, TextFiles.documents(text), M, bos);
                o = new Scores(null, null, r, null);
                if (print)
                    System.out.printf("word perplexity %.4f, byte perplexity %.4f, bits per byte %.4f (%d documents, %d tokens, %.1f s)%n",
                            r.wordPerplexity(), r.bytePerplexity(), r.bitsPerByte(), r.documents(), r.tokens(), r.seconds());
            } else if (text != null) {
                Perplexity.Result r = evaluate(m, tok, text, seqLen, batch);
                o = new Scores(r, r.tokensPerSecond(), null, null);
                if (print)
                    System.out.printf("perplexity %.4f  (%d windows x %d tokens = %d tokens, %.1f s, %.0f tokens/s)%n", r.ppl(),
                            r.windows(), r.tokens() / r.windows(), r.tokens(), r.seconds(), r.tokensPerSecond());
            }
            if (!tasks.isEmpty()) {
                List<TaskResult> results = new ArrayList<>();
                LogLikelihood ll = new LogLikelihood(m, tok, bos);
                for (String key : tasks) {
                    Task t = Task.parse(key);
                    List<Item> items = Task.first(t.items(dataDir), limit);
                    results.add(TaskResult.run(t, items, ll));
                }
                o = o.withTasks(TaskScores.of(results, logSamples));
                if (print) TaskReport.table(results, System.out);
            }
            return o;
        }
    }

    static Perplexity.Result evaluate(Transformer model, Tokenizer tok, Path text, Integer seqLen, Integer batch) {
        int L = seqLen(model.config().maxPositions(), seqLen);
        return Perplexity.evaluate(model, windows(tok, text, L), batch(L, batch));
    }

    /** The window length: --ppl-seq-len, or 2048 capped by max_position_embeddings. */
    static int seqLen(int maxPos, Integer seqLen) {
        int L = seqLen != null ? seqLen : Math.min(2048, maxPos);
        if (L < 2) throw new BadInputException(null, "--ppl-seq-len must be at least 2");
        if (L > maxPos) throw new BadInputException(null, "--ppl-seq-len " + L + " exceeds max_position_embeddings " + maxPos);
        return L;
    }

    /** The text tokenized once and cut into windows of L tokens (tail dropped); at least one window. */
    static List<int[]> windows(Tokenizer tok, Path text, int L) {
        int[] ids = tok.encode(TextFiles.read(text));
        List<int[]> windows = Perplexity.windows(ids, L);
        if (windows.isEmpty())
            throw new BadInputException(text, "has " + ids.length + " tokens, fewer than one window of " + L);
        return windows;
    }

    /** Windows per forward pass: --batch, or about 2048 tokens' worth. */
    static int batch(int L, Integer batch) {
        int b = batch != null ? batch : Math.max(1, 2048 / L);
        if (b < 1) throw new BadInputException(null, "--batch must be >= 1");
        return b;
    }
}
