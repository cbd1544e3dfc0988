package come4j.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** --model, as every command that reads a checkpoint takes it. */
final class ModelOption {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face checkpoint folder.")
    Path dir;
}
