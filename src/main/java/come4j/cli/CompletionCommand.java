package come4j.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "completion", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Print the shell completion script of come (bash; zsh through bashcompinit).", "",
                "Completes commands, options, and file names where an option takes a FILE or DIR. Generated from the commands' definitions, so it always matches this version."},
        footerHeading = "%nExamples:%n",
        footer = {"  source <(come completion)        # in this shell",
                "  come completion > ~/.local/share/bash-completion/completions/come",
                "                                   # in every new bash"})
final class CompletionCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        System.out.print(AutoComplete.bash("come", spec.root().commandLine()));
    }
}
