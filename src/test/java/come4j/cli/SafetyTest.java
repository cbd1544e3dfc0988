package come4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.io.RunFolder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A user's inputs are never written or deleted, whatever the output path; a commit killed at any of its steps
 * (SIGKILL-like halts injected with -Dcome4j.crash-at) is finished by the rerun; a changed input starts afresh; each
 * writing command takes the output's lock; bench records are atomic; scratch of killed runs is freed; a full disk
 * names the file. On the 3-layer fixture, each child JVM with its own temp folder, checked empty at the end.
 */
class SafetyTest {
    @TempDir static Path shared;
    static Path teacher, student;
    static Map<String, String> overwriteReference;
    static final Path PPL = CliTest.PPL.toAbsolutePath();
    Path work, scratch;

    /** A private copy of the fixture (the teacher) and its 3 -> 2 compression (the student). */
    @BeforeAll
    static void models() throws Exception {
        teacher = copy(CliTest.FIXTURE, shared.resolve("teacher"));
        student = shared.resolve("student");
        assertEquals(0, CliTest.run("compress", "--model", teacher.toString(), "--out", student.toString(), "--target-layers", "2",
                "--calib", PPL.toString(), "--seq-len", "32").code());
    }

    @BeforeEach
    void folders(@TempDir Path tmp) throws Exception {
        work = Files.createDirectory(tmp.resolve("work"));
        scratch = Files.createDirectory(tmp.resolve("scratch"));
    }

    static Path copy(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
        return to;
    }

    private List<String> compress(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("compress", "--model", teacher.toString(), "--out", out.toString(), "--target-layers", "2",
                "--calib", PPL.toString(), "--seq-len", "32"));
        a.addAll(List.of(extra));
        return a;
    }

    private List<String> distill(Path teacherDir, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("distill", "--teacher", teacherDir.toString(), "--student", student.toString(),
                "--data", PPL.toString(), "--out", out.toString(), "--steps", "4", "--batch", "2", "--seq-len", "16", "--save-every", "2"));
        a.addAll(List.of(extra));
        return a;
    }

    private List<String> bench(Path model, Path out) {
        return List.of("bench", "--model", model.toString(), "--out", out.toString(), "--sparsity", "0.4", "--methods", "reverse",
                "--ppl", PPL.toString(), "--ppl-seq-len", "32");
    }

    /** `come ARGS` in a child JVM whose temp folder is this test's scratch folder (halted at {@code crashAt} if given). */
    private Child.Result child(String crashAt, List<String> args) throws Exception {
        List<String> jvm = new ArrayList<>(List.of("-Djava.io.tmpdir=" + scratch));
        if (crashAt != null) jvm.add("-Dcome4j.crash-at=" + crashAt);
        return Child.start(0, jvm, args.toArray(String[]::new)).finish();
    }

    /** A reference run, in this JVM (faster; the same bytes as a child's). */
    private static int inProcess(List<String> args) {
        return CliTest.run(args.toArray(String[]::new)).code();
    }

    private static String lastLine(String err) {
        return err.strip().lines().reduce((a, b) -> b).orElse("");
    }

    private static List<String> names(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Nothing but {@code expected} in the work folder, no scratch left, the inputs as they were. */
    private void assertClean(Map<String, String> teacherHashes, String... expected) throws Exception {
        assertEquals(List.of(expected), names(work), "nothing but the output beside it");
        assertEquals(List.of(), names(scratch), "no scratch left in the temp folder");
        assertEquals(teacherHashes, Child.hashes(teacher), "input unchanged");
    }

    @Test
    void noCommandWritesIntoOrDeletesAnInput() throws Exception {
        Map<String, String> before = Child.hashes(teacher);
        Path w = Files.createDirectory(work.resolve("W")), wTeacher = copy(teacher, w.resolve("teacher"));
        CliTest.Run r = CliTest.run(distill(wTeacher, w, "--overwrite").toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(w + ": output folder contains the input " + wTeacher), r.err());

        Path link = Files.createSymbolicLink(work.resolve("L"), wTeacher);
        r = CliTest.run(distill(wTeacher, link.resolve("out")).toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("output folder lies inside the input " + wTeacher), r.err());
        assertEquals(before, Child.hashes(wTeacher), "the teacher is untouched");

        r = CliTest.run(bench(teacher, teacher).toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(teacher + ": output folder is the input " + teacher), r.err());
        assertEquals(before, Child.hashes(teacher), "bench wrote nothing into its model");

        // a model whose name looks like a leftover of the output is an input, not a leftover
        Path p = Files.createDirectory(work.resolve("P")), oldLooking = copy(teacher, p.resolve(".res.old-model"));
        r = CliTest.run(compress(p.resolve("res")).toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of(".res.old-model", "res"), names(p));
        assertEquals(before, Child.hashes(oldLooking));

        // a folder named as the run folder that come did not make is refused, never cleared
        Path foreign = Files.createDirectory(work.resolve(".mine.run"));
        Files.writeString(foreign.resolve("notes.txt"), "mine");
        r = CliTest.run(compress(work.resolve("mine")).toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("is not a come run folder"), r.err());
        assertEquals("mine", Files.readString(foreign.resolve("notes.txt")));
    }

    /** --overwrite of an old output, halted at each step of the commit: the rerun finishes it (exit 0, new output). */
    @ParameterizedTest(name = "halted at {0}")
    @ValueSource(strings = {"committed", "old-output-moved", "new-output-in-place", "run-folder-cleared"})
    void compressCommitHaltedAnywhereIsFinishedByTheRerun(String point) throws Exception {
        Map<String, String> input = Child.hashes(teacher);
        Path out = shared.resolve("out"); // one path for all: the command line is recorded in come-merge.json
        List<String> args = compress(out, "--overwrite");
        if (overwriteReference == null) {
            assertEquals(0, CliTest.run(args.toArray(String[]::new)).code());
            overwriteReference = Child.hashes(out);
        }
        deleteTree(out);
        Files.createDirectory(out);
        Files.writeString(out.resolve("old.txt"), "the previous output");

        assertEquals(137, child(point, args).code(), "halted at " + point);
        Child.Result rerun = child(null, args);
        assertEquals(0, rerun.code(), rerun.err());
        assertTrue(rerun.err().contains("its commit is now finished"), rerun.err());
        assertEquals(overwriteReference, Child.hashes(out));
        assertEquals(List.of("out", "student", "teacher"), names(shared), "nothing but the output beside it");
        assertClean(input);
        deleteTree(out);
    }

    @Test
    void distillAndDistillEachCommitsHaltedAreFinished() throws Exception {
        Map<String, String> input = Child.hashes(teacher);
        Path out = work.resolve("d");
        List<String> args = distill(teacher, out, "--overwrite");
        assertEquals(0, inProcess(args));
        Map<String, String> reference = Child.hashes(out);
        assertEquals(137, child("old-output-moved", args).code());
        Child.Result rerun = child(null, args);
        assertEquals(0, rerun.code(), rerun.err());
        assertEquals(reference, Child.hashes(out));

        Path mp = work.resolve("mp");
        List<String> each = compress(mp, "--distill-each", "--distill-data", PPL.toString(), "--distill-steps", "3");
        assertEquals(0, inProcess(each));
        Map<String, String> mpReference = Child.hashes(mp);
        deleteTree(mp);
        assertEquals(137, child("committed", each).code());
        rerun = child(null, each);
        assertEquals(0, rerun.code(), rerun.err());
        assertEquals(mpReference, Child.hashes(mp));
        assertClean(input, "d", "mp");
    }

    /** After a halt, an input rewritten in place (same size, modification time set back) is noticed: a fresh start. */
    @Test
    void anInputChangedInPlaceStartsAfresh() throws Exception {
        Path model = copy(teacher, work.resolve("model")), out = work.resolve("out"), shard = model.resolve("model.safetensors");
        List<String> args = new ArrayList<>(compress(out));
        args.set(2, model.toString());
        assertEquals(137, child("committed", args).code());
        FileTime mtime = Files.getLastModifiedTime(shard);
        try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            long at = ch.size() - 1; // the last byte: the low bits of the last weight, still finite
            ch.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 1)).rewind();
            ch.write(b, at);
        }
        Files.setLastModifiedTime(shard, mtime);
        Child.Result rerun = child(null, args);
        assertEquals(0, rerun.code(), rerun.err());
        assertTrue(rerun.err().contains("starting afresh") && rerun.err().contains("input_files"), rerun.err());
        Map<String, String> resumed = Child.hashes(out);
        deleteTree(out);
        assertEquals(0, inProcess(args));
        assertEquals(Child.hashes(out), resumed, "the same output as a fresh run on the changed input");

        Path d = work.resolve("d");
        List<String> dargs = distill(model, d);
        assertEquals(137, child("committed", dargs).code());
        Files.setLastModifiedTime(model.resolve("config.json"), FileTime.fromMillis(0)); // the teacher "changed"
        rerun = child(null, dargs);
        assertEquals(0, rerun.code(), rerun.err());
        assertTrue(rerun.err().contains("starting afresh") && rerun.err().contains("teacher_files"), rerun.err());
    }

    /** One run per output: a second distill or bench is refused at once, naming the holder. */
    @ParameterizedTest
    @ValueSource(strings = {"distill", "bench"})
    void aSecondRunOnTheSameOutputIsRefused(String command) throws Exception {
        Path out = work.resolve("out");
        try (RunFolder held = RunFolder.open(out, "another run's settings")) {
            held.save("state", new byte[] {1});
            Child.Result r = child(null, command.equals("distill") ? distill(teacher, out) : bench(teacher, out));
            assertEquals(2, r.code(), r.err());
            assertTrue(lastLine(r.err()).startsWith("come: " + out + ": another come run (process " + ProcessHandle.current().pid()
                    + ") is writing this output"), r.err());
            assertFalse(Files.exists(out));
        }
    }

    @Test
    void benchCellsAreAtomicAndAnUnreadableRecordIsRecomputed() throws Exception {
        Map<String, String> input = Child.hashes(teacher);
        Path out = work.resolve("b"), record = out.resolve("cells/reverse_0.4/results.json");
        List<String> args = bench(teacher, out);
        assertEquals(0, inProcess(args));
        double ppl = new ObjectMapper().readTree(record.toFile()).get("ppl").elements().next().get("ppl").asDouble();
        Files.writeString(record, ""); // as a run killed while writing it left it before records were atomic
        Child.Result rerun = child(null, args);
        assertEquals(0, rerun.code(), rerun.err());
        assertTrue(rerun.err().contains(record + " cannot be read"), rerun.err());
        assertEquals(ppl, new ObjectMapper().readTree(record.toFile()).get("ppl").elements().next().get("ppl").asDouble());

        deleteTree(out);
        assertEquals(137, child("run-folder-cleared", args).code()); // the cell's checkpoint is in place, its record not
        rerun = child(null, args);
        assertEquals(0, rerun.code(), rerun.err());
        JsonNode b = new ObjectMapper().readTree(out.resolve("bench.json").toFile());
        assertEquals(List.of(), toList(b.get("failed")));
        assertEquals(ppl, new ObjectMapper().readTree(record.toFile()).get("ppl").elements().next().get("ppl").asDouble());
        try (Stream<Path> all = Files.walk(out)) {
            List<String> hidden = all.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
            assertEquals(List.of(), hidden, "no run folder or temporary file left in the bench folder");
        }
        assertClean(input, "b");
    }

    private static List<JsonNode> toList(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    /**
     * Scratch folders whose owner is gone are freed on start, whether the owner is in the name (this version) or in a
     * mark (earlier versions); a live owner's and unmarked ones are left alone.
     */
    @Test
    void scratchOfDeadRunsIsFreedOnStart() throws Exception {
        // a process that lives until its start time is read: one that exits at once may already have no start time
        Process gone = new ProcessBuilder("sleep", "60").start();
        long start = gone.info().startInstant().orElseThrow().toEpochMilli();
        gone.destroyForcibly().waitFor();
        Path stale = Files.createDirectory(scratch.resolve("come4j-activations1"));
        Files.writeString(stale.resolve(".come4j-owner"), gone.pid() + " " + start);
        Files.write(stale.resolve("b0"), new byte[3_000_000]);
        Path live = Files.createDirectory(scratch.resolve("come4j-scratch2"));
        Files.writeString(live.resolve(".come4j-owner"), ProcessHandle.current().pid() + " "
                + ProcessHandle.current().info().startInstant().orElseThrow().toEpochMilli());
        Path unmarked = Files.createDirectory(scratch.resolve("come4j-scratch3"));
        Path killedBeforeMark = Files.createDirectory(scratch.resolve("come4j-scratch-" + gone.pid() + "_" + start + "-42"));
        Files.write(killedBeforeMark.resolve("b0"), new byte[1_000_000]);
        Child.Result r = child(null, compress(work.resolve("out")));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("freed 4.0 MB of scratch space that 1 killed run left in " + scratch), r.err());
        assertEquals(List.of("come4j-scratch2", "come4j-scratch3"), names(scratch));
        Files.delete(live.resolve(".come4j-owner"));
        Files.delete(live);
        Files.delete(unmarked);
    }

    /** A full disk (ulimit -f) in distill and bench: exit 3, one line naming the output and the file, no partial file. */
    @Test
    void fullDiskInDistillAndBenchNamesTheFile() throws Exception {
        Path d = work.resolve("d"), b = work.resolve("b");
        // a fixed rate: no held-out windows, so the teacher's boundaries stay under the limit and the output's write fails
        for (List<String> args : List.of(distill(teacher, d, "--lr", "1e-4"), bench(teacher, b))) {
            List<String> jvm = List.of("-Djava.io.tmpdir=" + scratch);
            Child.Result r = Child.start(64, jvm, args.toArray(String[]::new)).finish();
            assertEquals(3, r.code(), r.err());
            Path out = args.get(0).equals("distill") ? d : b;
            assertTrue(lastLine(r.err()).startsWith("come: " + out + ": cannot write the ") && lastLine(r.err()).contains("File too large ("),
                    r.err());
        }
        assertFalse(Files.exists(d));
        try (Stream<Path> all = Files.walk(work)) {
            List<Path> partial = all.filter(p -> p.getFileName().toString().endsWith(".tmp") || p.getFileName().toString().equals("output")).toList();
            assertEquals(List.of(), partial, "no partial file");
        }
    }

    static void deleteTree(Path dir) throws Exception {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
