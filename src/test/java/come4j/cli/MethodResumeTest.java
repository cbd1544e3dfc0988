package come4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.distill.Methods;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every method of `come compress` (the registry's names, methods followed by distillation, schedule mp), halted as
 * SIGKILL would right after a committed step was saved, then rerun: the rerun replays the saved steps and writes the
 * bytes of an uninterrupted run. The 8-layer model goes to 6 layers, so iterative methods have a step left to compute.
 */
class MethodResumeTest {
    @TempDir static Path shared;
    static Path model;

    @BeforeAll
    static void model() throws Exception {
        model = ResumeTest.model8(shared.resolve("model8"));
    }

    /** (method, where the first run is halted, extra options). */
    static Stream<Arguments> runs() {
        List<Arguments> runs = new ArrayList<>();
        for (String m : Methods.names()) runs.add(Arguments.of(m, "saved step 1", List.of()));
        for (String m : List.of("come", "streamline")) // after a merge and after a trained span; the distillation code is one for all
            runs.add(Arguments.of(m + "+distill", "saved distill", List.of()));
        runs.add(Arguments.of("come-p", "saved step 1", List.of("--distill-each"))); // schedule mp
        return runs.stream();
    }

    @ParameterizedTest(name = "{0} {2} halted at ''{1}''")
    @MethodSource("runs")
    void haltedAfterASavedStepResumesToTheSameBytes(String method, String haltAt, List<String> extra, @TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        String[] args = args(method, out, extra);
        CliTest.Run whole = CliTest.run(args);
        assertEquals(0, whole.code(), whole.err());
        Map<String, String> reference = Child.hashes(out);
        come4j.io.TempFolder.deleteTree(out);

        Child.Result halted = Child.run(List.of("-Dcome4j.crash-at=" + haltAt), args);
        assertEquals(137, halted.code(), halted.err());
        CliTest.Run rerun = CliTest.run(args);
        assertEquals(0, rerun.code(), rerun.err());
        String resumed = haltAt.equals("saved step 1") ? "resuming after step 1 " : "resuming after step ";
        assertTrue(rerun.err().contains(resumed), "the rerun replays the saved steps: " + rerun.err());
        assertEquals(reference, Child.hashes(out), rerun.err());
        try (var left = Files.list(tmp)) {
            assertEquals(List.of(out), left.toList(), "the run folder is gone");
        }
    }

    static String[] args(String method, Path out, List<String> extra) {
        // MKA's mutual information needs more windows than its k nearest neighbours; CoMe-P tries 3 ratios
        String samples = method.startsWith("mka") ? "6" : "2";
        List<String> a = new ArrayList<>(List.of("compress", "--model", model.toString(), "--out", out.toString(), "--target-layers", "6",
                "--method", method, "--calib", CliTest.PPL.toString(), "--calib-samples", samples, "--calib-seq-len", "32", "--granularity", "2"));
        if (method.endsWith("+distill") || extra.contains("--distill-each"))
            a.addAll(List.of("--distill-data", CliTest.PPL.toString(), "--distill-steps", "2"));
        a.addAll(extra);
        return a.toArray(String[]::new);
    }
}
