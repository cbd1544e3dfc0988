package come4j.cli;

import come4j.io.BadInputException;
import come4j.model.Checkpoint;
import come4j.model.Generator;
import come4j.model.Tokenizer;
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

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "64",
            description = "Tokens to generate (default ${DEFAULT-VALUE}; 0 prints the prompt); prompt and new tokens together must fit max_position_embeddings.")
    int maxNew;

    @Mixin
    CommonOptions common;

    @Override
    public void run() {
        if (maxNew < 0) throw new BadInputException(null, "--max-new-tokens must be 0 or more, not " + maxNew);
        try (Checkpoint ckpt = Checkpoint.open(model.dir); Tokenizer tok = Tokenizer.load(ckpt)) {
            int[] ids = tok.encode(prompt);
            int room = ckpt.config().maxPositions() - ids.length;
            if (ids.length == 0) throw new BadInputException(null, "--prompt gives no tokens (this tokenizer adds no BOS): give some text");
            if (maxNew > room) // the KV cache holds prompt + new tokens; beyond the trained positions output is noise
                throw new BadInputException(null, "--max-new-tokens " + maxNew + " with a prompt of " + ids.length + " tokens exceeds max_position_embeddings "
                        + ckpt.config().maxPositions() + (room >= 0 ? " (at most " + room + " new tokens)" : " (the prompt alone is too long)"));
            ckpt.requireFinite();
            int[] out = Generator.greedy(Transformer.load(ckpt), ids, maxNew, t -> {});
            // decoded together with the prompt: decoders drop a leading space of a sequence's first token
            int[] all = java.util.Arrays.copyOf(ids, ids.length + out.length);
            System.arraycopy(out, 0, all, ids.length, out.length);
            System.out.println(tok.decode(all));
        }
    }
}
