package come4j.distill;

import come4j.io.Progress;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Ropes;
import come4j.io.RecordJson;
import come4j.report.DistillRecord;
import come4j.report.DistillSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Hierarchical distillation (method.md §14): each merged layer of the student learns to reproduce the block of
 * original layers it replaced. Teacher-forced: its input is the teacher's hidden state entering the block and its
 * target the teacher's state leaving it, so every merged layer is an independent problem (trained one after another,
 * or several at once). Training state is saved every few steps; a rerun continues from it bit for bit.
 */
public final class HierarchicalDistiller {
    /** Steps between saved training states by default: a kill loses at most this many steps of a layer. */
    public static final int SAVE_EVERY = 25;

    /**
     * What to train with. saveEvery: steps between saved states; parallelLayers: layers trained at once. auto: the
     * learning rate searched per layer and early stopping on held-out windows (null: adam's fixed rate for every step).
     * steps 0: the budget that scales with the layer's size ({@link #sized}).
     */
    public record Settings(Loss loss, double tau, int steps, int batch, AdamW.Settings adam, int saveEvery, int parallelLayers, Auto auto) {
        public Settings(Loss loss, double tau, int steps, int batch, AdamW.Settings adam, int saveEvery, int parallelLayers) {
            this(loss, tau, steps, batch, adam, saveEvery, parallelLayers, null);
        }

        /** The settings with steps 0 replaced by {@link #budgetSteps} of a layer of c (warm-up 5 % of them). */
        public Settings sized(ModelConfig c, int seqLen) {
            if (steps > 0) return this;
            int n = budgetSteps(c, batch, seqLen);
            return new Settings(loss, tau, n, batch, adam.with(adam.lr(), n, Math.max(1, n / 20)), saveEvery, parallelLayers, auto);
        }

        /** The settings that decide the result (not saveEvery and parallelLayers, which do not change it). */
        public DistillSettings.Training record() {
            boolean fixed = auto == null;
            return new DistillSettings.Training(loss.id, tau, steps, batch, fixed ? (Object) adam.lr() : "auto", fixed ? null : auto.rates(),
                    fixed ? null : auto.searchSteps(steps), fixed ? null : auto.heldOut(), fixed ? null : auto.evalEvery(steps),
                    fixed ? null : auto.patience(), adam.warmup(), adam.minLrRatio(), adam.weightDecay(), adam.clip(), adam.beta1(),
                    adam.beta2(), adam.eps());
        }
    }

    /**
     * The automatic schedule (issue 17): {@code heldOut} windows of the training text are kept out of training. Each
     * rate of {@code rates} trains the layer from its start for a tenth of the steps (its own warm-up and cosine); the
     * rate with the lowest held-out loss then trains the full budget, the held-out loss measured every twentieth of the
     * steps, and training stops after {@code patience} measurements without a new best. The best-measured weights are
     * kept.
     */
    public record Auto(List<Double> rates, int heldOut, int patience) {
        /** Around the 1e-3 that a hand sweep found best (docs/results.md, issue 5), a factor √10 either side. */
        public static final Auto DEFAULT = new Auto(List.of(3e-4, 1e-3, 3e-3), 64, 3);

        public int searchSteps(int steps) {
            return Math.max(1, steps / 10);
        }

        public int evalEvery(int steps) {
            return Math.max(1, steps / 20);
        }

        /** Whether training stops after these held-out measurements: the best is {@code patience} or more behind. */
        public boolean stopped(List<Double> heldOut) {
            return !heldOut.isEmpty() && heldOut.size() - 1 - best(heldOut) >= patience;
        }

        /** The index of the lowest loss (the first of equals). */
        public static int best(List<Double> losses) {
            int b = 0;
            for (int i = 1; i < losses.size(); i++) if (losses.get(i) < losses.get(b)) b = i;
            return b;
        }
    }

    /** Training tokens per parameter of the layer in the default budget: 2 (the demo model's layer: ~710 steps of 8 x 256). */
    public static final double TOKENS_PER_PARAMETER = 2;

    /** The default steps: {@link #TOKENS_PER_PARAMETER} tokens per parameter of one layer of c, in batches of batch x seqLen. */
    public static int budgetSteps(ModelConfig c, int batch, int seqLen) {
        return (int) Math.ceil(TOKENS_PER_PARAMETER * layerParameters(c) / ((double) batch * seqLen));
    }

    /** The trained parameters of one decoder layer of c: projections and the two norms (biases, q/k norms aside). */
    public static long layerParameters(ModelConfig c) {
        long d = c.hiddenSize();
        return d * (2L * c.qDim() + 2L * c.kvDim()) + 3L * d * c.intermediateSize() + 2 * d;
    }

    /** Student layer {@code layer} stands for original layers first … last. */
    public record Block(int layer, int first, int last) {}

    /** A trained layer: its block and its run of the schedule. */
    public record Trained(Block block, Schedule.Run run) {
        public LayerParams params() {
            return run.params();
        }

        public List<Double> losses() {
            return run.losses();
        }

        /** The layer's record: its index, the block [first, last] it replaced, and its run of the schedule. */
        public DistillRecord.Layer record() {
            return new DistillRecord.Layer(block.layer(), List.of(block.first(), block.last()), run.record());
        }

        /** {@link #record} as JSON. */
        public com.fasterxml.jackson.databind.node.ObjectNode json() {
            return RecordJson.tree(record());
        }
    }

    private final ModelConfig student;
    private final Ropes ropes;
    private final Loss.Head head;
    private final TeacherBoundaries teacher;
    private final TrainingWindows data;
    private final Settings s;
    private final Path stateDir;
    private final java.util.function.Consumer<String> log;

    /** stateDir: where training states are kept between runs (null: nothing is saved). */
    public HierarchicalDistiller(ModelConfig student, Loss.Head head, TeacherBoundaries teacher, TrainingWindows data,
                                 Settings s, Path stateDir, java.util.function.Consumer<String> log) {
        this.log = log;
        this.student = student;
        this.ropes = Ropes.of(student);
        this.head = head;
        this.teacher = teacher;
        this.data = data;
        this.s = s;
        this.stateDir = stateDir;
    }

    /** The teacher's boundaries the blocks train between: each block's input and output. */
    public static java.util.Set<Integer> boundaries(List<Block> blocks) {
        java.util.Set<Integer> keep = new java.util.HashSet<>();
        blocks.forEach(b -> keep.addAll(List.of(b.first(), b.last() + 1)));
        return keep;
    }

    /** The most optimizer steps one layer takes: the budget, and the rate search's runs under the automatic schedule. */
    public static int stepsPerLayer(Settings s) {
        return s.steps() + (s.auto() == null ? 0 : s.auto().rates().size() * s.auto().searchSteps(s.steps()));
    }

    /** Trains every block, starting from the student's layers {@code init} (one per block). */
    public List<Trained> trainAll(List<Block> blocks, List<LayerWeights> init) {
        return trainAll(blocks, init, t -> {});
    }

    /** As {@link #trainAll(List, List)}, handing each trained layer to {@code done} in block order as soon as it and the earlier ones are trained. */
    public List<Trained> trainAll(List<Block> blocks, List<LayerWeights> init, java.util.function.Consumer<Trained> done) {
        long tokens = (long) blocks.size() * stepsPerLayer(s) * s.batch() * data.seqLen();
        try (Progress bar = Progress.start("distill", tokens, "tok");
             ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(s.parallelLayers(), blocks.size())))) {
            List<Future<Trained>> jobs = new ArrayList<>();
            for (int i = 0; i < blocks.size(); i++) {
                Block b = blocks.get(i);
                LayerWeights w = init.get(i);
                jobs.add(pool.submit(() -> train(b, w, bar)));
            }
            List<Trained> out = new ArrayList<>();
            for (Future<Trained> f : jobs) {
                out.add(f.get());
                done.accept(out.getLast());
            }
            return out;
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * Trains one block's layer from w for the configured steps (or what remains of them after a saved state); under
     * the automatic schedule, after searching its rate (unless a saved state holds the search).
     */
    public Trained train(Block b, LayerWeights w, Progress bar) {
        Path file = stateDir == null ? null : stateDir.resolve("layer-" + b.layer() + ".state");
        Schedule.Objective o = new Schedule.Objective() {
            public String label() {
                return "layer " + b.layer();
            }

            public double step(LayerParams p, AdamW opt, int batch) {
                return HierarchicalDistiller.this.step(b, p, opt, batch);
            }

            public double heldOut(LayerParams p) {
                return heldOutLoss(b, p);
            }
        };
        return new Trained(b, Schedule.run(o, LayerParams.of(student, w, Arr::f32), s, file, bar, s.batch() * data.seqLen(), log));
    }

    /** One optimizer step on batch {@code batch}; returns its loss. */
    private double step(Block b, LayerParams p, AdamW opt, int batch) {
        int T = data.seqLen(), d = student.hiddenSize(), rows = s.batch() * T, window = student.slidingWindow()[b.layer()];
        int[] windows = data.batch(batch, s.batch());
        Arr x = Arr.of(teacher.get(b.first(), windows)), y = Arr.of(teacher.get(b.last() + 1, windows));
        LayerBackprop.Tape tape = LayerBackprop.forward(student, ropes.forWindow(window), window, p, x, s.batch(), T);
        Arr dOut = x.zeros(rows * d);
        double loss = s.loss().apply(tape.out, y, rows, d, s.tau(), head, dOut);
        LayerParams g = p.zeros();
        LayerBackprop.backward(student, ropes.forWindow(window), window, p, tape, dOut, g);
        opt.update(p, g);
        return loss;
    }

    /** The loss on the held-out windows (mean over windows), in batches of the training batch size. */
    double heldOutLoss(Block b, LayerParams p) {
        int[] ids = data.heldOutIds();
        int T = data.seqLen(), d = student.hiddenSize(), window = student.slidingWindow()[b.layer()];
        double sum = 0;
        for (int i = 0; i < ids.length; i += s.batch()) {
            int[] w = java.util.Arrays.copyOfRange(ids, i, Math.min(ids.length, i + s.batch()));
            Arr x = Arr.of(teacher.get(b.first(), w)), y = Arr.of(teacher.get(b.last() + 1, w));
            Arr out = LayerBackprop.forward(student, ropes.forWindow(window), window, p, x, w.length, T).out;
            sum += w.length * s.loss().apply(out, y, w.length * T, d, s.tau(), head, x.zeros(w.length * T * d));
        }
        return sum / ids.length;
    }
}
