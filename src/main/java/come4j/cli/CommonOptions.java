package come4j.cli;

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
