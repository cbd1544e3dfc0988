package come4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.model.Checkpoint;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsWriterTest {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir Path tmp;

    private static TensorSpec spec(String name, DType dtype, long... shape) {
        return new TensorSpec(name, dtype, shape);
    }

    @Test
    void roundTripsF32Bf16F16AndRawBytes() throws IOException {
        float[] f32 = {1.5f, -2.25f, 3.1415927f, 1e-30f, -0f, 65504f};
        float[] bf16 = {1f, 0.1f, -3.3f, 1e20f};
        float[] f16 = {0.1f, -2.5f, 1000.3f};
        byte[] raw = {0x12, 0x34, 0x56, 0x78};
        float[] odd = {1, 2, 3}; // 6 bytes: the tensor after it starts unaligned in the write buffer
        float[] big = new float[1_500_001]; // 6 MB: crosses the write buffer's 4 MiB boundary
        for (int i = 0; i < big.length; i++) big[i] = i * 0.5f - 7;
        List<TensorSpec> plan = List.of(spec("f32", DType.F32, 2, 3), spec("bf16", DType.BF16, 4),
                spec("f16", DType.F16, 3), spec("raw", DType.BF16, 2), spec("odd", DType.BF16, 3),
                spec("big", DType.F32, big.length));
        try (var w = new SafeTensorsWriter(tmp, plan)) {
            w.write("f32", f32);
            w.write("bf16", bf16);
            w.write("f16", f16);
            w.write("raw", MemorySegment.ofArray(raw));
            w.write("odd", odd);
            w.write("big", big);
            w.finish();
            assertEquals(List.of("model.safetensors"), w.files());
        }
        Fixtures.writeConfig(tmp);
        try (Checkpoint ckpt = Checkpoint.open(tmp)) {
            assertEquals(List.of("f32", "bf16", "f16", "raw", "odd", "big").stream().sorted().toList(),
                    ckpt.tensors().keySet().stream().sorted().toList());
            TensorData t = ckpt.tensor("f32", 2, 3);
            assertEquals(DType.F32, t.dtype());
            assertArrayEquals(f32, t.toFloat());
            float[] b = ckpt.tensor("bf16", 4).toFloat();
            for (int i = 0; i < bf16.length; i++) assertEquals(bf16[i], b[i], Math.abs(bf16[i]) * 0x1p-8f);
            float[] h = ckpt.tensor("f16", 3).toFloat();
            for (int i = 0; i < f16.length; i++) assertEquals(f16[i], h[i], Math.abs(f16[i]) * 0x1p-11f);
            assertArrayEquals(raw, ckpt.tensor("raw", 2).data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(odd, ckpt.tensor("odd", 3).toFloat());
            assertArrayEquals(big, ckpt.tensor("big", big.length).toFloat());
        }
    }

    @Test
    void bf16RoundsToNearestEven() throws IOException {
        int[] bits = {
            0x3F808000, // 1 + 2^-8: halfway between 0x3F80 and 0x3F81, tie goes to the even 0x3F80
            0x3F818000, // halfway between 0x3F81 and 0x3F82, tie goes to the even 0x3F82
            0x3F808001, // just above halfway: up
            0x3F807FFF, // just below halfway: down
            0xBF800000, // -1 is exact
            0x7F7FFFFF, // largest float rounds up to +infinity, as torch does
        };
        short[] expected = {0x3F80, 0x3F82, 0x3F81, 0x3F80, (short) 0xBF80, 0x7F80};
        float[] values = new float[bits.length];
        for (int i = 0; i < bits.length; i++) values[i] = Float.intBitsToFloat(bits[i]);
        try (var w = new SafeTensorsWriter(tmp, List.of(spec("x", DType.BF16, values.length)))) {
            w.write("x", values);
            w.finish();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = SafeTensorsFile.open(tmp.resolve("model.safetensors"), arena).get("x").data();
            assertArrayEquals(expected, data.toArray(U16));
        }
    }

    @Test
    void headerIsCompactJsonInPlanOrderPaddedToEightBytes() throws IOException {
        try (var w = new SafeTensorsWriter(tmp, List.of(spec("z", DType.F32, 2, 3), spec("a", DType.BF16, 1)))) {
            w.write("z", new float[6]);
            w.write("a", new float[1]);
            w.finish();
        }
        byte[] file = Files.readAllBytes(tmp.resolve("model.safetensors"));
        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"z\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[24,26]}}";
        long headerLength = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8);
        assertEquals(json + " ".repeat((int) headerLength - json.length()),
                new String(file, 8, (int) headerLength, StandardCharsets.UTF_8));
        assertEquals(8 + headerLength + 26, file.length);
    }

    @Test
    void sameInputsGiveIdenticalBytes() throws IOException {
        for (String name : List.of("one", "two")) {
            Path dir = Files.createDirectory(tmp.resolve(name));
            try (var w = new SafeTensorsWriter(dir, List.of(spec("a", DType.BF16, 3), spec("b", DType.F16, 2)), 8)) {
                w.write("a", new float[] {0.1f, 0.2f, 0.3f});
                w.write("b", new float[] {4, 5});
                w.finish();
            }
        }
        for (String f : List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", SafeTensorsWriter.INDEX))
            assertEquals(-1, Files.mismatch(tmp.resolve("one").resolve(f), tmp.resolve("two").resolve(f)), f);
    }

    @Test
    void enforcesPlanOrderSizesAndCompleteness() throws IOException {
        try (var w = new SafeTensorsWriter(tmp, List.of(spec("a", DType.F32, 2), spec("b", DType.F16, 2)))) {
            assertThrows(IllegalStateException.class, () -> w.write("b", new float[2]));
            assertThrows(IllegalArgumentException.class, () -> w.write("a", new float[3]));
            assertThrows(IllegalArgumentException.class, () -> w.write("a", MemorySegment.ofArray(new byte[7])));
            w.write("a", new float[2]);
            var e = assertThrows(IllegalStateException.class, w::finish);
            assertTrue(e.getMessage().contains("'b'"), e.getMessage());
            w.write("b", MemorySegment.ofArray(new byte[4]));
            assertThrows(IllegalStateException.class, () -> w.write("b", new float[2]));
            w.finish();
        }
        assertThrows(IllegalArgumentException.class,
                () -> new SafeTensorsWriter(tmp, List.of(spec("a", DType.F32, 1), spec("a", DType.F32, 1))));
        assertThrows(IllegalArgumentException.class,
                () -> new SafeTensorsWriter(tmp, List.of(spec("__metadata__", DType.F32, 1))));
    }

    @Test
    void shardsLikeTransformersAndReadsBackThroughTheIndex() throws IOException {
        // 100-byte limit: [t9 t10] = 80, t2 would make 120, t3 (160) is oversized, then [t1 t0] = 16.
        List<TensorSpec> plan = List.of(spec("t9", DType.F32, 10), spec("t10", DType.F32, 10), spec("t2", DType.F32, 10),
                spec("t3", DType.F32, 4, 10), spec("t1", DType.F32, 2), spec("t0", DType.BF16, 4));
        try (var w = new SafeTensorsWriter(tmp, plan, 100)) {
            assertEquals(List.of("model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
                    "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors", SafeTensorsWriter.INDEX), w.files());
            for (TensorSpec t : plan) {
                float[] v = new float[(int) t.numel()];
                for (int i = 0; i < v.length; i++) v[i] = t.name().length() * 100 + i;
                w.write(t.name(), v);
            }
            w.finish();
        }
        assertFalse(Files.exists(tmp.resolve("model.safetensors")));
        assertEquals("""
                {
                  "metadata": {
                    "total_size": 296
                  },
                  "weight_map": {
                    "t0": "model-00004-of-00004.safetensors",
                    "t1": "model-00004-of-00004.safetensors",
                    "t10": "model-00001-of-00004.safetensors",
                    "t2": "model-00002-of-00004.safetensors",
                    "t3": "model-00003-of-00004.safetensors",
                    "t9": "model-00001-of-00004.safetensors"
                  }
                }
                """, Files.readString(tmp.resolve(SafeTensorsWriter.INDEX)));
        try (Arena arena = Arena.ofConfined()) {
            Map<String, TensorData> first = SafeTensorsFile.open(tmp.resolve("model-00001-of-00004.safetensors"), arena);
            assertEquals(List.of("t9", "t10"), List.copyOf(first.keySet()));
        }
        Fixtures.writeConfig(tmp);
        try (Checkpoint ckpt = Checkpoint.open(tmp)) {
            assertEquals(plan.size(), ckpt.tensors().size());
            for (TensorSpec t : plan) {
                float[] v = ckpt.tensor(t.name(), t.shape()).toFloat();
                for (int i = 0; i < v.length; i++) assertEquals(t.name().length() * 100 + i, v[i], t.name());
            }
        }
    }
}
