package come4j.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.io.RunFolder;
import come4j.merge.ProgressiveMerger.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/** A merge run stopped after its first step and resumed from its MergeState ends exactly as an uninterrupted one. */
class MergeStateTest {
    @ParameterizedTest
    @EnumSource(Method.class)
    void resumedRunEqualsUninterruptedRun(Method method, @TempDir Path tmp) {
        var whole = ProgressiveMergerTest.compress("qwen3-f32", method, 1, new ArrayList<>());

        Path out = tmp.resolve("out");
        try (RunFolder run = RunFolder.open(out, method.name()); MergeState state = new MergeState(run)) {
            ProgressiveMerger.StepStore stopsAfterOne = new ProgressiveMerger.StepStore() {
                public List<ProgressiveMerger.Step> finished() {
                    return state.finished();
                }

                public void saved(List<ProgressiveMerger.Step> steps) {
                    state.saved(steps);
                    throw new IllegalStateException("stopped");
                }
            };
            assertThrows(IllegalStateException.class, () -> ProgressiveMergerTest.compress("qwen3-f32", method, 1, new ArrayList<>(), stopsAfterOne));
        }
        List<String> log = new ArrayList<>();
        try (RunFolder run = RunFolder.open(out, method.name()); MergeState state = new MergeState(run)) {
            assertTrue(run.resumed());
            var resumed = ProgressiveMergerTest.compress("qwen3-f32", method, 1, log, state);
            assertTrue(log.getFirst().startsWith("resuming after step 1"), log.toString());
            assertEquals(whole.steps().size(), resumed.steps().size());
            for (int i = 0; i < whole.steps().size(); i++) // all but the measured wall time
                assertEquals(MergeRecord.step(i + 1, whole.steps().get(i)).without("seconds"), MergeRecord.step(i + 1, resumed.steps().get(i)).without("seconds"));
            assertEquals(whole.nllBefore(), resumed.nllBefore());
            assertEquals(whole.tree().entries(), resumed.tree().entries());
        }
    }
}
