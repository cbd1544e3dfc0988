package come4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ParallelTest {
    /** Results reach the caller in job order, whichever job ends first (later jobs end sooner here). */
    @Test
    void resultsAreHandedOverInJobOrder() {
        List<Integer> seen = new ArrayList<>();
        Parallel.sideBySide(7, 3, i -> {
            try {
                Thread.sleep(5L * (7 - i));
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
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
}
