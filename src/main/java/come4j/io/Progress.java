package come4j.io;

import java.io.PrintStream;

/**
 * A progress bar on stderr when it is a terminal; silent otherwise (CI logs, pipes), so logs stay readable.
 */
public final class Progress implements AutoCloseable {
    private static final boolean TERMINAL = System.console() != null && System.console().isTerminal();
    private static final Progress QUIET = new Progress("", 0, "", null);

    private final String label, unit;
    private final long total;
    private final PrintStream out;
    private final long start = System.nanoTime();
    private long done, lastDraw;
    private String note = "";

    private Progress(String label, long total, String unit, PrintStream out) {
        this.label = label;
        this.total = total;
        this.unit = unit;
        this.out = out;
    }

    /** A bar for {@code total} units of work (shown only on a terminal). */
    public static Progress start(String label, long total, String unit) {
        return TERMINAL ? new Progress(label, total, unit, System.err) : QUIET;
    }

    public void step(long n) {
        step(n, note);
    }

    /** Advances and shows {@code note} (e.g. the current loss) after the rate. */
    public synchronized void step(long n, String note) {
        this.note = note;
        done += n;
        long now = System.nanoTime();
        if (out != null && (now - lastDraw > 100_000_000L || done >= total)) {
            lastDraw = now;
            draw(now);
        }
    }

    private void draw(long now) {
        double secs = (now - start) / 1e9, frac = total == 0 ? 1 : Math.min(1, (double) done / total);
        int width = 30, full = (int) Math.round(frac * width);
        double rate = secs > 0 ? done / secs : 0;
        String eta = rate > 0 && done < total ? String.format(" eta %.0fs", (total - done) / rate) : "";
        out.printf("\r%s [%s%s] %d/%d %s %.1f %s/s%s%s   ", label, "#".repeat(full), ".".repeat(width - full),
                done, total, unit, rate, unit, note.isEmpty() ? "" : " " + note, eta);
        out.flush();
    }

    @Override
    public void close() {
        if (out != null) {
            draw(System.nanoTime());
            out.println();
        }
    }
}
