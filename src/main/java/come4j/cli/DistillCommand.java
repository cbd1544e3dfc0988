package come4j.cli;

import come4j.distill.AdamW;
import come4j.distill.DistillJob;
import come4j.distill.DistillationPlan;
import come4j.distill.EndToEnd;
import come4j.distill.HierarchicalDistiller;
import come4j.distill.Loss;
import come4j.io.BadInputException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "distill", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Recover a compressed model's quality by hierarchical distillation.", "",
                "Each merged layer of the student (from its come-merge.json) is trained, teacher-forced, to map the teacher's hidden state entering the block of original layers it replaced to the state leaving that block; everything else stays frozen. AdamW with linear warm-up and cosine decay, global-norm clipping, fp32 master weights; the output keeps the student's dtype. With --e2e-steps, an end-to-end stage follows: all merged layers trained together on KL to the teacher's logits. Written atomically with come-distill.json (settings, loss curves) and report.html. Interrupted runs resume: rerun the same command."},
        footerHeading = "%nExamples:%n",
        footer = {"  come compress --model " + Examples.MODEL + " --sparsity 0.3 \\",
                "      --out out/sotu-come30",
                "  come distill --teacher " + Examples.MODEL + " --student out/sotu-come30 \\",
                "      --data " + Examples.CALIB + " \\",
                "      --out out/sotu-come30-distilled"})
final class DistillCommand implements Runnable {
    @Option(names = "--teacher", required = true, paramLabel = "DIR|ORG/NAME", converter = ModelOption.ModelPath.class, description = "The original (uncompressed) checkpoint: a folder or a cached Hub id, as --model elsewhere.")
    Path teacher;

    @Option(names = "--student", required = true, paramLabel = "DIR|ORG/NAME", converter = ModelOption.ModelPath.class, description = "The compressed checkpoint (with come-merge.json): a folder or a cached Hub id.")
    Path student;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "Training text (plain text, or .jsonl with a \"text\" field); repeatable.")
    List<Path> data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (must not exist unless --overwrite).")
    Path out;

    @Option(names = "--loss", defaultValue = "mse", paramLabel = "LOSS", description = "kl_hidden (KL over the hidden dimension), mse, or logit_lens_kl (KL over the vocabulary through the frozen final norm and LM head). Default ${DEFAULT-VALUE}: the best on held-out text of another domain (docs/results.md).")
    String loss;

    @Option(names = "--tau", paramLabel = "X", defaultValue = "1", description = "Softmax temperature of the KL losses (default ${DEFAULT-VALUE}).")
    double tau;

    static final class Length {
        @Option(names = "--steps", paramLabel = "N", description = "Optimizer steps per merged layer (default: 2 training tokens per parameter of a layer; with the automatic schedule the most it trains). 0 skips the layer-wise stage (with --e2e-steps: the end-to-end stage alone, on an already distilled student).")
        Integer steps;

        @Option(names = "--tokens", paramLabel = "N", description = "Training tokens per merged layer (steps = N / (batch x train-seq-len), rounded up).")
        Long tokens;
    }

    @ArgGroup
    Length length;

    @Option(names = "--lr", paramLabel = "X", description = "Peak learning rate, the same for every step to the last. Default: automatic, per merged layer: 64 training windows are held out, the rate of 3e-4, 1e-3, 3e-3 with the lowest held-out loss after a tenth of the steps is chosen, and training stops once the held-out loss (measured every twentieth of the steps) has not improved 3 times, keeping the best weights.")
    Double lr;

    @Option(names = "--e2e-steps", paramLabel = "N", defaultValue = "0", description = "After the layer-wise stage, train all merged layers together on KL to the teacher's logits (the model's output distribution) for up to N steps of --batch windows; the rate is searched among 1e-4, 3e-4, 1e-3 and training stops early on the same held-out windows as the automatic schedule. Default ${DEFAULT-VALUE}: off.")
    int e2eSteps;

    @Option(names = "--warmup", paramLabel = "N", description = "Warm-up steps (default: 5%% of the steps).")
    Integer warmup;

    @Option(names = "--min-lr-ratio", paramLabel = "X", defaultValue = "0.1", description = "The cosine ends at this fraction of --lr (default ${DEFAULT-VALUE}).")
    double minLrRatio;

    @Option(names = "--weight-decay", paramLabel = "X", defaultValue = "0.01", description = "AdamW weight decay of the projection matrices (default ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--clip", paramLabel = "X", defaultValue = "1.0", description = "Global gradient-norm clipping per layer (default ${DEFAULT-VALUE}).")
    double clip;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8", description = "Windows per step (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = {"--train-seq-len", "--seq-len"}, paramLabel = "N", description = "Tokens per training window (default 256, capped by max_position_embeddings). --seq-len is the deprecated spelling.")
    Integer seqLen;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Seed of the window choice and order (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--save-every", defaultValue = "" + HierarchicalDistiller.SAVE_EVERY, paramLabel = "N", description = "Steps between saved training states (default ${DEFAULT-VALUE}).")
    int saveEvery;

    @Option(names = "--parallel-layers", defaultValue = "1", paramLabel = "N", description = "Merged layers trained at once (they are independent; default ${DEFAULT-VALUE}).")
    int parallelLayers;

    @Option(names = "--overwrite", description = "Replace an existing output folder (only once the new one is complete).")
    boolean overwrite;

    @Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        Loss l = Loss.of(loss);
        come4j.model.ModelConfig config;
        try (var ckpt = come4j.model.Checkpoint.open(student)) {
            config = ckpt.config();
        }
        int maxPos = config.maxPositions();
        int T = seqLen != null ? seqLen : DistillationPlan.defaultSeqLen(config);
        if (T < 2 || T > maxPos) throw new BadInputException(null, "--train-seq-len must be in 2.." + maxPos);
        if (batch < 1 || saveEvery < 1 || parallelLayers < 1) throw new BadInputException(null, "--batch, --save-every and --parallel-layers must be >= 1");
        if (lr != null && !(lr > 0) || !(tau > 0) || clip <= 0 || weightDecay < 0 || minLrRatio < 0 || minLrRatio > 1)
            throw new BadInputException(null, "--lr, --tau and --clip must be > 0, --weight-decay >= 0, --min-lr-ratio in [0, 1]");
        int steps = length == null ? HierarchicalDistiller.budgetSteps(config, batch, T) : length.steps != null ? length.steps
                : (int) Math.ceil((double) length.tokens / ((long) batch * T));
        if (e2eSteps < 0) throw new BadInputException(null, "--e2e-steps must be >= 0");
        if (steps < 1 && e2eSteps < 1) throw new BadInputException(null, "--steps / --tokens must give at least one step (0 only with --e2e-steps)");
        if (steps < 0) throw new BadInputException(null, "--steps / --tokens must be >= 0");
        int warm = warmup != null ? warmup : Math.min(steps, Math.max(1, steps / 20));
        if (warm < 0 || warm > steps) throw new BadInputException(null, "--warmup must be in 0.." + steps);
        var adam = new AdamW.Settings(lr == null ? Double.NaN : lr, 0.9, 0.999, 1e-8, weightDecay, clip, warm, steps, minLrRatio);
        var settings = new HierarchicalDistiller.Settings(l, tau, steps, batch, adam, saveEvery, parallelLayers,
                lr == null ? HierarchicalDistiller.Auto.DEFAULT : null);
        long start = System.nanoTime();
        var record = DistillJob.run(new DistillJob.Options(teacher, student, out, DistillationPlan.of(settings, e2eSteps, data, T, seed),
                overwrite, RecordedCommand.of(spec)), common::log);
        double secs = (System.nanoTime() - start) / 1e9;
        for (var layer : record.path("layers"))
            System.out.printf("layer %d (originals %d-%d): %s %.5g -> %.5g%n", layer.path("layer").asInt(), layer.path("block").get(0).asInt(),
                    layer.path("block").get(1).asInt(), loss, layer.path("loss_first").asDouble(), layer.path("loss_last").asDouble());
        long tokens = 0;
        for (var layer : record.path("layers")) tokens += (long) (layer.path("loss").size() + (lr == null ? settings.auto().rates().size() * settings.auto().searchSteps(steps) : 0)) * batch * T;
        var e2e = record.path("e2e");
        if (!e2e.isMissingNode()) {
            System.out.printf("end to end (layers %s): lr %s, held-out KL %.5g -> %.5g (best, step %d of %d run)%n", e2e.path("layers"),
                    e2e.path("lr").asText(), e2e.path("held_out").get(0).get(1).asDouble(), e2e.path("held_out_best").asDouble(),
                    e2e.path("best_step").asInt(), e2e.path("steps_run").asInt());
            tokens += (long) (e2e.path("loss").size() + EndToEnd.AUTO.rates().size() * EndToEnd.AUTO.searchSteps(e2eSteps)) * batch * T;
        }
        System.out.printf("wrote %s in %.1f s (%.0f training tokens/s)%n", out, secs, tokens / secs);
    }
}
