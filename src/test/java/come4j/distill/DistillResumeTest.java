package come4j.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.Fixtures;
import come4j.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `come distill` killed (SIGKILL) at several points of its training and rerun gives the same checkpoint, byte for
 * byte, as a run that was never interrupted; a killed run leaves no output folder. Both with a fixed learning rate and
 * with the automatic schedule (rate search, held-out measurements, early stopping and the best weights kept).
 */
class DistillResumeTest {
    private static final int STEPS = 1500;
    private static final String MERGED_LAYER = "layer-1.state"; // 3 -> 2 layers on this fixture merges layers 1 and 2

    @Test
    void killedAndResumedEqualsUninterrupted(@TempDir Path tmp) throws Exception {
        killAndResume(tmp, List.of("--lr", "1e-4"), MERGED_LAYER, new int[] {10, 600}, 600);
    }

    /**
     * The automatic schedule: killed once during the rate search (before any state is saved, so the search is redone)
     * and once mid-training. With 1500 steps the search runs 150 steps per rate and the held-out loss is measured every
     * 75 steps; on this fixture training stops early (asserted), after the second kill.
     */
    @Test
    void killedAndResumedEqualsUninterruptedWithTheAutomaticSchedule(@TempDir Path tmp) throws Exception {
        killAndResume(tmp, List.of(), MERGED_LAYER, new int[] {-1, 300}, 300);
        var layer = new ObjectMapper().readTree(tmp.resolve("resumed/come-distill.json").toFile()).get("layers").get(0);
        assertEquals(3, layer.get("lr_search").size());
        assertTrue(layer.get("steps_run").asInt() < STEPS, "stopped early at " + layer.get("steps_run"));
    }

    /**
     * The end-to-end stage after a fixed-rate layer-wise stage: killed once inside the end-to-end stage (its state
     * saved at step 300 or later); the rerun replays the layer-wise stage from its saved state and continues there.
     */
    @Test
    void killedAndResumedEqualsUninterruptedInTheEndToEndStage(@TempDir Path tmp) throws Exception {
        killAndResume(tmp, List.of("--lr", "1e-4", "--e2e-steps", Integer.toString(STEPS)), "e2e.state", new int[] {300}, 300);
        var e2e = new ObjectMapper().readTree(tmp.resolve("resumed/come-distill.json").toFile()).get("e2e");
        assertEquals(3, e2e.get("lr_search").size());
        assertEquals(List.of(1), List.of(e2e.get("layers").get(0).asInt()));
    }

    /**
     * kills: the saved step of the training state {@code state} the child is killed at (or after; -1: while it
     * searches, before any state is saved).
     */
    private static void killAndResume(Path tmp, List<String> extra, String state, int[] kills, int resumedAtLeast) throws Exception {
        Path teacher = Fixtures.DIR.resolve("llama3-gqa-f32"), student = tmp.resolve("student");
        assertEquals(0, Main.execute(new String[] {"compress", "--model", teacher.toString(), "--out", student.toString(),
                "--target-layers", "2", "--calib", Fixtures.PPL_TEXT.toString(), "--calib-seq-len", "32"}, new PrintStream(new ByteArrayOutputStream())));
        assertEquals(0, run(distill(teacher, student, tmp.resolve("straight"), extra)));

        Path out = tmp.resolve("resumed"), runDir = tmp.resolve(".resumed.run");
        List<String> args = distill(teacher, student, out, extra);
        for (int atLeast : kills) { // kill once early, once well into training
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                    "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                    "-Dcome4j.backend=" + System.getProperty("come4j.backend", "auto"), // the suite's backend, as in this JVM
                    "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            cmd.addAll(args);
            Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
            if (atLeast < 0) // while searching: the teacher's pass is done and no state is saved yet
                while (child.isAlive() && !(Files.readString(tmp.resolve("child.log")).contains("distilling") && Files.isDirectory(runDir)
                        && !Files.exists(runDir.resolve(MERGED_LAYER)))) Thread.sleep(2);
            else while (child.isAlive() && savedStep(runDir.resolve(state)) < atLeast) Thread.sleep(2);
            if (atLeast < 0) Thread.sleep(300);
            assertTrue(atLeast >= 0 || !Files.exists(runDir.resolve(MERGED_LAYER)), "killed during the search");
            assertTrue(child.isAlive(), "the child finished before it could be killed: " + Files.readString(tmp.resolve("child.log")));
            child.destroyForcibly().waitFor(); // SIGKILL
            assertFalse(Files.exists(out), "a killed run leaves no output");
        }
        int before = savedStep(runDir.resolve(state));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, Main.execute(args.toArray(String[]::new), new PrintStream(err)));
        assertTrue(before >= resumedAtLeast && before < STEPS, "resumed from step " + before);
        assertTrue(err.toString().contains("resuming at step " + before), err.toString());
        assertArrayEquals(Files.readAllBytes(tmp.resolve("straight/model.safetensors")), Files.readAllBytes(out.resolve("model.safetensors")));
        var mapper = new ObjectMapper();
        var straight = mapper.readTree(tmp.resolve("straight/come-distill.json").toFile());
        var resumed = mapper.readTree(out.resolve("come-distill.json").toFile());
        assertEquals(straight.get("layers"), resumed.get("layers"), "same loss curve");
        if (straight.has("e2e")) { // the seconds differ: each run times its own part
            ((com.fasterxml.jackson.databind.node.ObjectNode) straight.get("e2e")).remove("seconds");
            ((com.fasterxml.jackson.databind.node.ObjectNode) resumed.get("e2e")).remove("seconds");
            assertEquals(straight.get("e2e"), resumed.get("e2e"), "same end-to-end record");
        }
        assertFalse(Files.exists(runDir), "the run folder is removed once the output is complete");
    }

    /**
     * `compress` with a distillation, SIGKILLed inside the merged layer's training (its state saved at step 50 or later
     * in the run folder): the rerun replays what was committed, resumes the layer's training from the saved state and
     * writes the uninterrupted run's bytes. come+distill (schedule sp: the merge is committed before the training) and
     * --distill-each (schedule mp: the training is inside the merge's step, its states in a folder of that step).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"come+distill, training-distill, resuming after step 1 ", "come --distill-each, training-refine-step-1, ''"})
    void compressKilledInsideALayersTrainingResumesIt(String method, String states, String replayed, @TempDir Path tmp) throws Exception {
        Path teacher = Fixtures.DIR.resolve("llama3-gqa-f32");
        java.util.function.Function<Path, List<String>> compress = out -> {
            List<String> a = new ArrayList<>(List.of("compress", "--model", teacher.toString(), "--out", out.toString(),
                    "--target-layers", "2", "--calib", Fixtures.PPL_TEXT.toString(), "--calib-seq-len", "32", "--method"));
            a.addAll(List.of(method.split(" ")));
            a.addAll(List.of("--distill-data", Fixtures.PPL_TEXT.toString(), "--distill-steps", "150", "--distill-lr", "1e-4", "--threads", "1"));
            return a;
        };
        assertEquals(0, run(compress.apply(tmp.resolve("straight"))));
        Path out = tmp.resolve("resumed"), state = tmp.resolve(".resumed.run").resolve(states).resolve(MERGED_LAYER);
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dcome4j.backend=" + System.getProperty("come4j.backend", "auto"), "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(compress.apply(out));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
        while (child.isAlive() && savedStep(state) < 50) Thread.sleep(2);
        assertTrue(child.isAlive(), "the child finished before it could be killed: " + Files.readString(tmp.resolve("child.log")));
        child.destroyForcibly().waitFor(); // SIGKILL
        int before = savedStep(state);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, Main.execute(compress.apply(out).toArray(String[]::new), new PrintStream(err)));
        assertTrue(before >= 50 && before < 150, "resumed from step " + before);
        assertTrue(err.toString().contains(replayed) && err.toString().contains("resuming at step " + before), err.toString());
        assertArrayEquals(Files.readAllBytes(tmp.resolve("straight/model.safetensors")), Files.readAllBytes(out.resolve("model.safetensors")));
        var mapper = new ObjectMapper();
        assertEquals(mapper.readTree(tmp.resolve("straight/come-merge.json").toFile()).get("distill"),
                mapper.readTree(out.resolve("come-merge.json").toFile()).get("distill"), "same distillation record");
        assertFalse(Files.exists(tmp.resolve(".resumed.run")), "the run folder is removed once the output is complete");
    }

    private static List<String> distill(Path teacher, Path student, Path out, List<String> extra) {
        List<String> args = new ArrayList<>(List.of("distill", "--teacher", teacher.toString(), "--student", student.toString(), "--data",
                Fixtures.PPL_TEXT.toString(), "--out", out.toString(), "--steps", Integer.toString(STEPS), "--batch", "2", "--train-seq-len", "16",
                "--save-every", "5", "--threads", "1"));
        args.addAll(extra);
        return args;
    }

    private static int run(List<String> args) {
        return Main.execute(args.toArray(String[]::new), new PrintStream(new ByteArrayOutputStream()));
    }

    /** The step a training state file holds (0 when there is none yet or it is being replaced). */
    private static int savedStep(Path file) {
        try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
            in.readInt();
            return in.readInt();
        } catch (Exception e) {
            return 0;
        }
    }
}
