package come4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Without oneDNN (simulated by -Dcome4j.onednn=off, in a child JVM since the library loads once per process) a run
 * goes on on the Vector API, and says so in one line exactly when oneDNN was wanted.
 */
class BackendFallbackTest {
    @ParameterizedTest
    @CsvSource({"auto,bfloat16,1", "onednn,float32,1", "onednn,bfloat16,1", "auto,float32,0", "vector,bfloat16,0"})
    void fallsBackToTheVectorApiAndSaysSoOnce(String backend, String dtype, int lines) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true",
                "-Dcome4j.onednn=off", "-cp", System.getProperty("java.class.path"), "come4j.cli.Main", "inspect",
                "--model", Fixtures.DIR.resolve("llama-mha-bf16").toString(), "--json", "--backend", backend, "--dtype", dtype));
        Process p = new ProcessBuilder(cmd).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        List<String> err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                .filter(l -> !l.equals("WARNING: Using incubator modules: jdk.incubator.vector")).toList();
        assertEquals(0, p.waitFor(), String.join("\n", err));
        JsonNode b = new ObjectMapper().readTree(out).get("backend");
        assertEquals("vector", b.get("name").asText());
        assertEquals(dtype, b.get("compute_dtype").asText());
        assertEquals(lines, err.size(), String.join("\n", err));
        if (lines == 1)
            assertTrue(err.getFirst().equals("come: oneDNN is not available (turned off by -Dcome4j.onednn=off); products run on the Vector API backend"), err.getFirst());
    }
}
