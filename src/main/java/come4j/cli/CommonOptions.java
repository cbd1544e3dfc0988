package come4j.cli;

import come4j.tensor.Parallel;
import picocli.CommandLine.Option;

/** Options every command takes. */
public final class CommonOptions {
    @Option(names = "--threads", paramLabel = "N", description = "Worker threads for the kernels (default: all cores).")
    void threads(int n) {
        if (n < 1) throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--threads must be >= 1");
        Parallel.setThreads(n);
    }

    @Option(names = "--debug", description = "Show stack traces on errors.")
    boolean debug;
}
