package come4j.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.eval.Latency;
import come4j.io.BadInputException;
import come4j.model.Checkpoint;
import come4j.model.ModelConfig;
import come4j.model.Transformer;
import come4j.tensor.Parallel;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "latency", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Time inference by the CoMe authors' protocol, and the speed-up of a compressed model over the dense one.", "",
                "Prompt processing: one sequence of 2048 random tokens (capped by max_position_embeddings) through the whole model without a cache, 1 warm-up then 50 timed iterations. "
                        + "Generation: 64 random 64-token prompts continued by 128 new tokens each (greedy, with a KV cache, the prompts' pass included), 1 warm-up then 10 timed iterations. "
                        + "Reports tokens/s, ms per token (generation: per new token of a sequence) and each iteration's time as mean +- sd and min / median / max. "
                        + "With --compare both models are timed alternately, iteration by iteration; the speed-up is mean(model) / mean(compare), with min / median / max over the iteration pairs. "
                        + "The smaller options shrink the protocol for quick runs; an iteration count of 0 skips its phase."},
        footerHeading = "%nExamples:%n",
        footer = {"  come latency --model " + Examples.MODEL + " \\",
                "      --iterations 5 --gen-iterations 1",
                "  come latency --model " + Examples.MODEL + " --compare out/sotu-come30",
                "  come latency --model " + Examples.MODEL + " --compare out/sotu-come30 \\",
                "      --iterations 3 --gen-batch 8 --gen-new-tokens 16 --gen-iterations 2 --json"})
final class LatencyCommand implements Runnable {
    @Mixin
    ModelOption model;

    @Option(names = "--compare", paramLabel = "DIR|ORG/NAME", converter = ModelOption.ModelPath.class,
            description = "A second checkpoint (e.g. the compressed one), timed alternately with --model; the speed-up is --model's time over this one's.")
    Path compare;

    @Option(names = "--prompt-tokens", paramLabel = "N", description = "Prompt-processing length (default 2048, capped by max_position_embeddings).")
    Integer promptTokens;

    @Option(names = "--iterations", paramLabel = "N", description = "Timed prompt-processing iterations (default 50; 0 skips the phase).")
    Integer iterations;

    @Option(names = "--gen-batch", paramLabel = "N", description = "Sequences generated together (default 64).")
    Integer genBatch;

    @Option(names = "--gen-prompt", paramLabel = "N", description = "Prompt tokens per generated sequence (default 64, at most max_position_embeddings / 3).")
    Integer genPrompt;

    @Option(names = "--gen-new-tokens", paramLabel = "N", description = "New tokens per sequence (default 128, at most what max_position_embeddings leaves after the prompt).")
    Integer genNewTokens;

    @Option(names = "--gen-iterations", paramLabel = "N", description = "Timed generation iterations (default 10; 0 skips the phase).")
    Integer genIterations;

    @Option(names = "--warmup", paramLabel = "N", description = "Untimed iterations per phase and model first (default 1).")
    Integer warmup;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the random token ids (default 0).")
    Integer seed;

    @Option(names = "--json", description = "Print one JSON object: protocol, threads, model (and compare): model, layers, prompt and generation (iterations, tokens, tokens_per_second, ms_per_token, ms_mean, ms_sd, ms_min, ms_median, ms_max, ms per iteration); with --compare, speedup per phase (mean, min, median, max).")
    boolean json;

    @Mixin
    CommonOptions common;

    @Override
    public void run() {
        List<Path> dirs = compare == null ? List.of(model.dir) : List.of(model.dir, compare);
        List<Checkpoint> ckpts = new ArrayList<>();
        try {
            for (Path d : dirs) ckpts.add(Checkpoint.open(d));
            ModelConfig first = ckpts.getFirst().config();
            Latency.Protocol a = Latency.Protocol.authors(ckpts.stream().map(Checkpoint::config)
                    .min(java.util.Comparator.comparingInt(ModelConfig::maxPositions)).orElseThrow());
            Latency.Protocol p = new Latency.Protocol(or(promptTokens, a.promptTokens()), or(iterations, a.iterations()),
                    or(genBatch, a.genBatch()), or(genPrompt, a.genPrompt()), or(genNewTokens, a.genNewTokens()),
                    or(genIterations, a.genIterations()), or(warmup, a.warmup()), or(seed, a.seed()));
            for (Checkpoint c : ckpts) {
                String problem = p.problem(c.config());
                if (problem != null) throw new BadInputException(null, problem);
                if (c.config().vocabSize() != first.vocabSize())
                    throw new BadInputException(c.dir(), "has a vocabulary of " + c.config().vocabSize() + ", --model " + first.vocabSize() + ": not two versions of one model");
                c.requireFinite();
            }
            List<Transformer> models = ckpts.stream().map(Transformer::load).toList();
            common.log("timing " + String.join(" and ", dirs.stream().map(Path::toString).toList()) + " on " + Parallel.threads() + (Parallel.threads() == 1 ? " thread" : " threads"));
            List<Latency.Timing> prompt = Latency.prompt(models, p), gen = Latency.generation(models, p);
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.set("protocol", p.json());
            o.put("threads", Parallel.threads());
            String[] keys = {"model", "compare"};
            for (int i = 0; i < models.size(); i++) {
                ObjectNode m = o.putObject(keys[i]).put("model", dirs.get(i).toAbsolutePath().toString()).put("layers", models.get(i).numLayers());
                if (!prompt.isEmpty()) m.set("prompt", prompt.get(i).json());
                if (!gen.isEmpty()) m.set("generation", gen.get(i).json());
            }
            if (models.size() == 2) {
                ObjectNode s = o.putObject("speedup");
                if (!prompt.isEmpty()) s.set("prompt", Latency.speedup(prompt.get(0), prompt.get(1)));
                if (!gen.isEmpty()) s.set("generation", Latency.speedup(gen.get(0), gen.get(1)));
            }
            if (json) System.out.println(o);
            else print(o, dirs.stream().map(Path::toString).toList(), System.out);
        } finally {
            ckpts.forEach(Checkpoint::close);
        }
    }

    private static int or(Integer given, int protocol) {
        return given != null ? given : protocol;
    }

    /** The table; {@code names}: the models as given on the command line. */
    static void print(ObjectNode o, List<String> names, PrintStream out) {
        ObjectNode p = (ObjectNode) o.get("protocol");
        String interleaved = o.has("compare") ? ", the models alternately" : "";
        if (p.path("iterations").asInt() > 0)
            phase(o, out, "prompt", String.format("Prompt processing: 1 x %d tokens, no cache; %d warm-up + %d timed iterations%s",
                    p.path("prompt_tokens").asInt(), p.path("warmup").asInt(), p.path("iterations").asInt(), interleaved), "ms/token", names);
        if (p.path("gen_iterations").asInt() > 0)
            phase(o, out, "generation", String.format("Generation: %d x (%d prompt + %d new tokens), KV cache; %d warm-up + %d timed iterations%s",
                    p.path("gen_batch").asInt(), p.path("gen_prompt").asInt(), p.path("gen_new_tokens").asInt(), p.path("warmup").asInt(),
                    p.path("gen_iterations").asInt(), interleaved), "ms/new token", names);
        out.printf("%d thread%s; times per iteration in ms: mean +- sd (sample), then min / median / max%n", o.path("threads").asInt(), o.path("threads").asInt() == 1 ? "" : "s");
    }

    private static void phase(ObjectNode o, PrintStream out, String key, String title, String perToken, List<String> names) {
        out.println(title);
        String name = "  %-" + Math.max(5, names.stream().mapToInt(String::length).max().orElse(0)) + "s";
        out.printf(name + " %6s %12s %12s %18s %26s%n", "model", "layers", "tokens/s", perToken, "ms mean +- sd", "min / median / max");
        String[] keys = {"model", "compare"};
        for (int i = 0; i < names.size(); i++) {
            var t = o.path(keys[i]).path(key);
            out.printf(name + " %6d %12.1f %12.4f %18s %26s%n", names.get(i), o.path(keys[i]).path("layers").asInt(),
                    t.path("tokens_per_second").asDouble(), t.path("ms_per_token").asDouble(),
                    String.format("%.1f +- %.1f", t.path("ms_mean").asDouble(), t.path("ms_sd").asDouble()),
                    String.format("%.1f / %.1f / %.1f", t.path("ms_min").asDouble(), t.path("ms_median").asDouble(), t.path("ms_max").asDouble()));
        }
        var s = o.path("speedup").path(key);
        if (!s.isMissingNode())
            out.printf("  speed-up %.3fx (mean over mean); per iteration pair min / median / max %.3f / %.3f / %.3f%n",
                    s.path("mean").asDouble(), s.path("min").asDouble(), s.path("median").asDouble(), s.path("max").asDouble());
    }
}
