package come4j.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;

/** Files could not be written or read (disk full, file size limit, no permission): one line naming the file, exit code 3. */
public final class IoFailureException extends RuntimeException {
    private final Path file;

    public IoFailureException(Path file, String doing, IOException cause) {
        super(doing + ": " + reason(cause), cause);
        this.file = file;
    }

    /** The one line shown to the user. */
    public String line() {
        return file + ": " + getMessage();
    }

    /** What the system said, with the file it concerns when that is not the one named first. */
    public static String reason(IOException e) {
        if (e instanceof AccessDeniedException a) return "permission denied (" + a.getFile() + ")";
        if (e instanceof FileSystemException f)
            return (f.getReason() != null ? f.getReason() : f.getClass().getSimpleName()) + (f.getFile() != null ? " (" + f.getFile() + ")" : "");
        return String.valueOf(e.getMessage());
    }
}
