package come4j.cli;

import picocli.CommandLine;

/** The version every command prints for --version and records in its run keys. */
public final class Version implements CommandLine.IVersionProvider {
    public static final String TEXT = "come4j 0.1.0";

    @Override
    public String[] getVersion() {
        return new String[] {TEXT};
    }
}
