package come4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run folder's contract (kill and concurrency across processes: ResumeTest). */
class RunFolderTest {
    @TempDir Path tmp;

    private Path out() {
        return tmp.resolve("out");
    }

    private Path dir() {
        return tmp.resolve(".out.run");
    }

    @Test
    void stateSurvivesARerunWithTheSameSettings() {
        try (RunFolder run = RunFolder.open(out(), "{\"steps\": 5}")) {
            assertFalse(run.resumed());
            run.save("state.json", new byte[] {1, 2, 3});
            run.saveFolder("step-1", f -> Files.writeString(f.resolve("w.bin"), "weights"));
        }
        assertTrue(Files.isDirectory(dir()), "kept for a rerun");
        try (RunFolder run = RunFolder.open(out(), "{\"steps\": 5}")) {
            assertTrue(run.resumed());
            assertArrayEquals(new byte[] {1, 2, 3}, run.load("state.json").orElseThrow());
            assertEquals("weights", read(run.loadFolder("step-1").orElseThrow().resolve("w.bin")));
            assertEquals(Optional.empty(), run.load("other"));
        }
    }

    @Test
    void otherSettingsStartAfresh() {
        try (RunFolder run = RunFolder.open(out(), "a")) {
            run.save("state", new byte[] {1});
        }
        try (RunFolder run = RunFolder.open(out(), "b")) {
            assertFalse(run.resumed());
            assertEquals(Optional.empty(), run.load("state"));
        }
    }

    @Test
    void saveReplacesWholeEntriesAndIgnoresWhatAKilledSaveLeft() throws Exception {
        try (RunFolder run = RunFolder.open(out(), "s")) {
            Files.writeString(dir().resolve("state.tmp"), "half-written by a killed run");
            run.save("state", new byte[] {1});
            run.save("state", new byte[] {2});
            assertArrayEquals(new byte[] {2}, run.load("state").orElseThrow());
            run.saveFolder("f", f -> Files.writeString(f.resolve("a"), "1"));
            run.saveFolder("f", f -> Files.writeString(f.resolve("b"), "2"));
            try (var files = Files.list(run.loadFolder("f").orElseThrow())) {
                assertEquals(List.of("b"), files.map(p -> p.getFileName().toString()).toList());
            }
            run.delete("f");
            assertEquals(Optional.empty(), run.loadFolder("f"));
            try (var files = Files.list(dir())) {
                assertTrue(files.noneMatch(p -> p.toString().endsWith(".tmp")));
            }
        }
    }

    @Test
    void completeRemovesEverything() {
        RunFolder run = RunFolder.open(out(), "s");
        run.save("state", new byte[] {1});
        run.complete();
        run.close();
        assertFalse(Files.exists(dir()));
    }

    @Test
    void aRunThatSavedNothingLeavesNothing() {
        RunFolder.open(out(), "s").close();
        assertFalse(Files.exists(dir()));
    }

    @Test
    void oneHolderAtATime() {
        try (RunFolder first = RunFolder.open(out(), "s")) {
            first.save("state", new byte[] {1});
            BadInputException e = assertThrows(BadInputException.class, () -> RunFolder.open(out(), "s"));
            assertEquals(out().toAbsolutePath(), e.file());
            assertTrue(e.getMessage().startsWith("another come run (process " + ProcessHandle.current().pid() + ") is writing this output"), e.getMessage());
            first.save("state", new byte[] {2}); // the refused attempt took nothing from the holder
        }
        try (RunFolder again = RunFolder.open(out(), "s")) {
            assertArrayEquals(new byte[] {2}, again.load("state").orElseThrow());
        }
    }

    @Test
    void entryNamesArePlainAndNotReserved() {
        try (RunFolder run = RunFolder.open(out(), "s")) {
            for (String bad : List.of("../escape", "a/b", "lock", "owner", "settings", "x.tmp", ""))
                assertThrows(IllegalArgumentException.class, () -> run.save(bad, new byte[0]), bad);
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
