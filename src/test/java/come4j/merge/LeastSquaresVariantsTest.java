package come4j.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.Fixtures;
import come4j.calib.CalibrationContext;
import come4j.calib.CalibrationSet;
import come4j.io.ScratchTensors;
import come4j.model.Checkpoint;
import come4j.model.Tokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 16's variant of CoMe-LS: the pair chosen by corrected calibration NLL. */
class LeastSquaresVariantsTest {
    /**
     * come-ls-pair: the candidates are the 3 smallest-SBI pairs; the one chosen has the lowest corrected calibration
     * NLL among them, which is the step's NLL after; the SBI pair's candidate NLL is come-ls's own NLL after.
     */
    @Test
    void pairChosenByCorrectedCalibrationNll() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama3-gqa-f32")); Tokenizer tok = Tokenizer.load(ckpt.tokenizerFile());
             ScratchTensors store = new ScratchTensors()) {
            CalibrationSet set = CalibrationSet.build(List.of(Fixtures.PPL_TEXT), tok, CalibrationSet.Recipe.authors(256, 32, 10, "text"));
            try (CalibrationContext ctx = new CalibrationContext(ckpt, set, 3)) {
                var come = ProgressiveMerger.run(new WorkingModel(ctx, store), new ProgressiveMerger.Settings(ProgressiveMerger.Method.COME, 2, false, 4, true), s -> {});
                var s = new ProgressiveMerger.Settings(ProgressiveMerger.Method.COME, 2, false, 4, new ProgressiveMerger.Ls(true, 3));
                var step = ProgressiveMerger.run(new WorkingModel(ctx, store), s, x -> {}).steps().getFirst();
                List<MergeStep.PairCandidate> cands = step.correction().pairCandidates();
                assertEquals(2, cands.size()); // 3 layers: two pairs
                int sbiPair = come.steps().getFirst().a();
                double best = Double.POSITIVE_INFINITY;
                int chosen = -1;
                for (MergeStep.PairCandidate p : cands) {
                    if (p.a() == sbiPair) assertEquals(come.steps().getFirst().nllAfter(), p.nll(), 1e-9);
                    if (p.nll() < best) {
                        best = p.nll();
                        chosen = p.a();
                    }
                }
                assertEquals(chosen, step.a());
                assertEquals(best, step.nllAfter(), 1e-9);
                assertTrue(step.nllAfter() <= come.steps().getFirst().nllAfter());
                assertNotEquals(cands.get(0).a(), cands.get(1).a());
            }
        }
    }
}
