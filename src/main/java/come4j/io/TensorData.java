package come4j.io;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a checkpoint: a lazily read, row-major view over (usually mmap'd) bytes. A 1-D tensor is one row.
 */
public record TensorData(String name, DType dtype, long[] shape, MemorySegment data) {

    public long numel() {
        long n = 1;
        for (long s : shape) n *= s;
        return n;
    }

    public int rows() {
        return shape.length == 1 ? 1 : Math.toIntExact(numel() / shape[shape.length - 1]);
    }

    public int cols() {
        return Math.toIntExact(shape[shape.length - 1]);
    }

    /** Converts {@code count} elements starting at element {@code from} to fp32 into {@code dst[off..]}. */
    public void toFloat(long from, float[] dst, int off, int count) {
        Convert.toFloat(data, dtype, from, dst, off, count);
    }

    /** The whole tensor as fp32 (for small tensors: norms, biases). */
    public float[] toFloat() {
        float[] out = new float[Math.toIntExact(numel())];
        toFloat(0, out, 0, out.length);
        return out;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
