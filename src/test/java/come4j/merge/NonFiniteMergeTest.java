package come4j.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.Fixtures;
import come4j.io.BadInputException;
import come4j.io.DType;
import come4j.io.Finite;
import come4j.io.Inputs;
import come4j.io.Job;
import come4j.io.TensorData;
import come4j.model.Checkpoint;
import come4j.model.LayerWeights;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Merged weights are checked before they are written: a NaN there leaves no output. */
class NonFiniteMergeTest {
    @Test
    void mergedNanIsNotWritten(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        try (Checkpoint in = Checkpoint.open(Fixtures.DIR.resolve("llama3-gqa-f32"))) {
            MergeTree tree = new MergeTree(3);
            tree.merge(0);
            Map<String, TensorData> merged = new LinkedHashMap<>(LayerWeights.tensors(in, 0));
            TensorData down = merged.get("mlp.down_proj.weight");
            float[] v = down.toFloat();
            v[7] = Float.NaN;
            merged.put("mlp.down_proj.weight", new TensorData(down.name(), DType.F32, down.shape(), f32(v)));
            BadInputException e = assertThrows(BadInputException.class, () -> new Job(out, "", Inputs.of(in.dir()), false).run(line -> {},
                    done -> null, (run, o) -> {
                        CompressedCheckpoint.write(in, in.config().withLayers(tree.firstOriginals()), tree, List.of(merged, LayerWeights.tensors(in, 2)), o);
                        return null;
                    }));
            assertEquals(out.toAbsolutePath(), e.file());
            assertTrue(e.getMessage().startsWith("merged tensor 'model.layers.0.mlp.down_proj.weight' holds NaN at element 7"), e.getMessage());
        }
        assertFalse(Files.exists(out));
    }

    @Test
    void everyDtypeNonFiniteIsFoundAndLargeFiniteValuesAreNot() {
        float[] values = {1, Float.MAX_VALUE, -65504, Float.POSITIVE_INFINITY};
        assertEquals(3, Finite.firstNonFinite(new TensorData("t", DType.F32, new long[] {4}, f32(values))));
        assertEquals(-1, Finite.firstNonFinite(new TensorData("t", DType.F32, new long[] {3}, f32(new float[] {1, Float.MAX_VALUE, -1}))));
        // bf16: 1, max finite, -inf, NaN; f16: 65504 (max finite), +inf
        assertEquals(2, Finite.firstNonFinite(new TensorData("t", DType.BF16, new long[] {4}, shorts(0x3F80, 0x7F7F, 0xFF80, 0x7FC0))));
        assertEquals(1, Finite.firstNonFinite(new TensorData("t", DType.F16, new long[] {2}, shorts(0x7BFF, 0x7C00))));
        assertEquals(-1, Finite.firstNonFinite(new TensorData("t", DType.F16, new long[] {1}, shorts(0xFBFF))));
        assertEquals(1, Finite.firstNonFinite(new float[] {0, Float.NaN}));
    }

    private static MemorySegment f32(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return MemorySegment.ofArray(b.array());
    }

    private static MemorySegment shorts(int... bits) {
        ByteBuffer b = ByteBuffer.allocate(2 * bits.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : bits) b.putShort((short) x);
        return MemorySegment.ofArray(b.array());
    }
}
