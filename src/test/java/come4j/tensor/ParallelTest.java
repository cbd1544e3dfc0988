package come4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ParallelTest {
    /** Results reach the caller in job order, whichever job ends first (later jobs end sooner here). */
    @Test
    void resultsAreHandedOverInJobOrder() {
        List<Integer> seen = new ArrayList<>();
        Parallel.sideBySide(7, 3, i -> {
            sleep(5L * (7 - i));
            return i * i;
        }, (r, i) -> {
            assertEquals(i * i, r);
            seen.add(i);
        });
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6), seen);
    }

    /** Side by side, a job's kernels run on its thread alone; one at a time, they keep every thread. */
    @Test
    void jobsRunAloneOnlyWhenSideBySide() {
        int all = Parallel.threads();
        int[] inside = new int[4];
        Parallel.sideBySide(4, 2, i -> Parallel.threads(), (t, i) -> inside[i] = t);
        for (int t : inside) assertEquals(1, t);
        Parallel.sideBySide(4, 1, i -> Parallel.threads(), (t, i) -> inside[i] = t);
        for (int t : inside) assertEquals(all, t);
        assertEquals(all, Parallel.threads());
    }

    /** Of several failing jobs, the lowest-numbered one's failure is thrown, as in a loop, though a later one fails first. */
    @Test
    void theFirstJobsFailureIsThrown() {
        int before = Parallel.threads();
        Parallel.setThreads(4);
        try {
            for (int together : new int[] {1, 4}) {
                List<Integer> handed = new ArrayList<>();
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.sideBySide(4, together, i -> {
                    sleep(i == 1 ? 200 : 0);
                    if (i >= 1) throw new IllegalStateException("job " + i);
                    return i;
                }, (r, i) -> handed.add(i)));
                assertEquals("job 1", e.getMessage());
                assertEquals(List.of(0), handed);
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }
}
