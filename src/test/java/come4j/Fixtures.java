package come4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The tiny transformers-made checkpoints of src/test/resources/fixtures and their goldens. */
public final class Fixtures {
    public static final Path DIR = Path.of("src/test/resources/fixtures");
    public static final Path PPL_TEXT = DIR.resolve("ppl.txt");

    private Fixtures() {}

    /** The five architectures, each in fp32 and bf16. */
    public static Stream<String> names() {
        return Stream.of("llama-mha", "llama3-gqa", "mistral", "qwen2", "qwen3").flatMap(a -> Stream.of(a + "-f32", a + "-bf16"));
    }

    public static JsonNode golden(String name) {
        try {
            return new ObjectMapper().readTree(DIR.resolve(name).resolve("golden.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int[] ints(JsonNode n) {
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) out[i] = n.get(i).asInt();
        return out;
    }

    public static double maxAbsDiff(float[] actual, JsonNode expected) {
        double max = 0;
        for (int i = 0; i < expected.size(); i++) max = Math.max(max, Math.abs(actual[i] - expected.get(i).asDouble()));
        return max;
    }
}
