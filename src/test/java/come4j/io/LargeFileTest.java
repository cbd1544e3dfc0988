package come4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Offsets past 2^31 must work: the file is sparse, so only the pages written take disk space. */
class LargeFileTest {
    @TempDir Path tmp;

    @Test
    void readsBothEndsOfATensorBeyondTwoGiB() throws IOException {
        long n = (1L << 29) + 16; // floats: the data section ends 64 bytes past 2^31
        String json = "{\"big\":{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[0," + 4 * n + "]}}";
        json += " ".repeat((8 - json.length() % 8) % 8);
        long dataStart = 8 + json.length();
        Path file = tmp.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(dataStart + 4 * n);
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length()).array());
            raf.write(json.getBytes(StandardCharsets.US_ASCII));
            raf.write(floats(1.5f, -2f));
            raf.seek(dataStart + 4 * (n - 2));
            raf.write(floats(3.25f, 7f));
        }
        try (Arena arena = Arena.ofConfined()) {
            TensorData t = SafeTensorsFile.open(file, arena).get("big");
            assertEquals(n, t.numel());
            assertTrue(dataStart + t.data().byteSize() > 1L << 31);
            float[] head = new float[2], tail = new float[2];
            t.toFloat(0, head, 0, 2);
            t.toFloat(n - 2, tail, 0, 2);
            assertArrayEquals(new float[] {1.5f, -2f}, head);
            assertArrayEquals(new float[] {3.25f, 7f}, tail);
        }
    }

    private static byte[] floats(float a, float b) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(a).putFloat(b).array();
    }
}
