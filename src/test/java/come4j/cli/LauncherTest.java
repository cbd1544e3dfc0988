package come4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The `come` launcher as users run it: the JVM's incubator-module notice never reaches them, everything else does
 * (lines, exit codes), on a pipe and on a terminal. It runs from a copy of the launcher beside a jar whose manifest
 * points at the test classpath, so nothing is built.
 */
class LauncherTest {
    static final String NOTICE = "WARNING: Using incubator modules: jdk.incubator.vector";

    @TempDir
    static Path home;

    record Result(int code, String out, String err) {}

    @BeforeAll
    static void install() throws IOException {
        Files.createDirectories(home.resolve("tools"));
        Files.createDirectories(home.resolve("target/lib"));
        Files.copy(Path.of("come"), home.resolve("come"));
        Files.copy(Path.of("tools/jdk.sh"), home.resolve("tools/jdk.sh"));
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.CLASS_PATH, java.util.Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(p -> Path.of(p).toAbsolutePath().toUri().toString()).collect(Collectors.joining(" ")));
        try (OutputStream o = Files.newOutputStream(home.resolve("target/come4j.jar")); JarOutputStream j = new JarOutputStream(o, m)) {
            // the manifest is the whole jar
        }
    }

    static Result come(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", home.resolve("come").toString()));
        cmd.addAll(List.of(args));
        return exec(cmd);
    }

    static Result exec(List<String> cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        p.getOutputStream().close();
        var err = p.getErrorStream();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.waitFor(), out, new String(err.readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void noNoticeOnStderrAndEveryOtherLineWithItsExitCode() throws Exception {
        Result v = come("--version");
        assertEquals(0, v.code(), v.err());
        assertEquals(Version.TEXT + "\n", v.out());
        assertEquals("", v.err());

        Result bad = come("inspect", "--model", home.resolve("nope").toString());
        assertEquals(2, bad.code());
        assertEquals("come: " + home.resolve("nope") + ": not a checkpoint folder (does not exist or is not a directory)\n", bad.err());

        Result usage = come("inspect", "--modle", "x");
        assertEquals(2, usage.code());
        assertEquals("come: unknown option '--modle' (did you mean --model?); see 'come inspect --help'\n", usage.err());
    }

    @Test
    void onATerminalToo() throws Exception {
        if (exec(List.of("bash", "-c", "command -v script")).code() != 0) return; // util-linux's script gives the terminal
        Result r = exec(List.of("script", "-qec", "bash '" + home.resolve("come") + "' inspect --model /nope", "/dev/null"));
        assertEquals(2, r.code(), r.out());
        assertFalse(r.out().contains(NOTICE), r.out());
        assertTrue(r.out().strip().startsWith("come: /nope: not a checkpoint folder"), r.out());
    }
}
