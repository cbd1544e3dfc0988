package come4j.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.Fixtures;
import come4j.io.Progress;
import come4j.model.Checkpoint;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Rope;
import come4j.model.Tokenizer;
import come4j.model.Transformer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The automatic schedule (issue 17) against a hand-written replay: every candidate rate trained on its own for the
 * search's steps and measured on the held-out windows in one batch; the chosen rate then trained for the whole budget,
 * measured every evalEvery steps, and the stopping rule applied to those numbers by hand. The distiller must choose
 * the same rate, stop at the same step and return the weights of the same measurement, bit for bit.
 */
class AutoScheduleTest {
    private static final int STEPS = 200, BATCH = 2, T = 16;
    private static final HierarchicalDistiller.Auto AUTO = new HierarchicalDistiller.Auto(List.of(1e-4, 1e-3, 1e-2), 4, 2);

    @Test
    void choosesTheRateAndStopStepThatTheHeldOutLossesSay() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve("llama3-gqa-f32")); Tokenizer tok = Tokenizer.load(ckpt)) {
            ModelConfig c = ckpt.config();
            TrainingWindows data = TrainingWindows.build(List.of(Fixtures.PPL_TEXT), tok, T, 4, 0, AUTO.heldOut()); // 4 windows to train on: it overfits
            assertEquals(4, data.heldOut());
            for (int h : data.heldOutIds()) // never trained on: no batch of the budget draws a held-out window
                for (int s = 0; s < STEPS; s++) for (int w : data.batch(s, BATCH)) assertTrue(w != h);
            var block = new HierarchicalDistiller.Block(1, 1, 2); // layer 1 stands for the teacher's 1 and 2
            var adam = AdamW.Settings.defaults(Double.NaN, STEPS);
            var s = new HierarchicalDistiller.Settings(Loss.MSE, 1, STEPS, BATCH, adam, STEPS, 1, AUTO);
            try (TeacherBoundaries bounds = TeacherBoundaries.compute(Transformer.load(ckpt), data, 3, k -> true, BATCH);
                 Progress bar = Progress.start("test", 1, "tok")) {
                var trained = new HierarchicalDistiller(c, null, bounds, data, s, null, x -> {}).train(block, LayerWeights.load(ckpt, 1), bar);
                Replay r = new Replay(c, bounds, data, LayerParams.of(c, LayerWeights.load(ckpt, 1), Arr::f32));

                int n = AUTO.searchSteps(STEPS);
                List<Double> searched = new ArrayList<>();
                for (double rate : AUTO.rates()) {
                    LayerParams p = r.init.copy();
                    AdamW opt = new AdamW(adam.with(rate, n, 1), p);
                    for (int k = 0; k < n; k++) r.step(p, opt, k);
                    searched.add(r.heldOut(p));
                }
                int chosen = argmin(searched);
                // held-out MSE after 20 steps: 0.1718 (1e-4, too slow), 0.1579 (1e-3), 0.1994 (1e-2, overshoots)
                assertEquals(1, chosen, "the fixture's losses " + searched + " pick 1e-3");
                for (int i = 0; i < 3; i++) assertEquals(searched.get(i), trained.run().searched().get(i), 1e-6 * searched.get(i));
                assertEquals(AUTO.rates().get(chosen), trained.run().lr());

                // The full run at the chosen rate, measured every 10 steps, stopped by hand after 2 measurements without a new best.
                int every = AUTO.evalEvery(STEPS);
                LayerParams p = r.init.copy();
                AdamW opt = new AdamW(adam.with(AUTO.rates().get(chosen), STEPS, adam.warmup()), p);
                List<Double> held = new ArrayList<>(List.of(r.heldOut(p)));
                List<LayerParams> snapshots = new ArrayList<>(List.of(p.copy()));
                int step = 0;
                while (step < STEPS && held.size() - 1 - argmin(held) < 2) {
                    for (int k = 0; k < every; k++) r.step(p, opt, step++);
                    held.add(r.heldOut(p));
                    snapshots.add(p.copy());
                }
                // held-out MSE every 10 steps: 0.1752 at step 0 falling to 0.15322 at step 70, then 0.15325, 0.15357: stop at 90
                assertEquals(90, step, "the held-out loss " + held + " turns up before the budget ends, so training stops early");
                assertEquals(7, argmin(held));
                assertEquals(step, trained.losses().size(), "stopped at the step the hand-applied rule gives");
                assertEquals(held.size(), trained.run().heldOut().size());
                for (int i = 0; i < held.size(); i++) assertEquals(held.get(i), trained.run().heldOut().get(i), 1e-6 * held.get(i), "measurement " + i);
                LayerParams best = snapshots.get(argmin(held));
                for (String t : best.tensors().keySet())
                    assertArrayEquals(best.get(t).toFloat(), trained.params().get(t).toFloat(), t + ": the best measurement's weights");
                assertEquals(argmin(held) * every, trained.json().get("best_step").asInt());
            }
        }
    }

    private static int argmin(List<Double> l) {
        int b = 0;
        for (int i = 1; i < l.size(); i++) if (l.get(i) < l.get(b)) b = i;
        return b;
    }

    /** Training and held-out measurement written out plainly: all held-out windows in one batch. */
    private record Replay(ModelConfig c, TeacherBoundaries bounds, TrainingWindows data, LayerParams init) {
        void step(LayerParams p, AdamW opt, int s) {
            int[] w = data.batch(s, BATCH);
            Arr x = Arr.of(bounds.get(1, w)), y = Arr.of(bounds.get(3, w));
            var tape = LayerBackprop.forward(c, new Rope(c), c.slidingWindow()[1], p, x, BATCH, T);
            Arr d = x.zeros(BATCH * T * c.hiddenSize());
            Loss.MSE.apply(tape.out, y, BATCH * T, c.hiddenSize(), 1, null, d);
            LayerParams g = p.zeros();
            LayerBackprop.backward(c, new Rope(c), c.slidingWindow()[1], p, tape, d, g);
            opt.update(p, g);
        }

        double heldOut(LayerParams p) {
            int[] w = data.heldOutIds();
            Arr x = Arr.of(bounds.get(1, w)), y = Arr.of(bounds.get(3, w));
            Arr out = LayerBackprop.forward(c, new Rope(c), c.slidingWindow()[1], p, x, w.length, T).out;
            return Loss.MSE.apply(out, y, w.length * T, c.hiddenSize(), 1, null, x.zeros(w.length * T * c.hiddenSize()));
        }
    }
}
