package come4j.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;
import java.util.function.ObjIntConsumer;
import java.util.stream.IntStream;

/** The worker threads every kernel shares (all cores unless --threads says otherwise). */
public final class Parallel {
    private static volatile ForkJoinPool pool = new ForkJoinPool(Runtime.getRuntime().availableProcessors());

    /** Set on a thread that runs one of several jobs side by side ({@link #sideBySide}): its kernels stay on it. */
    private static final ThreadLocal<Boolean> ALONE = ThreadLocal.withInitial(() -> false);

    private Parallel() {}

    /** Threads the kernels called from this thread use: all workers, or 1 inside a job run side by side. */
    public static int threads() {
        return ALONE.get() ? 1 : pool.getParallelism();
    }

    /**
     * Runs jobs 0 .. n-1 side by side, one per worker, each with every kernel it calls on that worker alone (the
     * native library included). For work whose kernels are too small to keep all cores busy, e.g. a small model's
     * forward passes, whole jobs scale where their kernels do not. Jobs must write disjoint outputs. If jobs fail, the
     * failure of the lowest-numbered one is thrown, as a loop would, whichever ends first.
     */
    public static void sideBySide(int n, IntConsumer job) {
        for (Throwable t : alone(n, job)) rethrow(t);
    }

    /** Runs the jobs side by side and returns what each threw (null where it ended normally). */
    private static Throwable[] alone(int n, IntConsumer job) {
        Throwable[] failed = new Throwable[n];
        forEach(n, i -> {
            boolean was = ALONE.get();
            ALONE.set(true);
            try {
                job.accept(i);
            } catch (RuntimeException | Error e) {
                failed[i] = e;
            } finally {
                ALONE.set(was);
            }
        });
        return failed;
    }

    private static void rethrow(Throwable t) {
        if (t instanceof RuntimeException r) throw r;
        if (t != null) throw (Error) t;
    }

    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1");
        if (n == threads()) return;
        ForkJoinPool old = pool;
        pool = new ForkJoinPool(n);
        old.shutdown();
    }

    /**
     * Jobs 0 .. n-1 side by side, {@code together} at a time ({@link #sideBySide(int, IntConsumer)}; one at a time on
     * all threads when {@code together} is 1); {@code then} gets each result on the calling thread in index order, so
     * what it adds up does not depend on which job ends first. A failure is thrown after the results of the jobs
     * before it are handed over, as in a loop.
     */
    @SuppressWarnings("unchecked")
    public static <R> void sideBySide(int n, int together, IntFunction<R> job, ObjIntConsumer<R> then) {
        if (together <= 1) { // one at a time: each job's kernels on all threads
            for (int i = 0; i < n; i++) then.accept(job.apply(i), i);
            return;
        }
        for (int g0 = 0; g0 < n; g0 += together) {
            int first = g0, size = Math.min(together, n - g0);
            Object[] results = new Object[size];
            Throwable[] failed = alone(size, j -> results[j] = job.apply(first + j));
            for (int j = 0; j < size; j++) {
                rethrow(failed[j]);
                then.accept((R) results[j], first + j);
            }
        }
    }

    /** How many jobs of about {@code bytes} of heap each run side by side: one per thread, as many as half the heap holds. */
    public static int together(long bytes) {
        return (int) Math.max(1, Math.min(threads(), Runtime.getRuntime().maxMemory() / 2 / Math.max(1, bytes)));
    }

    /** Row-range work: rows [from, to). */
    public interface Rows {
        void run(int from, int to);
    }

    /** Splits rows [0, n) into about two ranges per worker (of at least minRows each) and runs them in parallel. */
    public static void forRows(int n, int minRows, Rows body) {
        int tasks = Math.max(1, Math.min(2 * threads(), n / Math.max(1, minRows)));
        int per = (n + tasks - 1) / tasks;
        forEach(tasks, t -> {
            int from = t * per, to = Math.min(n, from + per);
            if (from < to) body.run(from, to);
        });
    }

    /** Runs body(0 .. n-1) on the workers and waits; tasks must write disjoint outputs. */
    public static void forEach(int n, IntConsumer body) {
        if (n == 1 || threads() == 1) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        if (java.util.concurrent.ForkJoinTask.getPool() == pool) { // already on a worker: let the stream use this pool
            IntStream.range(0, n).parallel().forEach(body);
            return;
        }
        pool.submit(() -> IntStream.range(0, n).parallel().forEach(body)).join();
    }
}
