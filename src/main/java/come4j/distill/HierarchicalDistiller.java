package come4j.distill;

import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Ropes;
import come4j.report.Progress;
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
    /** What to train with. saveEvery: steps between saved states; parallelLayers: layers trained at once. */
    public record Settings(Loss loss, double tau, int steps, int batch, AdamW.Settings adam, int saveEvery, int parallelLayers) {
        /** The settings that decide the result (not saveEvery and parallelLayers, which do not change it). */
        public com.fasterxml.jackson.databind.node.ObjectNode json() {
            var n = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
            n.put("loss", loss.id).put("tau", tau).put("steps", steps).put("batch", batch).put("lr", adam.lr())
                    .put("warmup", adam.warmup()).put("min_lr_ratio", adam.minLrRatio()).put("weight_decay", adam.weightDecay())
                    .put("clip", adam.clip()).put("beta1", adam.beta1()).put("beta2", adam.beta2()).put("eps", adam.eps());
            return n;
        }
    }

    /** Student layer {@code layer} stands for original layers first … last. */
    public record Block(int layer, int first, int last) {}

    /** A trained layer, and the loss of each of its steps. */
    public record Trained(Block block, LayerParams params, List<Double> losses) {
        /** {"layer", "block": [first, last], "loss_first", "loss_last" (mean of the last tenth), "loss": [per step]}. */
        public com.fasterxml.jackson.databind.node.ObjectNode json() {
            var l = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("layer", block.layer());
            l.putArray("block").add(block.first()).add(block.last());
            int tail = Math.max(1, losses.size() / 10);
            l.put("loss_first", losses.getFirst())
                    .put("loss_last", losses.subList(losses.size() - tail, losses.size()).stream().mapToDouble(Double::doubleValue).average().orElseThrow());
            var arr = l.putArray("loss");
            losses.forEach(arr::add);
            return l;
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

    /**
     * Schedule sp in one call: the teacher's boundaries of every block over the windows (temp files, removed after),
     * then every block trained from {@code init} (one layer per block).
     */
    public static List<Trained> distil(come4j.model.Transformer teacher, ModelConfig student, List<Block> blocks,
                                       List<LayerWeights> init, TrainingWindows data, Settings s, Loss.Head head, Path stateDir,
                                       java.util.function.Consumer<String> log) {
        java.util.Set<Integer> keep = new java.util.HashSet<>();
        blocks.forEach(b -> keep.addAll(List.of(b.first(), b.last() + 1)));
        int upTo = blocks.stream().mapToInt(b -> b.last() + 1).max().orElseThrow();
        try (TeacherBoundaries bounds = TeacherBoundaries.compute(teacher, data, upTo, keep::contains, s.batch())) {
            return new HierarchicalDistiller(student, head, bounds, data, s, stateDir, log).trainAll(blocks, init);
        }
    }

    /** Trains every block, starting from the student's layers {@code init} (one per block). */
    public List<Trained> trainAll(List<Block> blocks, List<LayerWeights> init) {
        long tokens = (long) blocks.size() * s.steps() * s.batch() * data.seqLen();
        try (Progress bar = Progress.start("distill", tokens, "tok");
             ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(s.parallelLayers(), blocks.size())))) {
            List<Future<Trained>> jobs = new ArrayList<>();
            for (int i = 0; i < blocks.size(); i++) {
                Block b = blocks.get(i);
                LayerWeights w = init.get(i);
                jobs.add(pool.submit(() -> train(b, w, bar)));
            }
            List<Trained> out = new ArrayList<>();
            for (Future<Trained> f : jobs) out.add(f.get());
            return out;
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Trains one block's layer from w for the configured steps (or what remains of them after a saved state). */
    public Trained train(Block b, LayerWeights w, Progress bar) {
        LayerParams p = LayerParams.of(student, w, Arr::f32);
        Path file = stateDir == null ? null : stateDir.resolve("layer-" + b.layer() + ".state");
        TrainingState saved = file == null ? null : TrainingState.load(file, p);
        List<Double> losses = new ArrayList<>();
        AdamW opt = new AdamW(s.adam(), p);
        if (saved != null) {
            log.accept("layer " + b.layer() + ": resuming at step " + saved.step() + " of " + s.steps());
            p = saved.params();
            losses.addAll(saved.losses());
            opt = new AdamW(s.adam(), saved.m(), saved.v(), saved.step());
        }
        int T = data.seqLen(), d = student.hiddenSize(), rows = s.batch() * T, window = student.slidingWindow()[b.layer()];
        bar.step((long) opt.step() * rows);
        for (int step = opt.step(); step < s.steps(); step++) {
            int[] windows = data.batch(step, s.batch());
            Arr x = Arr.of(teacher.get(b.first(), windows)), y = Arr.of(teacher.get(b.last() + 1, windows));
            LayerBackprop.Tape tape = LayerBackprop.forward(student, ropes.forWindow(window), window, p, x, s.batch(), T);
            Arr dOut = x.zeros(rows * d);
            double loss = s.loss().apply(tape.out, y, rows, d, s.tau(), head, dOut);
            LayerParams g = p.zeros();
            LayerBackprop.backward(student, ropes.forWindow(window), window, p, tape, dOut, g);
            opt.update(p, g);
            losses.add(loss);
            if (file != null && (opt.step() % s.saveEvery() == 0 || opt.step() == s.steps()))
                new TrainingState(opt.step(), losses, p, opt.m(), opt.v()).save(file);
            bar.step(rows, String.format("layer %d loss %.4g", b.layer(), loss));
        }
        return new Trained(b, p, List.copyOf(losses));
    }
}
