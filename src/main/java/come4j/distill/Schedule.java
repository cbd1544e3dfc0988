package come4j.distill;

import come4j.distill.HierarchicalDistiller.Auto;
import come4j.distill.HierarchicalDistiller.Settings;
import come4j.io.Progress;
import come4j.report.DistillRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The training loop both stages share: the layer-wise stage runs it once per merged layer, the end-to-end stage once
 * on all merged layers together. Fixed rate: every step of the budget. Automatic ({@link Auto}): the rate search, the
 * held-out measurements, early stopping and the best weights kept. The state is saved every few steps to a file; a
 * rerun continues from it bit for bit.
 */
final class Schedule {
    /** What is trained: one optimizer step on batch k (returning its loss) and the held-out loss of parameters p. */
    interface Objective {
        /** Names the run in the log and the progress bar ("layer 3", "end-to-end"). */
        String label();

        double step(LayerParams p, AdamW opt, int batch);

        double heldOut(LayerParams p);
    }

    /**
     * A finished run: the weights kept (the best measurement's under the automatic schedule), the loss of each step and,
     * automatic, the held-out loss each searched rate reached, the rate chosen and every held-out measurement (step 0,
     * every {@code evalEvery} steps, the last step). Empty lists and the fixed rate otherwise.
     */
    record Run(LayerParams params, List<Double> losses, List<Double> searched, double lr, List<Double> heldOut, int evalEvery) {
        /** Its record: the first and last losses, the automatic schedule's search and measurements (when it ran), the loss per step. */
        DistillRecord.Run record() {
            int tail = Math.max(1, losses.size() / 10);
            double last = losses.subList(losses.size() - tail, losses.size()).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            if (heldOut.isEmpty()) return new DistillRecord.Run(losses.getFirst(), last, null, null, null, null, null, null, losses);
            int best = Auto.best(heldOut);
            List<DistillRecord.HeldOut> h = new ArrayList<>();
            for (int i = 0; i < heldOut.size(); i++) h.add(new DistillRecord.HeldOut(evalStep(i), heldOut.get(i)));
            return new DistillRecord.Run(losses.getFirst(), last, lr, searched, losses.size(), evalStep(best), heldOut.get(best), h, losses);
        }

        /** The step of the i-th held-out measurement. */
        private int evalStep(int i) {
            return Math.min(i * evalEvery, losses.size());
        }
    }

    private Schedule() {}

    /**
     * Trains from init under s (steps, adam, auto, saveEvery; s.loss() only names the loss in the log), or continues
     * the state saved in file (null: nothing saved). rows: tokens per step, for the progress bar.
     */
    static Run run(Objective o, LayerParams init, Settings s, Path file, Progress bar, int rows, Consumer<String> log) {
        TrainingState saved = file == null ? null : TrainingState.load(file, init);
        Auto auto = s.auto();
        int E = auto == null ? 0 : auto.evalEvery(s.steps());
        TrainingState st;
        if (saved != null) {
            log.accept(o.label() + ": resuming at step " + saved.step() + " of " + s.steps());
            st = saved;
        } else {
            List<Double> searched = auto == null ? List.of() : search(o, init, s, bar, rows, log);
            st = new TrainingState(0, List.of(), searched, List.of(), init, init.zeros(), init.zeros(), null);
        }
        double lr = auto == null ? s.adam().lr() : auto.rates().get(Auto.best(st.searched()));
        LayerParams p = st.params(), best = st.best();
        List<Double> losses = new ArrayList<>(st.losses()), heldOut = new ArrayList<>(st.heldOut());
        AdamW opt = new AdamW(auto == null ? s.adam() : s.adam().with(lr, s.steps(), s.adam().warmup()), st.m(), st.v(), st.step());
        if (auto != null && heldOut.isEmpty()) {
            heldOut.add(o.heldOut(p));
            best = p.copy();
            if (file != null) new TrainingState(0, losses, st.searched(), heldOut, p, opt.m(), opt.v(), best).save(file); // the search is not redone
        }
        bar.step((long) opt.step() * rows);
        while (opt.step() < s.steps() && !(auto != null && auto.stopped(heldOut))) {
            losses.add(o.step(p, opt, opt.step()));
            if (auto != null && (opt.step() % E == 0 || opt.step() == s.steps())) {
                double h = o.heldOut(p);
                if (h < heldOut.get(Auto.best(heldOut))) best = p.copy();
                heldOut.add(h);
            }
            if (file != null && (opt.step() % s.saveEvery() == 0 || opt.step() == s.steps() || auto != null && auto.stopped(heldOut)))
                new TrainingState(opt.step(), losses, st.searched(), heldOut, p, opt.m(), opt.v(), best).save(file);
            bar.step(rows, String.format("%s loss %.4g", o.label(), losses.getLast()));
        }
        if (auto != null)
            log.accept(String.format("%s: lr %.3g, %s held-out %.5g at step %d of %d run", o.label(), lr, s.loss().id,
                    heldOut.get(Auto.best(heldOut)), Math.min(Auto.best(heldOut) * E, losses.size()), losses.size()));
        return new Run(auto == null ? p : best, List.copyOf(losses), st.searched(), lr, List.copyOf(heldOut), E);
    }

    /** The held-out loss each candidate rate reaches after a short run of its own from init. */
    private static List<Double> search(Objective o, LayerParams init, Settings s, Progress bar, int rows, Consumer<String> log) {
        Auto auto = s.auto();
        int n = auto.searchSteps(s.steps());
        List<Double> out = new ArrayList<>();
        for (double rate : auto.rates()) {
            LayerParams p = init.copy();
            AdamW opt = new AdamW(s.adam().with(rate, n, Math.max(1, n / 20)), p);
            for (int k = 0; k < n; k++) {
                double loss = o.step(p, opt, k);
                bar.step(rows, String.format("%s lr %.0e loss %.4g", o.label(), rate, loss));
            }
            out.add(o.heldOut(p));
        }
        log.accept(String.format("%s: held-out %s after %d steps at lr %s: %s", o.label(), s.loss().id, n, auto.rates(), out));
        return List.copyOf(out);
    }
}
