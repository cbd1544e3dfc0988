package come4j.io;

import java.nio.file.Path;

/** Element types of safetensors that come4j reads and writes. */
public enum DType {
    F32(4), F16(2), BF16(2);

    public final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public static DType parse(String name, Path file, String tensor) {
        for (DType d : values()) if (d.name().equals(name)) return d;
        throw new BadInputException(file, "tensor '" + tensor + "' has dtype " + name
                + ", which come4j does not support (supported: F32, F16, BF16)");
    }

    /** The torch_dtype / dtype string of config.json. */
    public String torchName() {
        return switch (this) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
        };
    }
}
