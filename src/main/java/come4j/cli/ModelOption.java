package come4j.cli;

import come4j.io.BadInputException;
import come4j.io.HubCache;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** --model, as every command that reads a checkpoint takes it: a folder, or a Hub id found in the local Hugging Face cache. */
final class ModelOption {
    static final String HELP = "Hugging Face checkpoint folder, or a Hub id ORG/NAME[@REVISION] already in the local Hugging Face cache "
            + "(HF_HUB_CACHE, HF_HOME/hub or ~/.cache/huggingface/hub; nothing is downloaded). A folder of that name wins.";

    @Option(names = "--model", required = true, paramLabel = "DIR|ORG/NAME", converter = ModelPath.class, description = HELP)
    Path dir;

    /** Resolves a model argument (folder or Hub id) when the command line is parsed. */
    static final class ModelPath implements CommandLine.ITypeConverter<Path> {
        @Override
        public Path convert(String value) {
            try {
                return HubCache.resolve(value);
            } catch (BadInputException e) {
                throw new CommandLine.TypeConversionException(e.line());
            }
        }
    }
}
