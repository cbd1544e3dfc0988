package come4j.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * One run that writes one output folder, under the run-safety rules of docs/reliability.md, implemented here once for
 * `come compress`, `come distill` and every `come bench` cell's checkpoint: the output and its run folder are checked
 * against the inputs and the run folder locked ({@link RunFolder#open}); the scratch folders of killed runs are freed;
 * an earlier run of the same key killed while committing is finished, one of another key is discarded (saying which
 * fields changed); the output is built in the run folder ({@link AtomicOutput}) and committed, then the run folder goes;
 * a file that cannot be written or read is one line ({@link IoFailureException}, exit 3) with no partial output left.
 *
 * @param key       what the result depends on: the run folder's state is reused only under the same key
 * @param overwrite whether an existing output may be replaced (once the new one is complete)
 */
public record Job(Path out, String key, Inputs inputs, boolean overwrite) {
    /** Builds the output into {@code output.dir()}, keeping what a rerun may resume from in {@code run}; returns its record. */
    public interface Work<T> {
        T build(RunFolder run, AtomicOutput output) throws IOException;
    }

    /** The record of an output that an earlier, interrupted run of the same key had committed. */
    public interface Earlier<T> {
        T read(Path out) throws IOException;
    }

    /** Runs {@code work} (or finishes an earlier run's commit and returns {@code earlier}'s record); progress goes to {@code log}. */
    public <T> T run(Consumer<String> log, Earlier<T> earlier, Work<T> work) {
        try (RunFolder run = RunFolder.open(out, key, inputs)) {
            TempFolder.freeStale().line().ifPresent(log);
            if (run.finishedEarlier()) {
                run.complete();
                log.accept(out + " was written by an interrupted run of this command; its commit is now finished");
                return earlier.read(out);
            }
            run.discarded().ifPresent(why -> log.accept("starting afresh: the interrupted run's state no longer matches (" + why + " changed)"));
            try (AtomicOutput output = AtomicOutput.create(run, out, overwrite)) {
                T result = work.build(run, output);
                output.commit();
                run.complete();
                return result;
            }
        } catch (IOException | UncheckedIOException e) {
            throw new IoFailureException(out, "cannot write the output (partial output removed, inputs untouched)",
                    e instanceof UncheckedIOException u ? u.getCause() : (IOException) e);
        }
    }
}
