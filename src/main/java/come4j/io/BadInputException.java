package come4j.io;

import java.nio.file.Path;

/** Input the user gave us is unusable: reported as one line naming the file and the problem, exit code 2. */
public final class BadInputException extends RuntimeException {
    private final Path file;

    public BadInputException(Path file, String problem) {
        super(problem);
        this.file = file;
    }

    public BadInputException(Path file, String problem, Throwable cause) {
        super(problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }

    /** The one line shown to the user. */
    public String line() {
        return file == null ? getMessage() : file + ": " + getMessage();
    }
}
