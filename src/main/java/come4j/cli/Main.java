package come4j.cli;

import come4j.io.BadInputException;
import come4j.io.IoFailureException;
import come4j.io.Suggestion;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

@Command(name = "come", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Compress LLaMA-family language models by merging their layers (CoMe), in pure Java.", ""},
        subcommands = {DemoCommand.class, CompressCommand.class, BenchCommand.class, InspectCommand.class, EvalCommand.class, GenerateCommand.class, LatencyCommand.class,
                LogitsCommand.class, DistillCommand.class, CompletionCommand.class,
                CommandLine.HelpCommand.class},
        footerHeading = "%nExamples:%n",
        footer = {"  come demo",
                "  come inspect --model " + Examples.MODEL,
                "  come compress --model " + Examples.MODEL + " --sparsity 0.3 \\",
                "      --out out/sotu-come30",
                "  come COMMAND --help",
                "",
                "Exit codes: 0 success, 1 internal error, 2 bad input or usage (also: another",
                "run is writing the output), 3 a file cannot be written or read (disk full,",
                "unwritable folder: no partial output is left, the input is untouched).",
                "Add --debug for stack traces."})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        LauncherStderr.restore();
        Thread onSignal = new Thread(() -> // Ctrl-C: one line on what was saved; the JVM exits 130
                System.err.println((System.console() != null ? "\n" : "") + "come: " + come4j.io.RunFolder.interruptedLine()));
        Runtime.getRuntime().addShutdownHook(onSignal);
        int code = execute(args, System.err);
        Runtime.getRuntime().removeShutdownHook(onSignal);
        System.exit(code);
    }

    /**
     * Runs the CLI and returns its exit code. Commands log to {@code err}; bad input is one line naming the file and
     * the problem, code 2, and so is a usage error.
     */
    public static int execute(String[] args, PrintStream err) {
        boolean debug = Arrays.asList(args).contains("--debug");
        CommandLine cl = new CommandLine(new Main());
        cl.setErr(new PrintWriter(err, true));
        cl.setParameterExceptionHandler((ex, a) -> {
            if (debug) ex.printStackTrace(err);
            CommandLine cmd = ex.getCommandLine();
            err.println("come: " + usageProblem(ex) + "; see '" + cmd.getCommandSpec().qualifiedName() + " --help'");
            return 2;
        });
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
        cl.setExecutionStrategy(parsed -> {
            CommandLine.ParseResult command = parsed;
            while (command.hasSubcommand()) command = command.subcommand();
            come4j.tensor.Backends.hintAtDefaultDtype(!command.hasMatchedOption("--dtype") && System.getProperty("come4j.dtype") == null);
            return new CommandLine.RunLast().execute(parsed);
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

    /**
     * What is wrong with the command line, in one line. An unknown option is named first, with the closest known one:
     * picocli would report the required option it hides (`--modle DIR` leaves --model missing).
     */
    static String usageProblem(CommandLine.ParameterException ex) {
        CommandSpec spec = ex.getCommandLine().getCommandSpec();
        List<String> unmatched = ex instanceof CommandLine.UnmatchedArgumentException u ? u.getUnmatched()
                : ex.getCommandLine().getParseResult() == null ? List.of() : ex.getCommandLine().getParseResult().unmatched();
        if (!unmatched.isEmpty()) {
            String arg = unmatched.getFirst();
            if (arg.startsWith("-") && !arg.matches("-\\d.*")) {
                String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
                return "unknown option '" + name + "'" + Suggestion.didYouMean(name, optionNames(spec));
            }
            return spec.subcommands().isEmpty() ? "unexpected argument '" + arg + "'"
                    : "unknown command '" + arg + "'" + Suggestion.didYouMean(arg, spec.subcommands().keySet());
        }
        String message = String.valueOf(ex.getMessage()).replace("\n", " ").strip().replaceFirst("^Error: ", "").replaceFirst("\\.$", "");
        var help = java.util.regex.Pattern.compile("Unknown subcommand '(.+)'").matcher(message); // come help NAME
        if (help.matches()) return "unknown command '" + help.group(1) + "'" + Suggestion.didYouMean(help.group(1), spec.root().subcommands().keySet());
        if (message.isEmpty()) return "invalid command line";
        return Character.toLowerCase(message.charAt(0)) + message.substring(1); // as the other come: lines
    }

    private static List<String> optionNames(CommandSpec spec) {
        List<String> names = new ArrayList<>();
        for (OptionSpec o : spec.options()) names.addAll(Arrays.asList(o.names()));
        return names;
    }
}
