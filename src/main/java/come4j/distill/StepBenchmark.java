package come4j.distill;

import come4j.model.Checkpoint;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Rope;
import java.nio.file.Path;
import java.util.Random;

/**
 * Time of one training step of one decoder layer (forward with saved activations, kl_hidden loss, backward, clipping,
 * AdamW) on random teacher states, as bench/distill_step.sh compares it with torch.
 * With one thread the time is the thread's CPU time (robust on a shared machine), else wall time.
 * Usage: StepBenchmark MODEL_DIR [layer] [batch] [seq_len] [steps] [threads]
 */
public final class StepBenchmark {
    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        int layer = args.length > 1 ? Integer.parseInt(args[1]) : 0, batch = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int T = args.length > 3 ? Integer.parseInt(args[3]) : 256, steps = args.length > 4 ? Integer.parseInt(args[4]) : 10;
        int threads = args.length > 5 ? Integer.parseInt(args[5]) : come4j.tensor.Parallel.threads();
        come4j.tensor.Parallel.setThreads(threads);
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        java.util.function.LongSupplier clock = threads == 1 ? mx::getCurrentThreadCpuTime : System::nanoTime;
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            ModelConfig c = ckpt.config();
            LayerParams p = LayerParams.of(c, LayerWeights.load(ckpt, layer), Arr::f32);
            int rows = batch * T, d = c.hiddenSize();
            Random rnd = new Random(0);
            Arr x = Arr.f32(rows * d), y = Arr.f32(rows * d);
            for (int i = 0; i < rows * d; i++) {
                x.set(i, rnd.nextGaussian());
                y.set(i, rnd.nextGaussian());
            }
            Rope rope = new Rope(c);
            AdamW opt = new AdamW(AdamW.Settings.defaults(1e-4, steps + 3), p);
            double best = Double.MAX_VALUE, total = 0;
            for (int s = 0; s < steps + 3; s++) { // the first three warm the JIT up
                long t0 = clock.getAsLong();
                LayerBackprop.Tape tape = LayerBackprop.forward(c, rope, 0, p, x, batch, T);
                Arr dOut = Arr.f32(rows * d);
                Loss.KL_HIDDEN.apply(tape.out, y, rows, d, 1, null, dOut);
                LayerParams g = p.zeros();
                LayerBackprop.backward(c, rope, 0, p, tape, dOut, g);
                opt.update(p, g);
                double ms = (clock.getAsLong() - t0) / 1e6;
                if (s >= 3) {
                    best = Math.min(best, ms);
                    total += ms;
                }
            }
            System.out.printf("come4j step (fwd+bwd+AdamW), layer %d, batch %d x %d tokens, %d threads, %s: mean %.1f ms, best %.1f ms, %.0f tokens/s%n",
                    layer, batch, T, threads, threads == 1 ? "thread CPU time" : "wall time", total / steps, best, rows / (total / steps / 1000));
        }
    }
}
