package come4j.io;

import static come4j.io.Fixtures.assertBadInput;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicOutputTest {
    @TempDir Path tmp;
    private Path input, target;

    @BeforeEach
    void checkpoint() throws IOException {
        input = Files.createDirectory(tmp.resolve("in"));
        for (String f : List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json", "model.safetensors"))
            Files.writeString(input.resolve(f), f + " contents");
        target = tmp.resolve("out");
    }

    /** Builds {@code out} as a {@link Job} with {@code input} as its input. */
    private void build(Path out, boolean overwrite, Job.Work<Object> work) {
        new Job(out, "", Inputs.of(input), overwrite).run(line -> {}, done -> null, work);
    }

    private List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void failureBeforeCommitLeavesNothing() throws IOException {
        assertThrows(IllegalStateException.class, () -> build(target, false, (run, out) -> {
            out.copyUnchangedFiles(input);
            assertEquals(tmp.resolve(".out.run/output"), out.dir(), "built inside the output's run folder");
            throw new IllegalStateException("conversion failed");
        }));
        assertEquals(List.of("in"), names(tmp));
    }

    @Test
    void commitMovesTheFinishedFolderIntoPlace() throws IOException {
        build(target, false, (run, out) -> {
            assertEquals(List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json"),
                    out.copyUnchangedFiles(input));
            ObjectNode config = (ObjectNode) new ObjectMapper().readTree(
                    "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 8, \"rope_scaling\": null,"
                            + " \"layer_types\": [], \"rope_parameters\": {\"rope_theta\": 1.5}}");
            out.writeConfig(config);
            assertFalse(Files.exists(target));
            return null;
        });
        assertEquals(List.of("in", "out"), names(tmp));
        assertEquals(List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"), names(target));
        assertEquals("tokenizer.json contents", Files.readString(target.resolve("tokenizer.json")));
        assertEquals("""
                {
                  "architectures": [
                    "LlamaForCausalLM"
                  ],
                  "hidden_size": 8,
                  "rope_scaling": null,
                  "layer_types": [],
                  "rope_parameters": {
                    "rope_theta": 1.5
                  }
                }
                """, Files.readString(target.resolve("config.json")));
    }

    @Test
    void refusesToOverwriteUnlessAllowed() throws IOException {
        Files.createDirectory(target);
        Files.writeString(target.resolve("old.txt"), "old");
        assertBadInput(target, "output folder already exists", () -> build(target, false, (run, out) -> null));
        assertEquals(List.of("old.txt"), names(target));

        build(target, true, (run, out) -> {
            Files.writeString(out.dir().resolve("new.txt"), "new");
            assertEquals(List.of("old.txt"), names(target)); // the old folder stays until the new one is complete
            return null;
        });
        assertEquals(List.of("new.txt"), names(target));
        assertEquals(List.of("in", "out"), names(tmp));
    }

    @Test
    void refusesOutputThatIsOrContainsOrLiesInsideTheInput() throws IOException {
        assertBadInput(input, "output folder is the input", () -> build(input, true, (run, out) -> null));
        Path inside = input.resolve("compressed");
        assertBadInput(inside, "output folder lies inside the input", () -> build(inside, false, (run, out) -> null));
        Path roundabout = tmp.resolve("x/../in");
        assertBadInput(roundabout, "output folder is the input", () -> build(roundabout, true, (run, out) -> null));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), input);
        assertBadInput(link.resolve("out"), "output folder lies inside the input", () -> build(link.resolve("out"), true, (run, out) -> null));
        Files.delete(link);
        assertBadInput(tmp, "output folder contains the input", () -> build(tmp, true, (run, out) -> null));
        assertEquals(List.of("in"), names(tmp));
        assertEquals(4, names(input).size());
    }
}
