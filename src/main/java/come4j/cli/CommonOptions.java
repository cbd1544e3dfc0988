package come4j.cli;

import come4j.tensor.Backends;
import come4j.tensor.Parallel;
import java.io.PrintWriter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Options every command takes, and the command's log. */
public final class CommonOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads for the kernels (default: all cores).")
    void threads(int n) {
        if (n < 1) throw new ParameterException(command.commandLine(), "--threads must be at least 1, not " + n);
        Parallel.setThreads(n);
    }

    private String backend = System.getProperty("come4j.backend", "auto"), dtype = System.getProperty("come4j.dtype", "float32");

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "${sys:come4j.backend:-auto}",
            description = "Compute backend: auto (oneDNN for bf16 products when it loads, else the Vector API), vector, onednn (default: ${DEFAULT-VALUE}).")
    void backend(String name) {
        if (!Backends.NAMES.contains(name))
            throw new ParameterException(command.commandLine(), "unknown backend '" + name + "'; one of " + String.join(", ", Backends.NAMES));
        backend = name;
        Backends.choose(backend, dtype, m -> log(command, m));
    }

    @Option(names = "--dtype", paramLabel = "DTYPE", defaultValue = "${sys:come4j.dtype:-float32}",
            description = "Precision of the products: float32 (exact; as transformers 4 loads a model), bfloat16 (bf16 operands, fp32 accumulation; faster where oneDNN runs), auto (the checkpoint's dtype, as transformers 5 loads a model by default). Statistics, merges and losses are fp32 either way (default: ${DEFAULT-VALUE}).")
    void dtype(String name) {
        if (!Backends.DTYPES.contains(name))
            throw new ParameterException(command.commandLine(), "unknown dtype '" + name + "'; one of " + String.join(", ", Backends.DTYPES));
        dtype = name;
        Backends.choose(backend, dtype, m -> log(command, m));
    }

    @Option(names = "--debug", description = "Show stack traces on errors.")
    boolean debug;

    /**
     * A "come: ..." line on the command's error stream: stderr, or the stream a caller gave {@link Main#execute}
     * (tests capture it there instead of letting it reach the build log).
     */
    void log(String message) {
        log(command, message);
    }

    static void log(CommandSpec command, String message) {
        PrintWriter err = command.commandLine().getErr();
        err.println("come: " + message);
        err.flush();
    }
}
