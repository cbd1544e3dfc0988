package come4j.cli;

import come4j.io.Checkpoint;
import come4j.io.Tokenizer;
import come4j.model.Generator;
import come4j.model.Transformer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Continue a prompt by greedy decoding.", "",
                "Greedy decoding with a KV cache; stops at --max-new-tokens or at the end-of-sequence token."},
        footerHeading = "%nExamples:%n",
        footer = {"  come generate --model " + Examples.MODEL + " \\",
                "      --prompt \"My fellow citizens\" --max-new-tokens 32"})
final class GenerateCommand implements Runnable {
    @Mixin
    ModelOption model;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "Prompt text.")
    String prompt;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "64", description = "Tokens to generate (default ${DEFAULT-VALUE}).")
    int maxNew;

    @Mixin
    CommonOptions common;

    @Override
    public void run() {
        try (Checkpoint ckpt = Checkpoint.open(model.dir); Tokenizer tok = Tokenizer.load(ckpt)) {
            int[] ids = tok.encode(prompt);
            int[] out = Generator.greedy(Transformer.load(ckpt), ids, maxNew, t -> {});
            // decoded together with the prompt: decoders drop a leading space of a sequence's first token
            int[] all = java.util.Arrays.copyOf(ids, ids.length + out.length);
            System.arraycopy(out, 0, all, ids.length, out.length);
            System.out.println(tok.decode(all));
        }
    }
}
