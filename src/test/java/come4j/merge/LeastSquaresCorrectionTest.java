package come4j.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.Fixtures;
import come4j.calib.ActivationCache;
import come4j.calib.CalibrationContext;
import come4j.calib.CalibrationPass;
import come4j.calib.CalibrationSet;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.model.Checkpoint;
import come4j.model.LayerHooks;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Tokenizer;
import come4j.model.Transformer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LeastSquaresCorrectionTest {
    /**
     * Layers 0 and 1 of a fixture merged half and half, corrected against the original boundary 2: the layer's error on
     * the calibration windows, recomputed here by running the layer, must drop (fp32) and never rise (bf16 storage).
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama-mha-f32", "llama3-gqa-f32", "qwen2-f32", "llama-mha-bf16"})
    void correctedLayerCalibrationErrorNeverIncreases(String fixture) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(fixture)); Tokenizer tok = Tokenizer.load(ckpt.tokenizerFile());
             ScratchTensors store = new ScratchTensors()) {
            CalibrationSet set = CalibrationSet.build(List.of(Fixtures.PPL_TEXT), tok, CalibrationSet.Recipe.authors(256, 32, 10, "text"));
            try (CalibrationContext ctx = new CalibrationContext(ckpt, set, 3); ActivationCache cache = ctx.workingCache()) {
                CalibrationPass pass = ctx.pass(cache);
                ModelConfig c0 = ckpt.config(), c = c0.withLayers(new int[] {0, 2});
                var scores = new ConcatMerge.Scores(ramp(c0.numKvHeads()), ramp(c0.intermediateSize()));
                MergedLayer merged = ConcatMerge.merge(c0, ctx.tensors().get(0), ctx.tensors().get(1), scores, scores, 0.5, 0.5, false, store, ckpt.dtype());
                Transformer model = modelWith(ctx.model(), c, merged.tensors());
                var r = LeastSquaresCorrection.correct(model, 0, 2, merged.tensors(), pass, pass, store, ckpt.dtype());

                double before = error(model, pass), after = error(modelWith(ctx.model(), c, r.tensors()), pass);
                assertEquals(before, r.before(), 1e-9 * before);
                assertTrue(after <= before, after + " > " + before);
                assertEquals(2, r.fits().size());
                for (var f : r.fits()) assertTrue(f.heldAfter() <= f.heldBefore(), f.toString());
                if (ckpt.dtype() == come4j.io.DType.F32) {
                    assertFalse(r.reverted());
                    assertEquals(after, r.after(), 1e-9 * after);
                    assertTrue(after < 0.9 * before, after + " vs " + before); // a real correction, not a no-op
                }
                assertEquals(set.windows().size() / 8 == 0 ? 1 : set.windows().size() / 8, r.held());
            }
        }
    }

    /** come-ls through the progressive loop: every step records its fit, and the record reads back exactly. */
    @ParameterizedTest
    @ValueSource(strings = {"llama3-gqa-f32"})
    void progressiveStepsRecordTheCorrection(String fixture) {
        var dir = Fixtures.DIR.resolve(fixture);
        try (Checkpoint ckpt = Checkpoint.open(dir); Tokenizer tok = Tokenizer.load(ckpt.tokenizerFile());
             ScratchTensors store = new ScratchTensors()) {
            CalibrationSet set = CalibrationSet.build(List.of(Fixtures.PPL_TEXT), tok, CalibrationSet.Recipe.authors(256, 32, 10, "text"));
            try (CalibrationContext ctx = new CalibrationContext(ckpt, set, 3)) {
                var plain = ProgressiveMerger.run(new WorkingModel(ctx, store), new ProgressiveMerger.Settings(ProgressiveMerger.Method.COME, 2, false, 4), s -> {});
                List<String> log = new ArrayList<>();
                var s = new ProgressiveMerger.Settings(ProgressiveMerger.Method.COME, 2, false, 4, true);
                var r = ProgressiveMerger.run(new WorkingModel(ctx, store), s, log::add);
                var step = r.steps().getFirst();
                assertEquals(plain.steps().getFirst().a(), step.a()); // the same merge, then corrected
                MergeStep.LsCorrection ls = step.correction();
                assertNotNull(ls);
                assertTrue(ls.calibMseAfter() < ls.calibMseBefore());
                assertEquals("o_proj", ls.projections().getFirst().name());
                assertTrue(log.stream().anyMatch(l -> l.contains("least-squares correction")), log.toString());
                var json = MergeRecord.step(1, step);
                assertEquals(json, MergeRecord.step(1, MergeRecord.parseStep(json, step.merged().tensors())));
                assertEquals(come4j.io.RecordJson.tree(ls), json.get("ls_correction"));
            }
        }
    }

    private static Transformer modelWith(Transformer base, ModelConfig c, Map<String, TensorData> merged) {
        return base.withLayers(c, List.of(LayerWeights.of(c, merged), base.layers().get(2)));
    }

    /** Mean squared error per element of layer 0 of m run on boundary 0 against boundary 2, window by window. */
    private static double error(Transformer m, CalibrationPass pass) {
        int T = pass.tokensPerWindow(), d = m.config().hiddenSize();
        double sum = 0;
        for (int w = 0; w < pass.windowCount(); w++) {
            float[] h = pass.rows(0, w, 0, T, d), y = pass.rows(2, w, 0, T, d);
            m.layer(0, h, 1, T, 0, null, LayerHooks.NONE);
            for (int i = 0; i < h.length; i++) sum += (double) (y[i] - h[i]) * (y[i] - h[i]);
        }
        return sum / ((double) pass.windowCount() * T * d);
    }

    /** Deterministic distinct unit scores. */
    private static double[] ramp(int n) {
        double[] s = new double[n];
        for (int i = 0; i < n; i++) s[i] = (i * 7919) % n;
        return s;
    }
}
