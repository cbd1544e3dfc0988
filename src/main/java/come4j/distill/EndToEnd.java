package come4j.distill;

import come4j.model.ModelConfig;
import come4j.model.Ropes;
import come4j.model.Transformer;
import come4j.io.Progress;
import come4j.report.DistillRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The end-to-end stage (issue 17, item 2): after the layer-wise stage, every merged layer is trained together on the
 * model's output distribution, loss = mean over tokens of KL(softmax(teacher logits) ‖ softmax(student logits)) over
 * the vocabulary. The layer-wise targets are teacher-forced, so they never see how one merged layer's error feeds the
 * next; this loss does. Embeddings, the unmerged layers, the final norm and the LM head stay frozen. The teacher's
 * logits are its last hidden state (computed once per window, {@link TeacherBoundaries}) through the final norm and
 * head, which the student shares ({@code come compress} leaves them as they were). The schedule is the layer-wise
 * stage's ({@link Schedule}), with its own rate grid ({@link #AUTO}) and budget.
 */
public final class EndToEnd {
    /**
     * The layer-wise grid (3e-4, 1e-3, 3e-3) divided by 3: the layers start already distilled, and one update now moves
     * all of them at once, with one global clipping norm. Same held-out slice (64 windows) and patience (3).
     */
    public static final HierarchicalDistiller.Auto AUTO = new HierarchicalDistiller.Auto(List.of(1e-4, 3e-4, 1e-3), 64, 3);

    /** The end-to-end settings of a run with the layer-wise settings s: {@code steps} steps, AdamW's constants as s. */
    public static HierarchicalDistiller.Settings settings(HierarchicalDistiller.Settings s, int steps) {
        return new HierarchicalDistiller.Settings(Loss.LOGIT_LENS_KL, 1, steps, s.batch(), s.adam().with(Double.NaN, steps, Math.max(1, steps / 20)),
                s.saveEvery(), 1, AUTO);
    }

    /** The stage's record: the merged layers trained, their run of the schedule, and the seconds this run spent. */
    public record Result(List<Integer> layers, Schedule.Run run, double seconds) {
        public DistillRecord.EndToEnd record() {
            return new DistillRecord.EndToEnd(layers, run.record(), seconds);
        }

        /** The trained weights of student layer {@code layers().get(k)}. */
        public LayerParams params(int k) {
            return run.params().part(k);
        }
    }

    private final ModelConfig c;
    private final Ropes ropes;
    private final Transformer student;
    private final List<LayerParams> layers;
    private final int[] trained;
    private final Loss.Head head;
    private final TeacherBoundaries teacher;
    private final int teacherOut;
    private final TrainingWindows data;
    private final HierarchicalDistiller.Settings s;

    /**
     * student: its embeddings; layers: every student layer's weights as trained so far (fp32); trained: the merged
     * layers' indices, ascending; teacher: holds boundary teacherOut (the teacher's last hidden state: its layer
     * count, not the student's) of every window.
     */
    private EndToEnd(Transformer student, List<LayerParams> layers, int[] trained, Loss.Head head, TeacherBoundaries teacher,
                     int teacherOut, TrainingWindows data, HierarchicalDistiller.Settings s) {
        this.c = student.config();
        this.ropes = Ropes.of(c);
        this.student = student;
        this.layers = layers;
        this.trained = trained;
        this.head = head;
        this.teacher = teacher;
        this.teacherOut = teacherOut;
        this.data = data;
        this.s = s;
    }

    /**
     * Trains the layers {@code trained} of {@code layers} together under s (state saved in stateDir/e2e.state when not
     * null); teacherOut: the teacher's layer count, the boundary of {@code teacher} its logits are read from.
     */
    public static Result train(Transformer student, List<LayerParams> layers, int[] trained, Loss.Head head, TeacherBoundaries teacher,
                               int teacherOut, TrainingWindows data, HierarchicalDistiller.Settings s, Path stateDir, Consumer<String> log) {
        long start = System.nanoTime();
        EndToEnd e = new EndToEnd(student, layers, trained, head, teacher, teacherOut, data, s);
        List<LayerParams> init = new ArrayList<>();
        for (int l : trained) init.add(layers.get(l));
        Schedule.Objective o = new Schedule.Objective() {
            public String label() {
                return "end-to-end";
            }

            public double step(LayerParams p, AdamW opt, int batch) {
                return e.step(p, opt, batch);
            }

            public double heldOut(LayerParams p) {
                return e.heldOutLoss(p);
            }
        };
        int rows = s.batch() * data.seqLen();
        Schedule.Run run;
        try (Progress bar = Progress.start("end-to-end", (long) HierarchicalDistiller.stepsPerLayer(s) * rows, "tok")) {
            run = Schedule.run(o, LayerParams.joint(init), s, stateDir == null ? null : stateDir.resolve("e2e.state"), bar, rows, log);
        }
        return new Result(java.util.Arrays.stream(trained).boxed().toList(), run, (System.nanoTime() - start) / 1e9);
    }

    /** One optimizer step of the joint parameters p on batch {@code batch}; returns its loss. */
    private double step(LayerParams p, AdamW opt, int batch) {
        int[] windows = data.batch(batch, s.batch());
        LayerParams g = p.zeros();
        List<LayerParams> grads = new ArrayList<>();
        for (int k = 0; k < trained.length; k++) grads.add(g.part(k));
        double loss = loss(c, ropes, with(p), trained, head, embed(windows), Arr.of(teacher.get(teacherOut, windows)),
                windows.length, data.seqLen(), grads);
        opt.update(p, g);
        return loss;
    }

    /** The loss on the held-out windows (mean over windows), in batches of the training batch size. */
    private double heldOutLoss(LayerParams p) {
        int[] ids = data.heldOutIds();
        List<LayerParams> all = with(p);
        double sum = 0;
        for (int i = 0; i < ids.length; i += s.batch()) {
            int[] w = java.util.Arrays.copyOfRange(ids, i, Math.min(ids.length, i + s.batch()));
            sum += w.length * loss(c, ropes, all, trained, head, embed(w), Arr.of(teacher.get(teacherOut, w)),
                    w.length, data.seqLen(), null);
        }
        return sum / ids.length;
    }

    /** Every layer, the trained ones read from the joint parameters p. */
    private List<LayerParams> with(LayerParams p) {
        List<LayerParams> all = new ArrayList<>(layers);
        for (int k = 0; k < trained.length; k++) all.set(trained[k], p.part(k));
        return all;
    }

    /** The student's embeddings of the windows, [windows.length * T x d]. */
    private Arr embed(int[] windows) {
        int T = data.seqLen();
        int[] ids = new int[windows.length * T];
        for (int k = 0; k < windows.length; k++) System.arraycopy(data.windows().get(windows[k]), 0, ids, k * T, T);
        return Arr.of(student.embed(ids, windows.length, 0));
    }

    /**
     * The end-to-end loss of one batch: x (the embeddings, [batch * T x d]) through every layer of {@code layers}, then
     * mean over tokens of KL(softmax(head(yt)) ‖ softmax(head(out))), yt the teacher's last hidden state. When grads is
     * not null, the gradients of the layers {@code trained} (ascending indices) are added to grads (one per trained
     * layer), backpropagated through every layer above them; layers below the first trained one only run forward.
     */
    static double loss(ModelConfig c, Ropes ropes, List<LayerParams> layers, int[] trained, Loss.Head head, Arr x, Arr yt, int batch, int T,
                       List<LayerParams> grads) {
        int L = layers.size(), rows = batch * T, d = c.hiddenSize();
        LayerBackprop.Tape[] tapes = new LayerBackprop.Tape[L];
        Arr h = x;
        for (int l = 0; l < L; l++) {
            int window = c.slidingWindow()[l];
            LayerBackprop.Tape tape = LayerBackprop.forward(c, ropes.forWindow(window), window, layers.get(l), h, batch, T);
            if (grads != null && l >= trained[0]) tapes[l] = tape;
            h = tape.out;
        }
        Arr dh = h.zeros(rows * d);
        double loss = Loss.LOGIT_LENS_KL.apply(h, yt, rows, d, 1, head, dh);
        if (grads == null) return loss;
        for (int l = L - 1, k = trained.length - 1; l >= trained[0]; l--) {
            int window = c.slidingWindow()[l];
            LayerParams p = layers.get(l), g = k >= 0 && trained[k] == l ? grads.get(k--) : p.zeros(); // a frozen layer's gradient is dropped
            dh = LayerBackprop.backward(c, ropes.forWindow(window), window, p, tapes[l], dh, g);
            tapes[l] = null;
        }
        return loss;
    }
}
