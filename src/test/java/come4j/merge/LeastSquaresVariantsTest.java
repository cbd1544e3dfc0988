package come4j.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import come4j.Fixtures;
import come4j.calib.ActivationCache;
import come4j.calib.CalibrationContext;
import come4j.calib.CalibrationPass;
import come4j.calib.CalibrationSet;
import come4j.calib.ChannelSensitivity;
import come4j.io.ScratchTensors;
import come4j.model.Checkpoint;
import come4j.model.LayerHooks;
import come4j.model.Tokenizer;
import come4j.model.Transformer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 16's variants of CoMe-LS: second-order intensity, pair by corrected NLL. */
class LeastSquaresVariantsTest {
    @Test
    void rmsIntensityIsRootOfMeanSquareAndSeesTheVariance() {
        // channel 0: x = ±1 (mean |x| 1, variance 1); channel 1: x = 1 always (mean |x| 1, variance 0)
        double[] meanSquare = {(1 + 1) / 2.0, 1};
        assertArrayEquals(new double[] {1, 1}, ChannelSensitivity.rms(meanSquare), 0);
        // mean 3, variance 16: sqrt(9 + 16) = 5
        assertArrayEquals(new double[] {5}, ChannelSensitivity.rms(new double[] {25}), 0);
    }

    /** The pass's mean squares against a direct computation through the layer's hooks. */
    @Test
    void passRecordsMeanSquaresPerChannel() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama3-gqa-f32")); Tokenizer tok = Tokenizer.load(ckpt.tokenizerFile())) {
            CalibrationSet set = CalibrationSet.build(List.of(Fixtures.PPL_TEXT), tok, CalibrationSet.Recipe.authors(256, 32, 10, "text"));
            try (CalibrationContext ctx = new CalibrationContext(ckpt, set, 3)) {
                var stats = ctx.firstPass().stats().get(1);
                Transformer m = ctx.model();
                int T = set.seqLen(), d = m.config().hiddenSize(), f = m.config().intermediateSize();
                double[] sq = new double[f];
                long[] rows = {0};
                try (ActivationCache cache = ctx.workingCache()) {
                    CalibrationPass pass = ctx.pass(cache);
                    for (int w = 0; w < pass.windowCount(); w++) {
                        float[] h = pass.rows(1, w, 0, T, d);
                        m.layer(1, h, 1, T, 0, null, new LayerHooks() {
                            public void ffnInner(int l, float[] x, int n) {
                                for (int r = 0; r < n; r++) for (int c = 0; c < f; c++) sq[c] += (double) x[r * f + c] * x[r * f + c];
                                rows[0] += n;
                            }
                        });
                    }
                }
                for (int c = 0; c < f; c++) assertEquals(sq[c] / rows[0], stats.ffnMeanSquare()[c], 1e-6 * sq[c] / rows[0] + 1e-12);
                // the second-order intensity is never below the first-order one (Jensen), and differs somewhere
                double[] rms = ChannelSensitivity.rms(stats.ffnMeanSquare());
                boolean differs = false;
                for (int c = 0; c < f; c++) {
                    assertTrue(rms[c] >= stats.ffnMeanAbs()[c] * (1 - 1e-12));
                    differs |= Math.abs(rms[c] - stats.ffnMeanAbs()[c]) > 1e-3 * rms[c];
                }
                assertTrue(differs);
            }
        }
    }

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
                var come = ProgressiveMerger.run(ctx, new ProgressiveMerger.Settings(ProgressiveMerger.Method.COME, 2, false, 4, true), store, s -> {});
                var s = new ProgressiveMerger.Settings(ProgressiveMerger.Method.COME, 2, false, 4, new ProgressiveMerger.Ls(true, false, 3));
                var step = ProgressiveMerger.run(ctx, s, store, x -> {}).steps().getFirst();
                JsonNode cands = step.correction().get("pair_candidates");
                assertEquals(2, cands.size()); // 3 layers: two pairs
                int sbiPair = come.steps().getFirst().a();
                double best = Double.POSITIVE_INFINITY;
                int chosen = -1;
                for (JsonNode p : cands) {
                    if (p.get("a").asInt() == sbiPair) assertEquals(come.steps().getFirst().nllAfter(), p.get("nll").asDouble(), 1e-9);
                    if (p.get("nll").asDouble() < best) {
                        best = p.get("nll").asDouble();
                        chosen = p.get("a").asInt();
                    }
                }
                assertEquals(chosen, step.a());
                assertEquals(best, step.nllAfter(), 1e-9);
                assertTrue(step.nllAfter() <= come.steps().getFirst().nllAfter());
                assertNotEquals(cands.get(0).get("a").asInt(), cands.get(1).get("a").asInt());
            }
        }
    }
}
