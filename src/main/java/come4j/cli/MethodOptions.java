package come4j.cli;

import come4j.distill.AdamW;
import come4j.distill.HierarchicalDistiller;
import come4j.distill.Loss;
import come4j.distill.Methods;
import come4j.merge.Laco;
import picocli.CommandLine.Option;

/** Parameters of individual methods, shared by `come compress` and `come bench`. */
final class MethodOptions {
    @Option(names = "--official-gqa-tiling", description = "CoMe: select query heads as the authors' code does (tiles the kv mask; wrong pairing on GQA models, for parity only).")
    boolean officialGqaTiling;

    @Option(names = "--granularity", paramLabel = "N", defaultValue = "20", description = "CoMe-P ratio grid: 0, 1/G, ..., 1 (default ${DEFAULT-VALUE}).")
    int granularity;

    @Option(names = "--laco-c", paramLabel = "N", defaultValue = "4", description = "LaCo: layers per merge attempt C (default ${DEFAULT-VALUE}; grows if the target cannot be reached).")
    int lacoC;

    @Option(names = "--laco-i", paramLabel = "N", defaultValue = "1", description = "LaCo: positions down after a kept merge I (default ${DEFAULT-VALUE}).")
    int lacoI;

    @Option(names = "--laco-low", paramLabel = "N", defaultValue = "0", description = "LaCo: lowest layer a merge may start at, L_low (default ${DEFAULT-VALUE}).")
    int lacoLow;

    @Option(names = "--distill-data", paramLabel = "FILE", description = "Training text of the distillation (METHOD+distill, --distill-each); repeatable.")
    java.util.List<java.nio.file.Path> distillData = new java.util.ArrayList<>();

    @Option(names = "--distill-steps", paramLabel = "N", description = "Distillation steps per merged layer, 8 windows of 256 tokens each (default: 2 training tokens per parameter of a layer).")
    Integer distillSteps;

    @Option(names = "--distill-loss", paramLabel = "LOSS", defaultValue = "mse", description = "Distillation loss: kl_hidden, mse or logit_lens_kl (default ${DEFAULT-VALUE}, as `come distill`).")
    String distillLoss;

    @Option(names = "--distill-lr", paramLabel = "X", description = "Peak learning rate of the distillation, fixed (default: searched per layer on held-out windows, with early stopping, as `come distill`; other settings as its defaults).")
    Double distillLr;

    Methods.Options options() {
        if (granularity < 1) throw new come4j.io.BadInputException(null, "--granularity must be >= 1");
        return new Methods.Options(officialGqaTiling, granularity, new Laco.Settings(lacoC, lacoI, lacoLow), distillData, distillSettings());
    }

    /** The distillation settings of METHOD+distill and --distill-each (batch 8; warm-up, decay, clipping and the saved states' cadence as come distill's defaults). */
    HierarchicalDistiller.Settings distillSettings() {
        Loss loss = Loss.of(distillLoss);
        if (distillSteps != null && distillSteps < 1 || distillLr != null && !(distillLr > 0))
            throw new come4j.io.BadInputException(null, "--distill-steps must be >= 1 and --distill-lr > 0");
        int steps = distillSteps == null ? 0 : distillSteps; // 0: sized to the model's layer when it is known
        return new HierarchicalDistiller.Settings(loss, 1, steps, 8, AdamW.Settings.defaults(distillLr == null ? Double.NaN : distillLr, steps),
                HierarchicalDistiller.SAVE_EVERY, 1, distillLr == null ? HierarchicalDistiller.Auto.DEFAULT : null);
    }
}
