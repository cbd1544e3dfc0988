package come4j.merge;

import come4j.tensor.Parallel;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The least-squares correction's cost at a given projection shape (bench/ls_cost.sh): the fp64 Gram accumulation of
 * one block of T tokens (random activations) and one ridge solve, with its rate in GFLOP/s (K³/3 for the Cholesky,
 * 2K²d for the two triangular solves). Up to K = 4096 the unblocked solve (the only one before the blocked path) is
 * timed too, and the two results compared. With --threads 1 the calling thread's CPU seconds are the solve's own work,
 * which a loaded machine inflates less than the wall time. Usage: CorrectionBenchmark [--threads N] [T] [d] [K ...].
 */
public final class CorrectionBenchmark {
    private static final int UNBLOCKED_UP_TO = 4096;

    private CorrectionBenchmark() {}

    /** CPU seconds of the calling thread: with --threads 1 every kernel runs on it, so this is the solve's work. */
    private static double cpuSeconds() {
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() / 1e9;
    }

    public static void main(String[] args) {
        if (args.length > 1 && args[0].equals("--threads")) {
            Parallel.setThreads(Integer.parseInt(args[1]));
            args = Arrays.copyOfRange(args, 2, args.length);
        }
        int T = args.length > 0 ? Integer.parseInt(args[0]) : 1024, d = args.length > 1 ? Integer.parseInt(args[1]) : 4096;
        int[] ks = args.length > 2 ? Arrays.stream(args, 2, args.length).mapToInt(Integer::parseInt).toArray() : new int[] {4096, 11008};
        System.out.printf("threads %d, %d tokens per block, d = %d%n", Parallel.threads(), T, d);
        SplittableRandom rnd = new SplittableRandom(16);
        for (int K : ks) {
            float[] x = new float[T * K], e = new float[T * d];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            for (int i = 0; i < e.length; i++) e[i] = (float) rnd.nextGaussian();
            double[] G = new double[K * K], B = new double[K * d];
            long t0 = System.nanoTime();
            Ridge.accumulate(x, e, T, d, G, B);
            System.out.printf("K=%d: Gram + XᵀE of one block of %d tokens: %.2f s; peak fp64 %.2f GB (Gram, factor, XᵀE, Δ)%n",
                    K, T, (System.nanoTime() - t0) / 1e9, Ridge.peakBytes(K, d) / 1e9);
            x = null;
            e = null;
            double lambda = 1e-2 * Ridge.meanDiagonal(G, K), flops = K * (double) K * K / 3 + 2.0 * K * K * d;
            t0 = System.nanoTime();
            double c0 = cpuSeconds();
            double[] delta = Ridge.solve(G, B, K, d, lambda);
            double s = (System.nanoTime() - t0) / 1e9, cpu = cpuSeconds() - c0;
            System.out.printf("K=%d: one ridge solve, %s: %.1f s, %.1f GFLOP/s; this thread's CPU %.1f s, %.1f GFLOP/s%n",
                    K, K > Ridge.NB ? "blocked" : "unblocked", s, flops / s / 1e9, cpu, flops / cpu / 1e9);
            if (K <= Ridge.NB || K > UNBLOCKED_UP_TO) continue;
            t0 = System.nanoTime();
            c0 = cpuSeconds();
            double[] old = Ridge.solve(G, B, K, d, lambda, K);
            double u = (System.nanoTime() - t0) / 1e9, uCpu = cpuSeconds() - c0, diff = 0, max = 0;
            for (int i = 0; i < old.length; i++) {
                diff = Math.max(diff, Math.abs(delta[i] - old[i]));
                max = Math.max(max, Math.abs(old[i]));
            }
            System.out.printf("K=%d: the same solve unblocked: %.1f s, %.1f GFLOP/s (%.1f× the blocked time); CPU %.1f s (%.1f×); largest difference %.1e of the largest |Δ|%n",
                    K, u, flops / u / 1e9, u / s, uCpu, uCpu / cpu, diff / max);
        }
    }
}
