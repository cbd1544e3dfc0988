package come4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.RunFolder;
import come4j.io.SafeTensorsWriter;
import come4j.io.TensorData;
import come4j.io.TensorSpec;
import come4j.model.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * `come compress` in child JVMs that are killed (SIGKILL), limited or doubled: a rerun of the same command resumes and
 * writes exactly the bytes of an uninterrupted run; a full disk or an unwritable folder is one line and exit code 3
 * with nothing half-written left; a second run on the same output is refused while the first holds it.
 */
class ResumeTest {
    @TempDir static Path shared;
    static Path model, work, out;
    static Map<String, String> reference;

    /** An 8-layer model (the 3 fixture layers repeated), so that 8 -> 3 takes five merge steps. */
    @BeforeAll
    static void modelAndUninterruptedOutput() throws Exception {
        model = model8(shared.resolve("model8"));
        work = shared.resolve("work");
        out = work.resolve("out"); // every run writes here: the command line, recorded in come-merge.json, is the same
        emptyWork();
        CliTest.Run r = CliTest.run(args(out));
        assertEquals(0, r.code(), r.err());
        reference = Child.hashes(out);
    }

    /** Writes the 8-layer model (the fixture's 3 layers repeated) into the new folder {@code dir}. */
    static Path model8(Path dir) throws Exception {
        Path model = Files.createDirectory(dir);
        Pattern layer = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");
        try (Checkpoint in = Checkpoint.open(CliTest.FIXTURE)) {
            Map<String, TensorData> plan = new LinkedHashMap<>();
            for (var e : in.tensors().entrySet()) {
                Matcher m = layer.matcher(e.getKey());
                if (!m.matches()) plan.put(e.getKey(), e.getValue());
                else if (m.group(1).equals("0"))
                    for (int i = 0; i < 8; i++) plan.put("model.layers." + i + "." + m.group(2), in.tensors().get("model.layers." + i % 3 + "." + m.group(2)));
            }
            List<TensorSpec> specs = new ArrayList<>();
            plan.forEach((n, t) -> specs.add(new TensorSpec(n, t.dtype(), t.shape())));
            try (SafeTensorsWriter w = new SafeTensorsWriter(model, specs)) {
                for (var e : plan.entrySet()) w.write(e.getKey(), e.getValue().data());
                w.finish();
            }
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(CliTest.FIXTURE.resolve("config.json").toFile());
        config.put("num_hidden_layers", 8);
        json.writeValue(model.resolve("config.json").toFile(), config);
        for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"))
            Files.copy(CliTest.FIXTURE.resolve(f), model.resolve(f));
        return model;
    }

    @BeforeEach
    void clean() throws Exception {
        emptyWork();
    }

    static void emptyWork() throws Exception {
        if (Files.exists(work)) try (var files = Files.walk(work)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
        Files.createDirectories(work);
    }

    static String[] args(Path out) {
        return new String[] {"compress", "--model", model.toString(), "--out", out.toString(), "--target-layers", "3",
                "--calib", CliTest.PPL.toString(), "--calib-samples", "2", "--calib-seq-len", "32"};
    }

    /** Kills a run when it logs {@code line} (after {@code delayMs}), reruns to the end, compares with the reference. */
    @ParameterizedTest(name = "killed {1} ms after ''{0}''")
    @CsvSource({"calibration:, 0", "step 1:, 0", "step 3:, 2", "step 5:, 3"})
    void killedRunResumesToTheSameBytes(String line, int delayMs, @TempDir Path scratch) throws Exception {
        List<String> tmp = List.of("-Djava.io.tmpdir=" + scratch);
        Child first = Child.start(0, tmp, args(out));
        assertTrue(first.awaitLine(line), "the run ended before logging '" + line + "'");
        Thread.sleep(delayMs);
        Assumptions.assumeTrue(first.kill(), "the run finished before it could be killed");
        boolean leftScratch = !names(scratch).isEmpty();
        Child.Result rerun = Child.run(tmp, args(out));
        assertEquals(0, rerun.code(), rerun.err());
        if (line.matches("step [1-4]:")) assertTrue(rerun.err().contains("resuming after step "), rerun.err());
        assertEquals(leftScratch, rerun.err().contains("of scratch space that 1 killed run left in " + scratch), rerun.err());
        assertEquals(reference, Child.hashes(out), rerun.err());
        assertOnlyOutputLeft();
        assertEquals(List.of(), names(scratch), "the killed run's scratch is freed, the rerun's removed");
    }

    /**
     * A `come bench` cell killed in the middle of its compression (SIGKILL after its second merge step): the rerun
     * resumes the cell from its saved steps, as `come compress` does, and ends with the cell's checkpoint and results
     * (timings aside) of an uninterrupted bench.
     */
    @Test
    void killedBenchCellResumesToTheSameBytes() throws Exception {
        Path bench = work.resolve("bench"), cell = bench.resolve("cells/come_0.55");
        // 0.55 of this model's parameters are 5 of its 8 layers: five merge steps, as in the compress runs above
        String[] args = {"bench", "--model", model.toString(), "--out", bench.toString(), "--methods", "come", "--sparsity", "0.55",
                "--ppl", CliTest.PPL.toString(), "--ppl-seq-len", "32", "--calib", CliTest.PPL.toString(), "--calib-samples", "2",
                "--calib-seq-len", "32"};
        CliTest.Run straight = CliTest.run(args);
        assertEquals(0, straight.code(), straight.err());
        Map<String, String> checkpoint = Child.hashes(cell.resolve("model"));
        var cells = untimed(bench);
        assertEquals(3, cells.get(1).get("layers").asInt());
        emptyWork();

        Child first = Child.start(0, args);
        assertTrue(first.awaitLine("come 0.55: step 2:"), "the bench ended before the cell's second step");
        Assumptions.assumeTrue(first.kill(), "the bench finished before it could be killed");
        Child.Result rerun = Child.run(args);
        assertEquals(0, rerun.code(), rerun.err());
        assertTrue(rerun.err().contains("come 0.55: resuming after step "), rerun.err());
        assertFalse(rerun.err().contains("come 0.55: step 1:"), "finished steps are not redone: " + rerun.err());
        assertEquals(checkpoint, Child.hashes(cell.resolve("model")));
        assertEquals(cells, untimed(bench));
        assertEquals(List.of("model", "results.json"), names(cell), "the cell's run folder is gone");
        assertEquals(List.of("bench"), names(work));
    }

    /** bench.json's cells without the measured times (every "seconds" and "*_seconds" field). */
    private static com.fasterxml.jackson.databind.JsonNode untimed(Path bench) throws Exception {
        var cells = new ObjectMapper().readTree(bench.resolve("bench.json").toFile()).get("cells");
        List<com.fasterxml.jackson.databind.JsonNode> objects = new ArrayList<>(List.of(cells));
        while (!objects.isEmpty()) {
            var n = objects.removeLast();
            if (n instanceof ObjectNode o) o.properties().removeIf(e -> e.getKey().equals("seconds") || e.getKey().endsWith("_seconds"));
            n.forEach(objects::add);
        }
        return cells;
    }

    /** Kills at random moments (fixed seed), each rerun killed again, the last left to finish. */
    @Test
    void killedAtRandomMomentsResumesToTheSameBytes(@TempDir Path scratch) throws Exception {
        java.util.Random random = new java.util.Random(12);
        List<String> tmp = List.of("-Djava.io.tmpdir=" + scratch);
        for (int i = 0; i < 2; i++) {
            Child c = Child.start(0, tmp, args(out));
            assertTrue(c.awaitLine("calibration:"));
            Thread.sleep(random.nextInt(800));
            c.kill();
        }
        Child.Result last = Child.run(tmp, args(out));
        assertEquals(0, last.code(), last.err());
        assertEquals(reference, Child.hashes(out), last.err());
        assertOnlyOutputLeft();
        assertEquals(List.of(), names(scratch));
    }

    /** Ctrl-C: exit 130 and one line on what was kept and how to go on; the rerun resumes. */
    @Test
    void interruptSaysWhatWasSavedAndHowToResume() throws Exception {
        Child c = Child.start(0, List.of("-Dcome4j.pause-at=saved step 1"), args(out)); // steps take 0.1 s: Ctrl-C lands in a pause
        assertTrue(c.awaitLine("paused at saved step 1"));
        c.interrupt();
        Child.Result r = c.finish();
        assertEquals(130, r.code(), r.err());
        assertEquals("come: interrupted; no output was written, the finished work is kept in " + work.resolve(".out.run")
                + ": rerun the same command to resume", lastLine(r.err()), r.err());
        Child.Result rerun = Child.run(args(out));
        assertEquals(0, rerun.code(), rerun.err());
        assertTrue(rerun.err().contains("resuming after step "), rerun.err());
        assertEquals(reference, Child.hashes(out));
    }

    private static List<String> names(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void killedTwiceThenFinished() throws Exception {
        for (String line : List.of("step 2:", "step 4:")) {
            Child c = Child.start(0, args(out));
            assertTrue(c.awaitLine(line));
            assertTrue(c.kill());
        }
        Child.Result last = Child.run(args(out));
        assertEquals(0, last.code(), last.err());
        assertTrue(last.err().contains("resuming after step "), last.err());
        assertFalse(last.err().contains("step 1:"), "finished steps are not redone: " + last.err());
        assertEquals(reference, Child.hashes(out));
    }

    @Test
    void fullDiskIsOneLineLeavesNoPartialOutputAndResumesLater() throws Exception {
        Map<String, String> input = Child.hashes(model);
        // 200 KB: the activation files (100 KB) and saved steps (75 KB) fit, the output's model.safetensors (320 KB) does not
        Child.Result r = Child.start(200, args(out)).finish();
        assertEquals(3, r.code(), r.err());
        String last = lastLine(r.err());
        assertTrue(last.startsWith("come: " + out + ": cannot write the output") && last.contains("File too large"), r.err());
        assertFalse(Files.exists(out));
        assertEquals(input, Child.hashes(model), "input untouched");
        try (var siblings = Files.list(work)) {
            assertEquals(List.of(".out.run"), siblings.map(p -> p.getFileName().toString()).toList(), "only the run state is kept");
        }
        Child.Result rerun = Child.run(args(out));
        assertEquals(0, rerun.code(), rerun.err());
        assertTrue(rerun.err().contains("resuming after step 5"), rerun.err());
        assertEquals(reference, Child.hashes(out));
        assertOnlyOutputLeft();
    }

    /** A real ENOSPC where the machine lets us mount a small tmpfs (root with CAP_SYS_ADMIN); skipped elsewhere. */
    @Test
    void fullTmpfsIsOneLineAndLeavesNoPartialOutput(@TempDir Path tmp) throws Exception {
        Path disk = mountTmpfs(tmp, "256k");
        try {
            Path full = disk.resolve("out");
            Child.Result r = Child.run(args(full));
            assertEquals(3, r.code(), r.err());
            assertTrue(lastLine(r.err()).startsWith("come: " + full + ": cannot write the output") && r.err().contains("No space left on device"), r.err());
            assertFalse(Files.exists(full));
            try (var left = Files.list(disk)) {
                assertTrue(left.allMatch(p -> p.getFileName().toString().equals(".out.run")), "nothing but the run state");
            }
        } finally {
            new ProcessBuilder("umount", disk.toString()).start().waitFor();
        }
    }

    /** A full temp folder while activations are written through a memory mapping (SIGBUS in the JVM): exit 3 too. */
    @Test
    void fullTempFolderIsRefusedBeforeWork(@TempDir Path tmp) throws Exception {
        Path disk = mountTmpfs(tmp, "64k");
        try {
            Child.Result r = Child.start(0, List.of("-Djava.io.tmpdir=" + disk), args(out)).finish();
            assertEquals(2, r.code(), r.err());
            assertTrue(lastLine(r.err()).startsWith("come: " + disk + ": the activation cache needs up to "), r.err());
            assertTrue(lastLine(r.err()).contains("-Djava.io.tmpdir=DIR"), r.err());
            assertFalse(Files.exists(out));
            assertOnlyOutputLeftOrNothing();
        } finally {
            new ProcessBuilder("umount", disk.toString()).start().waitFor();
        }
    }

    private static Path mountTmpfs(Path tmp, String size) throws Exception {
        Path disk = Files.createDirectory(tmp.resolve("disk"));
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", disk.toString())
                .redirectErrorStream(true).start();
        Assumptions.assumeTrue(mount.waitFor() == 0, "cannot mount a tmpfs here");
        return disk;
    }

    @Test
    void unwritableOutputFolderIsOneLine(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "not a folder");
        CliTest.Run r = CliTest.run(args(file.resolve("out")));
        assertEquals(3, r.code(), r.err());
        assertTrue(r.err().strip().startsWith("come: " + file.resolve("out") + ": cannot write the output"), r.err());
        assertFalse(r.err().strip().contains("\n"), r.err());
    }

    @Test
    void secondRunOnTheSameOutputIsRefusedWhileTheFirstHoldsIt() throws Exception {
        try (RunFolder held = RunFolder.open(out, "another run's settings")) {
            held.save("state", new byte[] {1});
            Child.Result r = Child.run(args(out));
            assertEquals(2, r.code(), r.err());
            assertTrue(lastLine(r.err()).startsWith("come: " + out + ": another come run (process " + ProcessHandle.current().pid() + ") is writing this output"), r.err());
            assertFalse(Files.exists(out));
            assertEquals(List.of((byte) 1), held.load("state").map(b -> List.of(b[0])).orElseThrow(), "the holder's state is untouched");
        }
    }

    @Test
    void twoRunsAtOnceGiveOneValidOutput() throws Exception {
        Child a = Child.start(0, args(out)), b = Child.start(0, args(out));
        Child.Result ra = a.finish(), rb = b.finish();
        assertEquals(List.of(0, 2), java.util.stream.Stream.of(ra.code(), rb.code()).sorted().toList(), ra.err() + rb.err());
        String refused = (ra.code() == 2 ? ra : rb).err();
        assertTrue(refused.contains("another come run") || refused.contains("output folder already exists"), refused);
        assertEquals(reference, Child.hashes(out));
        assertOnlyOutputLeft();
    }

    /** The child's message (the JVM may print warnings before it). */
    private static String lastLine(String err) {
        return err.strip().lines().reduce((a, b) -> b).orElse("");
    }

    private static void assertOnlyOutputLeftOrNothing() throws Exception {
        try (var files = Files.list(work)) {
            assertTrue(files.allMatch(p -> p.equals(out)), "no run folder or temp folder left beside the output");
        }
    }

    private static void assertOnlyOutputLeft() throws Exception {
        try (var files = Files.list(work)) {
            assertEquals(List.of(out), files.toList(), "no run folder or temp folder left beside the output");
        }
    }
}
