package come4j.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.security.MessageDigest;
import java.util.stream.Stream;

/** `come` in a child JVM on the test classpath, so that tests can kill it, limit it, or run two at once. */
final class Child {
    record Result(int code, String err) {}

    private final Process process;
    private final BufferedReader err;
    private final StringBuilder seen = new StringBuilder();

    private Child(Process process) {
        this.process = process;
        this.err = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
    }

    /** Starts {@code come args}; with {@code fileSizeLimitKb > 0}, under `ulimit -f` (files larger fail with EFBIG). */
    static Child start(long fileSizeLimitKb, String... args) throws IOException {
        return start(fileSizeLimitKb, List.of(), args);
    }

    /** As above, with extra JVM options (e.g. -Djava.io.tmpdir=...). */
    static Child start(long fileSizeLimitKb, List<String> jvmOptions, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true"));
        cmd.addAll(jvmOptions);
        for (String p : List.of("come4j.backend", "come4j.dtype")) // the suite's backend (./test -Dcome4j.backend=onednn)
            if (System.getProperty(p) != null) cmd.add("-D" + p + "=" + System.getProperty(p));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        if (fileSizeLimitKb > 0) {
            List<String> quoted = cmd.stream().map(a -> "'" + a.replace("'", "'\\''") + "'").toList();
            cmd = List.of("bash", "-c", "ulimit -f " + fileSizeLimitKb + " && exec " + String.join(" ", quoted));
        }
        return new Child(new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
    }

    /** Reads the child's stderr until a line containing {@code text}; false if it ended first. */
    boolean awaitLine(String text) throws IOException {
        for (String line; (line = err.readLine()) != null; ) {
            seen.append(line).append('\n');
            if (line.contains(text)) return true;
        }
        return false;
    }

    /**
     * SIGKILL, as the OOM killer would end it: no shutdown hooks, no finally blocks. Returns false if the child had
     * already exited (with code 0: it finished).
     */
    boolean kill() throws InterruptedException {
        process.destroyForcibly();
        return process.waitFor() != 0;
    }

    /** SIGINT, as Ctrl-C sends it. */
    void interrupt() throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).start().waitFor();
    }

    Result finish() throws IOException, InterruptedException {
        for (String line; (line = err.readLine()) != null; ) seen.append(line).append('\n');
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("child did not finish: " + seen);
        }
        return new Result(process.exitValue(), seen.toString());
    }

    static Result run(String... args) throws IOException, InterruptedException {
        return start(0, args).finish();
    }

    static Result run(List<String> jvmOptions, String... args) throws IOException, InterruptedException {
        return start(0, jvmOptions, args).finish();
    }

    /**
     * SHA-256 of every file below {@code dir}, by relative path: equal maps mean byte-identical folders, but for the
     * measured step times (come-merge.json's "seconds", report.html's {@code <span class="t">}), the only bytes that
     * differ between runs.
     */
    static Map<String, String> hashes(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                byte[] bytes = Files.readAllBytes(f);
                String name = f.getFileName().toString();
                if (name.equals("come-merge.json") || name.equals("report.html"))
                    bytes = new String(bytes, java.nio.charset.StandardCharsets.UTF_8).replaceAll("\"seconds\" : [-0-9.eE]+", "\"seconds\" : T")
                            .replaceAll("<span class=\"t\">[^<]*</span>", "T").getBytes(java.nio.charset.StandardCharsets.UTF_8);
                out.put(dir.relativize(f).toString(), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
            }
        }
        return out;
    }
}
