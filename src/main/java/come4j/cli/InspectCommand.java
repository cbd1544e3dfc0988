package come4j.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.model.Checkpoint;
import come4j.model.ModelConfig;
import come4j.model.ParameterCount;
import java.io.PrintStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "inspect", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Show a checkpoint's architecture, sizes and sparsity table.", "",
                "Architecture, dimensions, heads / kv heads, parameters per layer and in total, dtype, and how many layers 10/20/30%% parameter sparsity removes (k = round(s * P_total / P_layer))."},
        footerHeading = "%nExamples:%n",
        footer = {"  come inspect --model " + Examples.MODEL,
                "  come inspect --model " + Examples.MODEL + " --json"})
final class InspectCommand implements Runnable {
    @Mixin
    ModelOption model;

    @Option(names = "--json", description = "Print one JSON object instead: model, architecture, layers, hidden, intermediate, vocab, heads, kv_heads, head_dim, rope_theta, rope_scaling, max_positions, qkv_bias, qk_norm, tied_embeddings, sliding_window_layers, dtype, backend (name, compute_dtype: what products would run on), parameters, parameters_per_layer, sparsity (per 10/20/30%%: remove, layers, achieved).")
    boolean json;

    @Mixin
    CommonOptions common;

    @Override
    public void run() {
        try (Checkpoint ckpt = Checkpoint.open(model.dir)) {
            if (json) System.out.println(json(ckpt));
            else print(ckpt, System.out);
        }
    }

    /** The sparsities the table shows. */
    private static final double[] SPARSITIES = {0.1, 0.2, 0.3};

    static void print(Checkpoint ckpt, PrintStream out) {
        ModelConfig c = ckpt.config();
        ParameterCount p = ParameterCount.of(c);
        out.printf("model          %s%n", ckpt.dir());
        out.printf("architecture   %s%n", c.architecture());
        out.printf("layers         %d%n", c.numLayers());
        out.printf("hidden         %d   intermediate %d   vocab %d%n", c.hiddenSize(), c.intermediateSize(), c.vocabSize());
        out.printf("heads          %d query, %d key/value (n_rep %d), head_dim %d%n", c.numHeads(), c.numKvHeads(), c.nRep(), c.headDim());
        if (c.layout().learnedPositions()) out.printf("positions      learned; max positions %d%n", c.maxPositions());
        else out.printf("rope           theta %.0f, %s scaling; max positions %d%n", c.ropeTheta(), c.ropeScaling().type(), c.maxPositions());
        if (c.layout().gemma() != null) // Gemma 3's sliding layers rotate with their own base
            out.printf("rope (local)   theta %.0f, %s scaling, on the sliding-window layers%n", c.layout().gemma().localRopeTheta(),
                    c.layout().gemma().localRopeScaling().type());
        out.printf("features       qkv bias %s, q/k norm %s, tied embeddings %s, sliding window %s%n", yes(c.qkvBias()),
                yes(c.qkNorm()), yes(c.tieEmbeddings()), windows(c.slidingWindow()));
        out.printf("dtype          %s%n", ckpt.dtype());
        out.printf("backend        %s%n", come4j.tensor.Backends.forModel(ckpt.dtype()).describe());
        out.printf("parameters     %,d total, %,d per decoder layer%n", p.total(), p.perLayer());
        for (var r : json(ckpt).get("sparsity")) {
            int k = r.get("remove").asInt();
            out.printf("sparsity %2.0f%%   remove %d layer%s -> %d layers (achieved %.1f%%)%n", r.get("sparsity").asDouble() * 100, k,
                    k == 1 ? "" : "s", r.get("layers").asInt(), 100 * r.get("achieved").asDouble());
        }
    }

    static ObjectNode json(Checkpoint ckpt) {
        ModelConfig c = ckpt.config();
        ParameterCount p = ParameterCount.of(c);
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("model", ckpt.dir().toAbsolutePath().toString()).put("architecture", c.architecture()).put("layers", c.numLayers())
                .put("hidden", c.hiddenSize()).put("intermediate", c.intermediateSize()).put("vocab", c.vocabSize())
                .put("heads", c.numHeads()).put("kv_heads", c.numKvHeads()).put("head_dim", c.headDim())
                .put("rope_theta", c.ropeTheta()).put("rope_scaling", c.ropeScaling().type()).put("max_positions", c.maxPositions())
                .put("qkv_bias", c.qkvBias()).put("qk_norm", c.qkNorm()).put("tied_embeddings", c.tieEmbeddings())
                .put("sliding_window_layers", java.util.Arrays.stream(c.slidingWindow()).filter(x -> x > 0).count())
                .put("dtype", ckpt.dtype().toString()).put("parameters", p.total()).put("parameters_per_layer", p.perLayer());
        var backend = come4j.tensor.Backends.forModel(ckpt.dtype());
        o.putObject("backend").put("name", backend.name()).put("compute_dtype", backend.compute().torchName());
        var rows = o.putArray("sparsity");
        for (double s : SPARSITIES) {
            int k = p.layersToRemove(s);
            rows.addObject().put("sparsity", s).put("remove", k).put("layers", c.numLayers() - k)
                    .put("achieved", (double) k * p.perLayer() / p.total());
        }
        return o;
    }

    private static String yes(boolean b) {
        return b ? "yes" : "no";
    }

    private static String windows(int[] w) {
        long sliding = java.util.Arrays.stream(w).filter(x -> x > 0).count();
        return sliding == 0 ? "none" : sliding + " of " + w.length + " layers, " + java.util.Arrays.stream(w).max().getAsInt() + " tokens";
    }
}
