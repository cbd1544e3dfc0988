package come4j.io;

import java.util.Arrays;

/** A tensor the writer will receive: known before any data is written, because the safetensors header comes first. */
public record TensorSpec(String name, DType dtype, long[] shape) {

    public TensorSpec {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("tensor name must not be empty");
        if (dtype == null) throw new IllegalArgumentException("tensor '" + name + "' has no dtype");
        shape = shape.clone();
        for (long d : shape) if (d < 0) throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension");
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long numel() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public long byteSize() {
        return Math.multiplyExact(numel(), dtype.bytes);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
