package come4j.cli;

import come4j.eval.Perplexity;
import come4j.model.Checkpoint;
import come4j.model.Tokenizer;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Run the main job on the embedded demo model.", "",
                "The demo model (models/sotu-llama-12l-bf16: 12 layers, 10.8M parameters, trained on State of the Union addresses 1790-2000) is compressed by 30%% with CoMe (calibrated on its training text), and its perplexity on held-out addresses (2001-2021, windows of 256 tokens) is measured before and after."},
        footerHeading = "%nExamples:%n",
        footer = {"  come demo",
                "  come demo --out out/my-demo --threads 2"})
final class DemoCommand implements Runnable {
    static final int SEQ_LEN = 256;

    @Option(names = "--out", paramLabel = "DIR", description = "Where the compressed model goes (default: out/sotu-llama-12l-come30 under the project).")
    Path out;

    @Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static Path home() {
        return Path.of(System.getProperty("come.home", "."));
    }

    static Path demoModel() {
        return home().resolve(Examples.MODEL);
    }

    @Override
    public void run() {
        Path model = demoModel(), heldOut = model.resolve("heldout.txt");
        Path target = out != null ? out : home().resolve("out/sotu-llama-12l-come30");
        Perplexity.Result before = perplexity(model, heldOut, true);
        int code = new CommandLine(new CompressCommand()).setErr(spec.commandLine().getErr()).setExecutionExceptionHandler((e, c, p) -> { throw e; })
                .execute("--model", model.toString(), "--out", target.toString(), "--sparsity", "0.3", "--overwrite");
        if (code != 0) throw new IllegalStateException("compression failed");
        Perplexity.Result after = perplexity(target, heldOut, false);
        System.out.printf("%nheld-out perplexity (State of the Union 2001-2021, seq-len %d, %,d tokens)%n", SEQ_LEN, before.tokens());
        System.out.printf("  before (12 layers): %8.3f%n", before.ppl());
        System.out.printf("  after CoMe 30%%    : %8.3f   (%s)%n", after.ppl(), target);
    }

    private static Perplexity.Result perplexity(Path model, Path text, boolean summary) {
        try (Checkpoint ckpt = Checkpoint.open(model); Tokenizer tok = Tokenizer.load(ckpt)) {
            if (summary) InspectCommand.print(ckpt, System.out);
            return EvalCommand.evaluate(come4j.model.Transformer.load(ckpt), tok, text, SEQ_LEN, null);
        }
    }
}
