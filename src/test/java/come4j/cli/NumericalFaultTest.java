package come4j.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NaN and Inf never reach a written checkpoint: they are reported with the layer and tensor where they appear. */
class NumericalFaultTest {
    private static final short BF16_NAN = 0x7FC0, BF16_MAX = 0x7F7F;

    @Test
    void nanWeightIsRefusedNamingTheTensor(@TempDir Path tmp) throws Exception {
        Path dir = CliTest.copyFixture(tmp), out = tmp.resolve("out");
        setBf16(dir, "model.layers.1.mlp.down_proj.weight", 5, 1, BF16_NAN);
        CliTest.assertBadInput(compress(dir, out), dir.toString(),
                "input tensor 'model.layers.1.mlp.down_proj.weight' holds NaN at element 5");
        assertFalse(Files.exists(out));
    }

    /** Finite weights whose products overflow fp32 (gate * up): caught at the boundary of the layer that overflows. */
    @Test
    void activationOverflowIsReportedAtItsLayer(@TempDir Path tmp) throws Exception {
        Path dir = CliTest.copyFixture(tmp), out = tmp.resolve("out");
        setBf16(dir, "model.layers.1.post_attention_layernorm.weight", 0, 64, BF16_MAX);
        CliTest.assertBadInput(compress(dir, out), "hidden states after layer 1 hold", "on calibration window 0",
                "the model overflows on this text");
        assertFalse(Files.exists(out));
    }

    private static CliTest.Run compress(Path dir, Path out) {
        return CliTest.run("compress", "--model", dir.toString(), "--out", out.toString(), "--target-layers", "2",
                "--calib", CliTest.PPL.toString(), "--calib-seq-len", "32");
    }

    /** Sets elements [from, from + count) of a BF16 tensor of the checkpoint's model.safetensors to {@code bits}. */
    static void setBf16(Path dir, String tensor, int from, int count, short bits) throws Exception {
        Path file = dir.resolve("model.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            byte[] len = new byte[8];
            f.readFully(len);
            long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
            byte[] header = new byte[(int) n];
            f.readFully(header);
            JsonNode t = new ObjectMapper().readTree(header).get(tensor);
            long at = 8 + n + t.get("data_offsets").get(0).asLong() + 2L * from;
            ByteBuffer b = ByteBuffer.allocate(2 * count).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) b.putShort(bits);
            f.seek(at);
            f.write(b.array());
        }
    }
}
