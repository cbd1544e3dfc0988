package come4j.merge;

import java.util.SplittableRandom;

/**
 * The least-squares correction's cost at a given projection shape (bench/ls_cost.sh): the fp64 Gram accumulation of
 * one block of T tokens (random activations) and one ridge solve. Usage: CorrectionBenchmark [T] [d] [K ...].
 */
public final class CorrectionBenchmark {
    private CorrectionBenchmark() {}

    public static void main(String[] args) {
        int T = args.length > 0 ? Integer.parseInt(args[0]) : 1024, d = args.length > 1 ? Integer.parseInt(args[1]) : 4096;
        int[] ks = args.length > 2 ? java.util.Arrays.stream(args, 2, args.length).mapToInt(Integer::parseInt).toArray() : new int[] {4096, 11008};
        SplittableRandom rnd = new SplittableRandom(16);
        for (int K : ks) {
            float[] x = new float[T * K], e = new float[T * d];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            for (int i = 0; i < e.length; i++) e[i] = (float) rnd.nextGaussian();
            double[] G = new double[K * K], B = new double[K * d];
            long t0 = System.nanoTime();
            Ridge.accumulate(x, e, T, d, G, B);
            double acc = (System.nanoTime() - t0) / 1e9;
            System.out.printf("K=%d d=%d: Gram + XᵀE of one block of %d tokens: %.2f s; fp64 Gram %.2f GB, factor %.2f GB, XᵀE %.2f GB%n",
                    K, d, T, acc, K * (double) K * 8 / 1e9, K * (double) K * 8 / 1e9, K * (double) d * 8 / 1e9);
            x = null;
            e = null;
            t0 = System.nanoTime();
            Ridge.solve(G, B, K, d, 1e-2 * Ridge.meanDiagonal(G, K));
            System.out.printf("K=%d d=%d: one ridge solve (Cholesky + %d right-hand sides): %.1f s%n", K, d, d, (System.nanoTime() - t0) / 1e9);
        }
    }
}
