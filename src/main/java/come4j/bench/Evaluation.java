package come4j.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.eval.Item;
import come4j.eval.Latency;
import come4j.eval.LogLikelihood;
import come4j.eval.Perplexity;
import come4j.eval.Task;
import come4j.eval.TaskResult;
import come4j.eval.TaskScores;
import come4j.model.Tokenizer;
import come4j.model.Transformer;
import come4j.io.RecordJson;
import come4j.tensor.Parallel;
import java.util.List;

/**
 * How every cell of a bench is evaluated, prepared once: each perplexity text tokenized and cut into windows (the
 * pruning-paper protocol of `come eval --ppl`), each task's items read (as `come eval --tasks`), and optionally the
 * latency protocol (`come latency`'s, shortened) each cell is timed by.
 */
public final class Evaluation {
    /** A perplexity text by its label in the tables, with the time its tokenization took (once per run). */
    public record Text(String label, List<int[]> windows, double tokenizeSeconds) {}

    /** A task with its items. */
    public record TaskItems(Task task, List<Item> items) {}

    private final List<Text> texts;
    private final int batch;
    private final List<TaskItems> tasks;
    private final Tokenizer tok;
    private final boolean bos;
    private final Latency.Protocol latency;

    /** {@code latency}: the protocol each cell is timed by, or null for none. */
    public Evaluation(List<Text> texts, int batch, List<TaskItems> tasks, Tokenizer tok, boolean bos, Latency.Protocol latency) {
        this.texts = texts;
        this.batch = batch;
        this.tasks = tasks;
        this.tok = tok;
        this.bos = bos;
        this.latency = latency;
    }

    public List<Text> texts() {
        return texts;
    }

    public List<TaskItems> tasks() {
        return tasks;
    }

    /** The latency protocol of this run, or null. */
    public Latency.Protocol latency() {
        return latency;
    }

    /** Whether a cell's results lack an evaluation of this run. */
    boolean lacksAny(ObjectNode results) {
        return texts.stream().anyMatch(t -> !results.path("ppl").has(t.label()))
                || tasks.stream().anyMatch(t -> !results.path("tasks").has(t.task().key)) || lacksLatency(results);
    }

    /** A cell is timed again when this run's latency protocol differs from the one it was timed with. */
    private boolean lacksLatency(ObjectNode results) {
        return latency != null && !latency.json().equals(results.path("latency").path("protocol"));
    }

    /** Adds to a cell's results the perplexities and task scores it lacks; returns how many were run. */
    int complete(ObjectNode results, Transformer model) {
        int n = 0;
        ObjectNode ppl = results.has("ppl") ? (ObjectNode) results.get("ppl") : results.putObject("ppl");
        for (Text t : texts) {
            if (ppl.has(t.label())) continue;
            Perplexity.Result r = Perplexity.evaluate(model, t.windows(), batch);
            ppl.set(t.label(), RecordJson.tree(r));
            n++;
        }
        if (lacksLatency(results)) {
            ObjectNode l = results.putObject("latency");
            l.set("protocol", latency.json());
            l.put("threads", Parallel.threads());
            for (Latency.Timing t : Latency.prompt(List.of(model), latency)) l.set("prompt", t.json());
            for (Latency.Timing t : Latency.generation(List.of(model), latency)) l.set("generation", t.json());
            n++;
        }
        if (tasks.isEmpty()) return n;
        ObjectNode done = results.has("tasks") ? (ObjectNode) results.get("tasks") : results.putObject("tasks");
        LogLikelihood ll = new LogLikelihood(model, tok, bos);
        for (TaskItems t : tasks) {
            if (done.has(t.task().key)) continue;
            done.set(t.task().key, RecordJson.tree(TaskScores.of(TaskResult.run(t.task(), t.items(), ll), false)));
            n++;
        }
        return n;
    }
}
