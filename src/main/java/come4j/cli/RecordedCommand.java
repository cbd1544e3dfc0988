package come4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The command line as the records (come-merge.json, come-distill.json, bench.json) keep it: every path argument made
 * absolute, so the command can be rerun from any folder, and quoted for a POSIX shell where needed.
 */
final class RecordedCommand {
    private RecordedCommand() {}

    static String of(CommandSpec spec) {
        List<String> out = new ArrayList<>(List.of("come", spec.name()));
        OptionSpec option = null;
        int taken = 0;
        List<String> args = spec.commandLine().getParseResult().originalArgs();
        // the root command's parse passes the subcommand's name too; a command run on its own (come demo) does not
        if (!args.isEmpty() && args.getFirst().equals(spec.name())) args = args.subList(1, args.size());
        for (String arg : args) {
            int eq = arg.indexOf('=');
            OptionSpec named = arg.startsWith("-") ? spec.findOption(eq > 0 ? arg.substring(0, eq) : arg) : null;
            if (named != null) {
                option = named;
                taken = 0;
                out.add(eq > 0 && named.arity().max() > 0 ? arg.substring(0, eq + 1) + value(named, arg.substring(eq + 1)) : arg);
                if (eq > 0) taken = 1;
            } else {
                ArgSpec owner = option != null && taken < option.arity().max() ? option : null;
                out.add(owner == null ? arg : value(owner, arg));
                taken++;
            }
        }
        return String.join(" ", out.stream().map(RecordedCommand::quote).toList());
    }

    /**
     * A path-typed value made absolute when it names something that exists or is the output (--out, not yet written);
     * anything else (a Hugging Face Hub id such as org/name) is kept as typed.
     */
    private static String value(ArgSpec a, String v) {
        boolean path = a.type() == Path.class || a.auxiliaryTypes().length > 0 && a.auxiliaryTypes()[0] == Path.class;
        if (!path || v.isEmpty()) return v;
        Path p = Path.of(v).toAbsolutePath().normalize();
        boolean out = a instanceof OptionSpec o && o.longestName().equals("--out");
        return out || Files.exists(p) ? p.toString() : v;
    }

    private static String quote(String s) {
        return s.matches("[A-Za-z0-9_@%+=:,./-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }
}
