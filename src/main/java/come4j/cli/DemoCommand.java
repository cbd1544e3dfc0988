package come4j.cli;

import come4j.eval.Perplexity;
import come4j.io.Checkpoint;
import come4j.io.Tokenizer;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run the main job on the embedded demo model.", "",
                "The demo model (models/sotu-llama-12l-bf16: 12 layers, 10.8M parameters, trained on State of the Union addresses 1790-2000) is summarised, then scored on held-out addresses (2001-2021) at seq-len 256."})
final class DemoCommand implements Runnable {
    static final int SEQ_LEN = 256;

    @Mixin
    CommonOptions common;

    static Path home() {
        return Path.of(System.getProperty("come.home", "."));
    }

    static Path demoModel() {
        return home().resolve("models/sotu-llama-12l-bf16");
    }

    @Override
    public void run() {
        Path model = demoModel();
        try (Checkpoint ckpt = Checkpoint.open(model); Tokenizer tok = Tokenizer.load(ckpt.tokenizerFile())) {
            InspectCommand.print(ckpt, System.out);
            Path heldOut = model.resolve("heldout.txt");
            Perplexity.Result r = EvalCommand.evaluate(ckpt, tok, heldOut, SEQ_LEN, null);
            System.out.printf("%nheld-out perplexity (%s, seq-len %d): %.3f over %,d tokens in %.1f s (%.0f tokens/s)%n",
                    heldOut.getFileName(), SEQ_LEN, r.ppl(), r.tokens(), r.seconds(), r.tokensPerSecond());
        }
    }
}
