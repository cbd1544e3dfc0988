package come4j.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Element conversion between stored dtypes (little-endian, as safetensors stores them) and fp32. */
public final class Convert {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = FLOATS.length();
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, FLOATS.vectorShape());
    private static final VectorSpecies<Short> HALVES = VectorSpecies.of(short.class, VectorShape.forBitSize(LANES * 16));

    private Convert() {}

    public static void toFloat(MemorySegment src, DType dtype, long from, float[] dst, int off, int count) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(src, F32, from * 4, dst, off, count);
            case BF16 -> {
                long base = from * 2;
                int i = 0;
                for (int bound = count - count % LANES; i < bound; i += LANES) { // bf16 is the top half of an fp32
                    ShortVector h = ShortVector.fromMemorySegment(HALVES, src, base + 2L * i, ByteOrder.LITTLE_ENDIAN);
                    ((IntVector) h.convertShape(VectorOperators.S2I, INTS, 0)).lanewise(VectorOperators.LSHL, 16)
                            .reinterpretAsFloats().intoArray(dst, off + i);
                }
                for (; i < count; i++) dst[off + i] = Float.intBitsToFloat(src.get(U16, base + 2L * i) << 16);
            }
            case F16 -> {
                long base = from * 2;
                for (int i = 0; i < count; i++) dst[off + i] = Float.float16ToFloat(src.get(U16, base + 2L * i));
            }
        }
    }

    /** fp32 to bf16 with round-to-nearest-even, as torch's {@code .to(torch.bfloat16)} rounds (NaN kept quiet). */
    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** x[off .. off + n) rounded to bf16 in place (round to nearest even, as {@link #toBf16(float)}). */
    public static void roundToBf16(float[] x, int off, int n) {
        int i = 0;
        for (int bound = n - n % LANES; i < bound; i += LANES) {
            IntVector bits = FloatVector.fromArray(FLOATS, x, off + i).reinterpretAsInts();
            bits.add(bits.lanewise(VectorOperators.LSHR, 16).and(1).add(0x7FFF)).and(0xFFFF0000)
                    .reinterpretAsFloats().intoArray(x, off + i);
        }
        for (; i < n; i++) x[off + i] = Float.intBitsToFloat(toBf16(x[off + i]) << 16);
    }

    /** x[off .. off + n) as bf16 bits into dst[dOff..] (round to nearest even; the inputs are finite). */
    public static void toBf16(float[] x, int off, int n, short[] dst, int dOff) {
        int i = 0;
        for (int bound = n - n % LANES; i < bound; i += LANES)
            bf16Bits(FloatVector.fromArray(FLOATS, x, off + i)).intoArray(dst, dOff + i);
        for (; i < n; i++) dst[dOff + i] = toBf16(x[off + i]);
    }

    /** The lanes of finite x as bf16 bits (round to nearest even), in a vector of half x's size. */
    public static ShortVector bf16Bits(FloatVector x) {
        IntVector bits = x.reinterpretAsInts();
        return (ShortVector) bits.add(bits.lanewise(VectorOperators.LSHR, 16).and(1).add(0x7FFF))
                .lanewise(VectorOperators.LSHR, 16).convertShape(VectorOperators.I2S, HALVES, 0);
    }

    /** The same into native memory at byte offset {@code at} (native byte order, as a C library reads it). */
    public static void toBf16(float[] x, int off, int n, MemorySegment dst, long at) {
        int i = 0;
        for (int bound = n - n % LANES; i < bound; i += LANES)
            bf16Bits(FloatVector.fromArray(FLOATS, x, off + i)).intoMemorySegment(dst, at + 2L * i, ByteOrder.nativeOrder());
        for (; i < n; i++) dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + 2L * i, toBf16(x[off + i]));
    }

    /** Writes {@code count} floats from {@code src[off..]} into {@code dst} at element {@code to} in {@code dtype}. */
    public static void fromFloat(float[] src, int off, int count, MemorySegment dst, DType dtype, long to) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(src, off, dst, F32, to * 4, count);
            case BF16 -> {
                for (int i = 0; i < count; i++) dst.set(U16, (to + i) * 2, toBf16(src[off + i]));
            }
            case F16 -> {
                for (int i = 0; i < count; i++) dst.set(U16, (to + i) * 2, Float.floatToFloat16(src[off + i]));
            }
        }
    }
}
