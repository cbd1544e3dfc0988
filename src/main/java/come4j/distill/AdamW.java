package come4j.distill;

/**
 * AdamW as torch.optim.AdamW computes it (decoupled weight decay, bias-corrected moments, eps added after the square
 * root), with global-norm gradient clipping as torch.nn.utils.clip_grad_norm_, and a learning rate that warms up
 * linearly and then follows a cosine down to {@code minLrRatio · lr}. Weight decay applies to the projection matrices,
 * not to norms and biases. Moments are kept in the parameters' precision (fp32 masters in training).
 */
public final class AdamW {
    public record Settings(double lr, double beta1, double beta2, double eps, double weightDecay, double clip,
                           int warmup, int steps, double minLrRatio) {
        public static Settings defaults(double lr, int steps) {
            return new Settings(lr, 0.9, 0.999, 1e-8, 0.01, 1.0, Math.max(1, steps / 20), steps, 0.1);
        }

        /** The same optimizer with another peak rate and schedule length. */
        public Settings with(double lr, int steps, int warmup) {
            return new Settings(lr, beta1, beta2, eps, weightDecay, clip, warmup, steps, minLrRatio);
        }

        /** The learning rate of step s (1-based). */
        public double lrAt(int s) {
            if (s <= warmup) return lr * s / warmup;
            double progress = (double) (s - warmup) / Math.max(1, steps - warmup);
            double min = lr * minLrRatio;
            return min + (lr - min) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
        }
    }

    private final Settings s;
    private final LayerParams m, v;
    private int step;

    public AdamW(Settings s, LayerParams params) {
        this(s, params.zeros(), params.zeros(), 0);
    }

    /** An optimizer resumed from saved moments after {@code step} steps. */
    public AdamW(Settings s, LayerParams m, LayerParams v, int step) {
        this.s = s;
        this.m = m;
        this.v = v;
        this.step = step;
    }

    public LayerParams m() {
        return m;
    }

    public LayerParams v() {
        return v;
    }

    public int step() {
        return step;
    }

    /** Clips g in place, then updates p; returns the gradient norm before clipping. */
    public double update(LayerParams p, LayerParams g) {
        double sq = 0;
        for (Arr a : g.tensors().values())
            for (int i = 0; i < a.length(); i++) sq += a.get(i) * a.get(i);
        double norm = Math.sqrt(sq), coef = Math.min(1, s.clip() / (norm + 1e-6));
        step++;
        double lr = s.lrAt(step), bc1 = 1 - Math.pow(s.beta1(), step), bc2 = Math.sqrt(1 - Math.pow(s.beta2(), step));
        for (var e : p.tensors().entrySet()) {
            String name = e.getKey();
            Arr x = e.getValue(), gr = g.get(name), mm = m.get(name), vv = v.get(name);
            double decay = p.decays(name) ? 1 - lr * s.weightDecay() : 1;
            for (int i = 0; i < x.length(); i++) {
                double gi = gr.get(i) * coef;
                mm.set(i, s.beta1() * mm.get(i) + (1 - s.beta1()) * gi);
                vv.set(i, s.beta2() * vv.get(i) + (1 - s.beta2()) * gi * gi);
                x.set(i, x.get(i) * decay - lr / bc1 * mm.get(i) / (Math.sqrt(vv.get(i)) / bc2 + s.eps()));
            }
        }
        return norm;
    }
}
