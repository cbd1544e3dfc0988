package come4j.cli;

import come4j.io.BadInputException;
import come4j.io.IoFailureException;
import java.io.UncheckedIOException;
import java.io.PrintStream;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "come", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Compress LLaMA-family language models by merging their layers (CoMe), in pure Java.", ""},
        subcommands = {DemoCommand.class, CompressCommand.class, BenchCommand.class, InspectCommand.class, EvalCommand.class, GenerateCommand.class,
                LogitsCommand.class, DistillCommand.class,
                CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 success, 1 internal error, 2 bad input or usage (also: another",
                "run is writing the output), 3 a file cannot be written or read (disk full,",
                "unwritable folder: no partial output is left, the input is untouched).",
                "Add --debug for stack traces."})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        Thread onSignal = new Thread(() -> // Ctrl-C: one line on what was saved; the JVM exits 130
                System.err.println((System.console() != null ? "\n" : "") + "come: " + come4j.io.RunFolder.interruptedLine()));
        Runtime.getRuntime().addShutdownHook(onSignal);
        int code = execute(args, System.err);
        Runtime.getRuntime().removeShutdownHook(onSignal);
        System.exit(code);
    }

    /** Runs the CLI and returns its exit code: bad input is one line naming the file and the problem, code 2. */
    public static int execute(String[] args, PrintStream err) {
        boolean debug = Arrays.asList(args).contains("--debug");
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (debug) ex.printStackTrace(err);
            if (ex instanceof BadInputException bad) {
                err.println("come: " + bad.line());
                return 2;
            }
            if (ex instanceof IoFailureException io) {
                err.println("come: " + io.line());
                return 3;
            }
            if (ex instanceof UncheckedIOException io) {
                err.println("come: I/O failure: " + IoFailureException.reason(io.getCause()));
                return 3;
            }
            err.println("come: internal error: " + ex + (debug ? "" : " (rerun with --debug for the stack trace)"));
            return 1;
        });
        try {
            return cl.execute(args);
        } catch (InternalError e) {
            // how the JVM reports SIGBUS on a memory-mapped file that the file system had no room to back
            if (!String.valueOf(e.getMessage()).contains("unsafe memory access")) throw e;
            if (debug) e.printStackTrace(err);
            err.println("come: I/O failure: a memory-mapped temporary file could not be written (is "
                    + System.getProperty("java.io.tmpdir") + " full?); no partial output is left, the input is untouched");
            return 3;
        }
    }
}
