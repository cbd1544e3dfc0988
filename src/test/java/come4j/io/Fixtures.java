package come4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.function.Executable;

/** Small checkpoints and hand-made safetensors files for the io tests. */
final class Fixtures {
    static final String LLAMA_CONFIG = """
            {"architectures": ["LlamaForCausalLM"], "hidden_size": 8, "intermediate_size": 16,
             "num_hidden_layers": 1, "num_attention_heads": 2, "vocab_size": 10}
            """;

    private Fixtures() {}

    static void writeConfig(Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), LLAMA_CONFIG);
    }

    /** A safetensors file with {@code header} as its JSON (unpadded) followed by {@code dataBytes} zero bytes. */
    static Path safetensors(Path file, String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Files.write(file, b.array());
        return file;
    }

    /** Asserts that {@code action} reports bad input naming {@code file} and saying {@code problem}. */
    static BadInputException assertBadInput(Path file, String problem, Executable action) {
        BadInputException e = assertThrows(BadInputException.class, action);
        assertEquals(file.toAbsolutePath().normalize(), e.file().toAbsolutePath().normalize(), e.line());
        assertTrue(e.getMessage().contains(problem), () -> "expected '" + problem + "' in: " + e.getMessage());
        assertTrue(e.line().startsWith(e.file() + ": "), e.line());
        return e;
    }
}
