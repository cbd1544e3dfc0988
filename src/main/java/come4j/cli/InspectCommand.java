package come4j.cli;

import come4j.io.Checkpoint;
import come4j.model.ModelConfig;
import come4j.model.ParameterCount;
import java.io.PrintStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "inspect", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Show a checkpoint's architecture, sizes and sparsity table.", "",
                "Architecture, dimensions, heads / kv heads, parameters per layer and in total, dtype, and how many layers 10/20/30%% parameter sparsity removes (k = round(s * P_total / P_layer))."})
final class InspectCommand implements Runnable {
    @Mixin
    ModelOption model;

    @Mixin
    CommonOptions common;

    @Override
    public void run() {
        try (Checkpoint ckpt = Checkpoint.open(model.dir)) {
            print(ckpt, System.out);
        }
    }

    static void print(Checkpoint ckpt, PrintStream out) {
        ModelConfig c = ckpt.config();
        ParameterCount p = ParameterCount.of(c);
        out.printf("model          %s%n", ckpt.dir());
        out.printf("architecture   %s%n", c.architecture());
        out.printf("layers         %d%n", c.numLayers());
        out.printf("hidden         %d   intermediate %d   vocab %d%n", c.hiddenSize(), c.intermediateSize(), c.vocabSize());
        out.printf("heads          %d query, %d key/value (n_rep %d), head_dim %d%n", c.numHeads(), c.numKvHeads(), c.nRep(), c.headDim());
        out.printf("rope           theta %.0f, %s scaling; max positions %d%n", c.ropeTheta(), c.ropeScaling().type(), c.maxPositions());
        out.printf("features       qkv bias %s, q/k norm %s, tied embeddings %s, sliding window %s%n", yes(c.qkvBias()),
                yes(c.qkNorm()), yes(c.tieEmbeddings()), windows(c.slidingWindow()));
        out.printf("dtype          %s%n", ckpt.dtype());
        out.printf("parameters     %,d total, %,d per decoder layer%n", p.total(), p.perLayer());
        for (double s : new double[] {0.1, 0.2, 0.3}) {
            int k = p.layersToRemove(s);
            out.printf("sparsity %2.0f%%   remove %d layer%s -> %d layers (achieved %.1f%%)%n", s * 100, k, k == 1 ? "" : "s",
                    c.numLayers() - k, 100.0 * k * p.perLayer() / p.total());
        }
    }

    private static String yes(boolean b) {
        return b ? "yes" : "no";
    }

    private static String windows(int[] w) {
        long sliding = java.util.Arrays.stream(w).filter(x -> x > 0).count();
        return sliding == 0 ? "none" : sliding + " of " + w.length + " layers, " + java.util.Arrays.stream(w).max().getAsInt() + " tokens";
    }
}
