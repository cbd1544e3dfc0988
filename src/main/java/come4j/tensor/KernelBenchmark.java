package come4j.tensor;

import come4j.io.Convert;
import come4j.io.DType;
import come4j.io.TensorData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * GEMM throughput of every backend that loads, against the machine's fp32 FMA peak measured here with the Vector API
 * (bench/gemm.sh). bf16 products are compared with the bf16 dot-product peak, twice the fp32 FMA peak: AVX512-BF16's
 * VDPBF16PS does two bf16 products per fp32 lane at the FMA's throughput (one instruction per port per cycle).
 * Usage: KernelBenchmark [T] [shapes as NxK ...] [--dtype F32|BF16 (stored weights)] [--compute F32|BF16]
 */
public final class KernelBenchmark {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    public static void main(String[] args) {
        int T = 2048;
        DType dtype = DType.F32, compute = DType.F32;
        java.util.List<int[]> shapes = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--dtype")) dtype = DType.valueOf(args[++i]);
            else if (args[i].equals("--compute")) compute = DType.valueOf(args[++i]);
            else if (args[i].contains("x")) {
                String[] p = args[i].split("x");
                shapes.add(new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1])});
            } else T = Integer.parseInt(args[i]);
        }
        if (shapes.isEmpty()) {
            shapes.add(new int[] {4096, 4096});
            shapes.add(new int[] {11008, 4096});
            shapes.add(new int[] {4096, 11008});
        }
        int threads = Parallel.threads();
        double peak1 = peak(1), peakAll = peak(threads);
        System.out.printf("vector species %s; threads %d%n", S, threads);
        System.out.printf("fp32 FMA peak: %.1f GFLOP/s on one thread, %.1f GFLOP/s on %d threads%n", peak1, peakAll, threads);
        double perFma = compute == DType.BF16 ? 2 : 1; // the compute dtype's peak in fp32 FMA peaks
        if (compute == DType.BF16) System.out.printf("bf16 dot-product peak (2 x fp32 FMA peak): %.1f GFLOP/s%n", 2 * peakAll);
        double best = peakAll;
        for (Backend K : Backends.available(compute))
            for (int[] s : shapes)
                for (boolean resident : new boolean[] {false, true}) {
                    double[] g = new Product(K, T, s[0], s[1], dtype, resident).rates(true);
                    double peak = perFma * g[2];
                    best = Math.max(best, g[2]);
                    System.out.printf("%s: GEMM T=%d x (%d x %d)^T, %s weights %s, %s products: %.1f GFLOP/s = %.0f%% of the %s peak %.0f between its trials (median trial %.0f%%)%n",
                            K.name(), T, s[0], s[1], dtype, resident ? "resident" : "mapped  ", compute, g[0], 100 * g[0] / peak, compute, peak, 100 * g[1] / peak);
                }
        if (threads > 1)
            for (Backend K : Backends.available(compute)) scaling(K, T, shapes.getFirst(), dtype, threads, perFma * best);
    }

    /**
     * How the product of the first shape scales with cores: on one thread alone, as {@code threads} products side by
     * side on a thread each (how calibration runs windows), and as one product on all threads. A unit that the cores
     * share (e.g. one AMX unit behind two virtual cores) shows as a side-by-side sum near the one-thread rate. Its
     * share of the peak is against the best peak of the run.
     */
    private static void scaling(Backend K, int T, int[] s, DType dtype, int threads, double peak) {
        Product p = new Product(K, T, s[0], s[1], dtype, false);
        double[] alone = new double[1], each = new double[threads];
        Parallel.sideBySide(1, j -> alone[0] = p.rates(false)[0]);
        Parallel.sideBySide(threads, j -> each[j] = p.rates(false)[0]);
        double sum = java.util.Arrays.stream(each).sum(), all = p.rates(false)[0];
        System.out.printf("%s: scaling of %dx%d, %s products, weights mapped: 1 thread %.1f GFLOP/s; %d side by side on a thread each %.1f in all (%.2fx, %.0f%% of the peak); one product on %d threads %.1f (%.2fx)%n",
                K.name(), s[0], s[1], K.compute(), alone[0], threads, sum, sum / alone[0], 100 * sum / peak, threads, all, all / alone[0]);
    }

    /**
     * Independent FMA chains on registers only: the most the Vector API gets from these cores. The best of five trials
     * of ~0.4 s each: on a shared machine one short trial read 290-410 GFLOP/s on the same 2 cores, and a low peak
     * would overstate every percentage.
     */
    static double peak(int threads) {
        for (int i = 0; i < 20; i++) fmaLoop(PEAK_ITERS / 1000); // warm-up: let C2 compile the loop
        double best = 0;
        for (int trial = 0; trial < 5; trial++) best = Math.max(best, peakTrial(threads));
        return best;
    }

    private static final long PEAK_ITERS = 200_000_000L;

    /** One ~0.4 s trial of the fp32 FMA peak on {@code threads} threads, in GFLOP/s. */
    private static double peakTrial(int threads) {
        long t0 = System.nanoTime();
        Thread[] ts = new Thread[threads];
        for (int i = 0; i < threads; i++) (ts[i] = new Thread(() -> fmaLoop(PEAK_ITERS))).start();
        for (Thread t : ts) {
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        }
        return threads * PEAK_ITERS * 12.0 * S.length() * 2 / ((System.nanoTime() - t0) / 1e9) / 1e9;
    }

    static volatile float sink;

    private static void fmaLoop(long iters) {
        FloatVector a = FloatVector.broadcast(S, 0.999f), b = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = b, c1 = b, c2 = b, c3 = b, c4 = b, c5 = b, c6 = b, c7 = b, c8 = b, c9 = b, c10 = b, c11 = b;
        for (long i = 0; i < iters; i++) {
            c0 = c0.fma(a, b); c1 = c1.fma(a, b); c2 = c2.fma(a, b); c3 = c3.fma(a, b);
            c4 = c4.fma(a, b); c5 = c5.fma(a, b); c6 = c6.fma(a, b); c7 = c7.fma(a, b);
            c8 = c8.fma(a, b); c9 = c9.fma(a, b); c10 = c10.fma(a, b); c11 = c11.fma(a, b);
        }
        sink = c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11).lane(0);
    }

    /**
     * A random product of T rows by an n x k weight; {@link #rate} may run on several threads at once (own c each).
     * The weight is mapped (read where it lies, as the layers of a model too large to keep resident, e.g. 7B) or in
     * the backend's resident form ({@link Backend#prepare}, as a model that fits in a quarter of the heap).
     */
    private record Product(Backend K, int T, int n, int k, float[] a, Matrix w) {
        Product(Backend K, int T, int n, int k, DType dtype, boolean resident) {
            this(K, T, n, k, new float[T * k], resident ? K.prepare(weight(n, k, dtype)) : weight(n, k, dtype));
            Random rnd = new Random(1);
            for (int i = 0; i < a.length; i++) a[i] = rnd.nextFloat() - 0.5f;
        }

        private static Matrix weight(int n, int k, DType dtype) {
            Random rnd = new Random(2);
            MemorySegment w = Arena.ofAuto().allocate((long) n * k * dtype.bytes);
            float[] row = new float[k];
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < k; i++) row[i] = rnd.nextFloat() - 0.5f;
                Convert.fromFloat(row, 0, k, w, dtype, (long) r * k);
            }
            return Matrix.of(new TensorData("w", dtype, new long[] {n, k}, w));
        }

        /**
         * GFLOP/s, timed as the peak is: half a second of warm-up (JIT, the native library's threads), then five trials
         * of ~0.4 s each; {0: the best, 1: the median, 2: the best fp32 FMA peak on all threads}. With
         * {@code withPeak} each trial follows a trial of the peak, so a slow spell of this shared machine (other VMs
         * on the same cores) slows both sides of the ratio alike; without, 2 is 0.
         */
        double[] rates(boolean withPeak) {
            float[] c = new float[T * n];
            for (long t0 = System.nanoTime(); System.nanoTime() - t0 < 500_000_000L; ) K.matmul(a, T, w, c);
            double[] trials = new double[5];
            double peak = 0;
            for (int t = 0; t < trials.length; t++) {
                if (withPeak) peak = Math.max(peak, peakTrial(Parallel.threads()));
                int reps = 0;
                long t0 = System.nanoTime();
                do {
                    K.matmul(a, T, w, c);
                    reps++;
                } while (System.nanoTime() - t0 < 400_000_000L);
                trials[t] = 2.0 * T * n * k * reps / ((System.nanoTime() - t0) / 1e9) / 1e9;
            }
            java.util.Arrays.sort(trials);
            return new double[] {trials[4], trials[2], peak};
        }
    }
}
