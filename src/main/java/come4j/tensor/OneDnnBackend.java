package come4j.tensor;

import come4j.io.Convert;
import come4j.io.DType;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Products of many rows on oneDNN (the library inside org.bytedeco:dnnl's Linux x86-64 jar, called through the JDK's
 * foreign function interface: no JNI wrapper, no install step). bf16 compute runs oneDNN's matmul primitive with bf16
 * operands and fp32 accumulation (AMX tiles or AVX512-BF16, whichever the CPU has; measured 2-3x its
 * {@code dnnl_gemm_bf16bf16f32} at 7B shapes, docs/results.md) in chunks of rows, one per thread side by side: a
 * chunk of A is rounded into native memory once for all the weights that share it, mmap'd bf16 weights are read where
 * they are (resident ones, {@link #prepare}, also in oneDNN's own blocked layout), and the chunk of C is copied back
 * through per-thread buffers that are reused. fp32 compute runs {@code dnnl_sgemm} on the arrays in place (critical
 * downcalls). bf16 attention over many queries runs as batched bf16 matmuls ({@link OneDnnAttention}). What oneDNN
 * does not win stays on the Vector API: products of few rows (generation, short requests), fp32 attention and the
 * per-thread products of work already split across threads.
 */
public final class OneDnnBackend implements Backend {
    /** Fewer rows than this go to the Vector API: a native call and A's conversion do not pay off there. */
    static final int MIN_ROWS = 16;

    private final DType compute;
    private final Library lib;
    private final VectorBackend vector;
    /** Whether bf16 products deeper than WHOLE_DEPTH run in slices of the depth (CPUs with AMX). */
    private final boolean slices;
    private static OneDnnBackend bf16, f32;

    private OneDnnBackend(DType compute, Library lib, boolean slices) {
        this.compute = compute;
        this.lib = lib;
        this.vector = compute == DType.BF16 ? VectorBackend.BF16 : VectorBackend.FP32;
        this.slices = slices;
    }

    /** The backend with this compute dtype; throws with the reason when the library does not load here. */
    static synchronized OneDnnBackend load(DType compute) {
        Library lib = Library.get();
        if (compute == DType.BF16) return bf16 == null ? bf16 = new OneDnnBackend(compute, lib, lib.amx) : bf16;
        return f32 == null ? f32 = new OneDnnBackend(DType.F32, lib, lib.amx) : f32;
    }

    /** This backend with deep products in slices whatever the CPU, so tests reach that path on CPUs without AMX. */
    OneDnnBackend inDepthSlices() {
        return new OneDnnBackend(compute, lib, true);
    }

    @Override
    public String name() {
        return "onednn";
    }

    @Override
    public DType compute() {
        return compute;
    }

    @Override
    public Backend fp32() {
        return load(DType.F32);
    }

    @Override
    public void matmul(float[] a, int m, Matrix b, float[] c) {
        if (m < MIN_ROWS) {
            vector.matmul(a, m, b, c);
            return;
        }
        if (compute == DType.BF16) {
            matmul(a, m, new Matrix[] {b}, new float[][] {c});
            return;
        }
        int n = b.rows(), k = b.cols();
        try {
            lib.setThreads.invokeExact(Parallel.threads());
            Operand w = operand(b);
            int status = (int) lib.sgemm.invokeExact((byte) 'N', w.trans, (long) m, (long) n, (long) k, 1f,
                    MemorySegment.ofArray(a), (long) k, w.data, w.ld, 0f, MemorySegment.ofArray(c), (long) n);
            if (status != 0) throw new IllegalStateException("oneDNN sgemm failed with status " + status);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** bf16 compute: a is rounded into native memory once for all the weights that share it. */
    @Override
    public void matmul(float[] a, int m, Matrix[] b, float[][] c) {
        if (compute != DType.BF16 || m < MIN_ROWS) {
            Backend.super.matmul(a, m, b, c);
            return;
        }
        int k = b[0].cols(), n = java.util.Arrays.stream(b).mapToInt(Matrix::rows).max().orElseThrow();
        int chunk = Math.min(m, chunkRows(n, k)), part = slices && k > WHOLE_DEPTH ? DEPTH_PART : k;
        try (Arena call = Arena.ofShared()) {
            MemorySegment[] ws = new MemorySegment[b.length];
            Packed[] packed = new Packed[b.length];
            for (int i = 0; i < b.length; i++) {
                ws[i] = bf16Weight(b[i], call);
                if (b[i].storage() instanceof Matrix.Resident r && r.owner() == this) packed[i] = ((Bf16Resident) r.form()).packed();
            }
            int chunks = (m + chunk - 1) / chunk, threads = Parallel.threads(), alone = chunks / threads * threads;
            if (alone > 0) Parallel.sideBySide(alone, j -> rows(a, j * chunk, Math.min(chunk, m - j * chunk), k, n, b, ws, packed, part, c));
            for (int j = alone; j < chunks; j++) rows(a, j * chunk, Math.min(chunk, m - j * chunk), k, n, b, ws, packed, part, c);
        }
    }

    /**
     * Rows [from, from + rows) of every product, on this thread's buffers and threads. A product of many chunks runs
     * them side by side, one per thread, each on that thread alone: each thread rounds its own A, runs oneDNN on one
     * thread and copies its own C back, with no barrier between the steps. At 7B shapes that ran 0-11 % faster than
     * each chunk on all threads, at the demo's 1.5-3x (2 threads, docs/results.md); the bits are the same.
     */
    private void rows(float[] a, int from, int rows, int k, int n, Matrix[] b, MemorySegment[] ws, Packed[] packed, int part, float[][] c) {
        try {
            lib.setThreads.invokeExact(Parallel.threads());
            Scratch s = scratch.get();
            MemorySegment as = s.get(0, 2L * rows * k), cs = s.get(1, 4L * rows * n);
            Parallel.forRows(rows, 16, (q0, q1) -> Convert.toBf16(a, (from + q0) * k, (q1 - q0) * k, as, 2L * q0 * k));
            for (int i = 0; i < b.length; i++) {
                int ni = b[i].rows();
                if (packed[i] != null && packed[i].rows() == rows) lib.matmulPacked(ni, k, as, packed[i], cs);
                else for (int k0 = 0; k0 < k; k0 += part)
                    lib.matmulBf16(1, rows, ni, Math.min(part, k - k0), true, (long) ni * k, k, k, k0 > 0,
                            as.asSlice(2L * k0), ws[i].asSlice(2L * k0), cs);
                MemorySegment.copy(cs, JAVA_FLOAT, 0, c[i], from * ni, rows * ni);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Rows per product call: a chunk's bf16 A and fp32 C stay in the core's cache between the rounding, the product
     * and the copy back (demo model, 2,048 rows: the native products took half the time in chunks of 256). Weights of
     * LARGE_WEIGHT elements or more (7B shapes) take LARGE_CHUNK rows. With chunks side by side, one per thread, the
     * 7B calibration pass ran about 10 % faster in chunks of 512 than of 1,024 on AVX512-BF16 (Zen 5; 256 in between),
     * with less scratch; on AMX, one product ran alike in chunks of 512 and 1,024 (docs/results.md).
     */
    static final int CHUNK = 256, LARGE_CHUNK = 512;
    static final long LARGE_WEIGHT = 1L << 22;

    private static int chunkRows(long n, long k) {
        return n * k >= LARGE_WEIGHT ? LARGE_CHUNK : CHUNK;
    }

    /**
     * On CPUs with AMX, products deeper than WHOLE_DEPTH run as slices of DEPTH_PART, each added to c: the bundled
     * oneDNN's AMX kernel slows down on deep products (LLaMA-7b's down projection, k = 11,008). On AVX512-BF16 alone
     * (AMD Zen 5) the whole depth ran 12-38 % faster (docs/results.md), so it stays whole there.
     */
    static final int WHOLE_DEPTH = 4096, DEPTH_PART = 2048;

    /** Per-thread native buffers by slot, grown on demand and reused: fresh pages cost a fault each on first touch. */
    private static final class Scratch {
        private final MemorySegment[] slots = new MemorySegment[8];

        MemorySegment get(int slot, long bytes) {
            MemorySegment s = slots[slot];
            if (s == null || s.byteSize() < bytes) s = slots[slot] = Arena.ofAuto().allocate(bytes, 64);
            return s.asSlice(0, bytes);
        }
    }

    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    /**
     * bf16 compute: attention with bf16 products on oneDNN ({@link OneDnnAttention}) for sequences of at least
     * {@link #MIN_ROWS} queries; fewer (generation) and fp32 compute keep the fp32 attention of the Vector API.
     */
    @Override
    public void attention(float[] q, float[] keys, float[] values, int batch, int T, int kvRows, int pos0, int heads,
                          int kvHeads, int hd, float scale, int window, float[] out) {
        if (compute == DType.BF16 && T >= MIN_ROWS) OneDnnAttention.causal(this, q, keys, values, batch, T, kvRows, pos0, heads, kvHeads, hd, scale, window, out);
        else Backend.super.attention(q, keys, values, batch, T, kvRows, pos0, heads, kvHeads, hd, scale, window, out);
    }

    /**
     * {@code batch} products c = a · w^T (w n x k, {@code wRowsN}) or a · w (w k x n), bf16 in, fp32 out, all threads;
     * w's matrices are {@code wStride} elements apart (a and c are packed).
     */
    void matmulBf16(int batch, int m, int n, int k, boolean wRowsN, long wStride, MemorySegment a, MemorySegment w, MemorySegment c) throws Throwable {
        lib.setThreads.invokeExact(Parallel.threads());
        lib.matmulBf16(batch, m, n, k, wRowsN, wStride, a, w, c);
    }

    /**
     * This thread's native buffer {@code slot} (2 to 7: 0 and 1 hold the products' operands) of at least
     * {@code bytes}, reused by the next call with the same slot; its contents are whatever the last user left.
     */
    MemorySegment scratch(int slot, long bytes) {
        return scratch.get().get(slot, bytes);
    }

    /** b (n x k) as row-major bf16 in native memory: mapped, resident, or converted into {@code call}. */
    private MemorySegment bf16Weight(Matrix b, Arena call) {
        if (b.storage() instanceof Matrix.Resident r && r.owner() == this) return ((Bf16Resident) r.form()).plain();
        if (b.dtype() == DType.BF16 && b.storage() instanceof Matrix.Mapped m) return m.data();
        return bf16(b, call);
    }

    /** Per-thread products (attention blocks, rows already split): the Vector API, with the same rounding. */
    @Override
    public void matmul(float[] a, int aOff, int lda, int m, Matrix b, float[] c, int cOff, int ldc) {
        vector.matmul(a, aOff, lda, m, b, c, cOff, ldc);
    }

    /**
     * bf16 compute: a mapped bf16 weight is also reordered once into oneDNN's blocked layout for its full chunks of
     * rows, so their products skip repacking it on every call (5-10 % faster at the demo's and 7B shapes on AVX512-BF16,
     * docs/results.md); other row counts, and weights whose depth runs in slices, read it where it is, as an
     * unprepared weight. The products give the same bits either way (BackendConformanceTest). Other bf16 weights are
     * converted once. fp32 compute: an fp32 weight in native memory is used where it is; anything else is converted
     * once.
     */
    @Override
    public Matrix prepare(Matrix w) {
        if (w.storage() instanceof Matrix.Resident r && r.owner() == this) return w;
        if (compute == DType.BF16) {
            if (!(w.storage() instanceof Matrix.Mapped m && w.dtype() == DType.BF16)) return Matrix.resident(w, this, new Bf16Resident(bf16(w, Arena.ofAuto()), null));
            if (slices && w.cols() > WHOLE_DEPTH) return Matrix.resident(w, this, new Bf16Resident(m.data(), null)); // packed runs whole
            try {
                return Matrix.resident(w, this, new Bf16Resident(m.data(), packedIfExact(m.data(), w.rows(), w.cols())));
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
        if (w.storage() instanceof Matrix.Mapped && w.dtype() == compute) return w;
        return Matrix.resident(w, this, fp32(w));
    }

    /** A weight in oneDNN's layout for products of {@code rows} rows (the layout is that product's primitive's). */
    private record Packed(MemorySegment data, int rows) {}

    /** Per weight shape (n, k): whether products on the packed layout give the plain layout's bits here. */
    private final java.util.concurrent.ConcurrentHashMap<java.util.List<Integer>, Boolean> packingExact = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * w (n x k, plain bf16) packed, or null where oneDNN's product on the packed layout does not give the plain
     * product's bits: that is checked once per shape on this CPU (one product of random rows on each layout, on all
     * threads and on one), so a model's outputs never depend on whether its weights are resident. (They agreed on
     * Zen 5; another ISA's kernels may block differently.)
     */
    private Packed packedIfExact(MemorySegment w, int n, int k) throws Throwable {
        java.util.List<Integer> shape = java.util.List.of(n, k);
        if (Boolean.FALSE.equals(packingExact.get(shape))) return null;
        int rows = chunkRows(n, k);
        Packed p = lib.pack(rows, n, k, w);
        if (!packingExact.containsKey(shape)) {
            try (Arena check = Arena.ofConfined()) {
                MemorySegment a = check.allocate(2L * rows * k, 64), packed = check.allocate(4L * rows * n, 64), plain = check.allocate(4L * rows * n, 64);
                java.util.Random rnd = new java.util.Random(n * 31L + k);
                float[] random = new float[rows * k];
                for (int i = 0; i < random.length; i++) random[i] = rnd.nextFloat() - 0.5f;
                Convert.toBf16(random, 0, random.length, a, 0);
                boolean same = true;
                for (int threads : new int[] {Parallel.threads(), 1}) { // a chunk runs on all threads or on one (rows)
                    lib.setThreads.invokeExact(threads);
                    lib.matmulPacked(n, k, a, p, packed);
                    lib.matmulBf16(1, rows, n, k, true, (long) n * k, a, w, plain);
                    same &= packed.mismatch(plain) == -1;
                }
                packingExact.put(shape, same);
            }
        }
        return packingExact.get(shape) ? p : null;
    }

    /** A bf16 weight's resident form: row-major bf16 in native memory, and (when not null) packed. */
    private record Bf16Resident(MemorySegment plain, Packed packed) {}

    /** B (n x k) as sgemm reads it: op(B) = B^T ('T', ld = k) for row-major storage, B ('N') for column-major. */
    private record Operand(MemorySegment data, byte trans, long ld) {}

    private Operand operand(Matrix b) {
        int k = b.cols();
        if (b.storage() instanceof Matrix.Resident r && r.owner() == this) return new Operand(MemorySegment.ofArray((float[]) r.form()), (byte) 'T', k);
        if (b.dtype() == DType.F32 && b.storage() instanceof Matrix.Mapped m) return new Operand(m.data(), (byte) 'T', k);
        if (b.storage() instanceof Matrix.Strided s && (s.colStride() == 1 || s.rowStride() == 1)) {
            MemorySegment data = MemorySegment.ofArray(s.data()).asSlice(4L * s.offset());
            return s.colStride() == 1 ? new Operand(data, (byte) 'T', s.rowStride()) : new Operand(data, (byte) 'N', s.colStride());
        }
        return new Operand(MemorySegment.ofArray(fp32(b)), (byte) 'T', k);
    }

    private static float[] fp32(Matrix b) {
        int n = b.rows(), k = b.cols();
        float[] f = new float[n * k];
        Parallel.forRows(n, 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) b.row(r, 0, f, r * k, k);
        });
        return f;
    }

    private static MemorySegment bf16(Matrix b, Arena arena) {
        int n = b.rows(), k = b.cols();
        MemorySegment s = arena.allocate(2L * n * k, 64);
        Parallel.forRows(n, 16, (r0, r1) -> {
            float[] row = new float[k];
            for (int r = r0; r < r1; r++) {
                b.row(r, 0, row, 0, k);
                Convert.toBf16(row, 0, k, s, 2L * r * k);
            }
        });
        return s;
    }

    /** The native library, loaded once per process; the reason it did not load, when it did not. */
    private static final class Library {
        /** The bundled oneDNN's version: the cache folder is named after it, so an upgrade never loads stale libraries. */
        private static final String DNNL = "org/bytedeco/dnnl/linux-x86_64/", VERSION = "3.13";
        private static Library loaded;
        private static RuntimeException failure;

        private static final int CPU = 1, BF16 = 2, F32 = 3, IN_ORDER = 1, ARG_SRC = 1, ARG_DST = 17, ARG_WEIGHTS = 33,
                ARG_SCRATCHPAD = 80, SCRATCHPAD_USER = 1, QUERY_WEIGHTS_MD = 131, QUERY_SCRATCHPAD_MD = 136,
                DATA_TYPE_UNDEF = 0, FORMAT_ANY = 1;

        final MethodHandle sgemm, setThreads;
        /** Whether the CPU has AMX tiles (the flag amx_bf16 in /proc/cpuinfo), where deep products run in slices. */
        final boolean amx;
        private final MethodHandle streamCreate, mdCreate, mdCreateAny, pdCreate, reorderCreate, primitiveCreate, memoryCreate, memoryDestroy, execute, streamWait;
        private final MethodHandle queryMd, mdSize, primitiveDestroy, pdDestroy, mdDestroy;
        /** Primitive attributes: the caller's scratchpad; with a sum post-op (c += a · w) for sumAttributes. */
        private final MemorySegment engine, attributes, sumAttributes;
        /** Each thread's scratchpad for the primitives it runs (slot 0). */
        private final ThreadLocal<Scratch> pads = ThreadLocal.withInitial(Scratch::new);
        /** One in-order stream per calling thread (a stream is not for concurrent use). */
        private final ThreadLocal<MemorySegment> streams;
        /** Matmul primitives by shape (batch, m, n, k, layout of w, stride of w's matrices, row strides, accumulation), created once: creating one costs far more than running a small one. */
        private final java.util.concurrent.ConcurrentHashMap<java.util.List<Long>, Primitive> primitives =
                new java.util.concurrent.ConcurrentHashMap<>();
        /** Products on packed weights by (m, n, k). */
        private final java.util.concurrent.ConcurrentHashMap<java.util.List<Long>, Primitive> packedPrimitives =
                new java.util.concurrent.ConcurrentHashMap<>();

        private Library() throws IOException {
            if ("off".equals(System.getProperty("come4j.onednn")))
                throw new IOException("turned off by -Dcome4j.onednn=off");
            String os = System.getProperty("os.name"), arch = System.getProperty("os.arch");
            if (!os.equals("Linux") || !arch.equals("amd64"))
                throw new IOException("come4j ships oneDNN for Linux x86-64 only, not " + os + " " + arch);
            Path dir = cacheDir();
            // OpenMP's threads sleep between products instead of spinning, so they leave the cores to the Java workers
            // (attention, row ops) that run between them; a value the user set is kept
            MethodHandle setenv = Linker.nativeLinker().downcallHandle(Linker.nativeLinker().defaultLookup().find("setenv").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
            try (Arena arena = Arena.ofConfined()) {
                int ignored = (int) setenv.invokeExact(arena.allocateFrom("OMP_WAIT_POLICY"), arena.allocateFrom("PASSIVE"), 0);
            } catch (Throwable t) {
                throw new IOException("setenv failed: " + t);
            }
            // libdnnl links the bundled libgomp: loaded first, it satisfies the link
            for (String lib : new String[] {DNNL + "libgomp.so.1", DNNL + "libdnnl.so.3"})
                System.load(extract(lib, dir).toString());
            amx = cpuFlags().contains(" amx_bf16");
            SymbolLookup symbols = SymbolLookup.loaderLookup();
            Linker linker = Linker.nativeLinker();
            Linker.Option inPlace = Linker.Option.critical(true); // heap arrays passed without a copy
            FunctionDescriptor gemm = FunctionDescriptor.of(JAVA_INT, JAVA_BYTE, JAVA_BYTE, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                    JAVA_FLOAT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_FLOAT, ADDRESS, JAVA_LONG);
            sgemm = linker.downcallHandle(symbols.find("dnnl_sgemm").orElseThrow(), gemm, inPlace);
            setThreads = linker.downcallHandle(symbols.find("omp_set_num_threads").orElseThrow(), FunctionDescriptor.ofVoid(JAVA_INT));
            java.util.function.BiFunction<String, FunctionDescriptor, MethodHandle> fn =
                    (name, d) -> linker.downcallHandle(symbols.find(name).orElseThrow(), d);
            MethodHandle engineCreate = fn.apply("dnnl_engine_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
            streamCreate = fn.apply("dnnl_stream_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
            mdCreate = fn.apply("dnnl_memory_desc_create_with_strides", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
            mdCreateAny = fn.apply("dnnl_memory_desc_create_with_tag", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
            pdCreate = fn.apply("dnnl_matmul_primitive_desc_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
            reorderCreate = fn.apply("dnnl_reorder_primitive_desc_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
            primitiveCreate = fn.apply("dnnl_primitive_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            memoryCreate = fn.apply("dnnl_memory_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
            memoryDestroy = fn.apply("dnnl_memory_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            execute = fn.apply("dnnl_primitive_execute", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
            streamWait = fn.apply("dnnl_stream_wait", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            queryMd = fn.apply("dnnl_primitive_desc_query_md", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT));
            mdSize = fn.apply("dnnl_memory_desc_get_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
            primitiveDestroy = fn.apply("dnnl_primitive_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            pdDestroy = fn.apply("dnnl_primitive_desc_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            mdDestroy = fn.apply("dnnl_memory_desc_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            MethodHandle attrCreate = fn.apply("dnnl_primitive_attr_create", FunctionDescriptor.of(JAVA_INT, ADDRESS)),
                    attrScratchpad = fn.apply("dnnl_primitive_attr_set_scratchpad_mode", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT)),
                    postOpsCreate = fn.apply("dnnl_post_ops_create", FunctionDescriptor.of(JAVA_INT, ADDRESS)),
                    appendSum = fn.apply("dnnl_post_ops_append_sum", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_FLOAT, JAVA_INT, JAVA_INT)),
                    attrPostOps = fn.apply("dnnl_primitive_attr_set_post_ops", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ADDRESS);
                check((int) engineCreate.invokeExact(out, CPU, 0L), "engine");
                engine = out.get(ADDRESS, 0);
                check((int) attrCreate.invokeExact(out), "attributes");
                attributes = out.get(ADDRESS, 0);
                check((int) attrScratchpad.invokeExact(attributes, SCRATCHPAD_USER), "scratchpad mode");
                check((int) attrCreate.invokeExact(out), "attributes");
                sumAttributes = out.get(ADDRESS, 0);
                check((int) attrScratchpad.invokeExact(sumAttributes, SCRATCHPAD_USER), "scratchpad mode");
                check((int) postOpsCreate.invokeExact(out), "post-ops");
                MemorySegment sum = out.get(ADDRESS, 0);
                check((int) appendSum.invokeExact(sum, 1f, 0, DATA_TYPE_UNDEF), "sum post-op");
                check((int) attrPostOps.invokeExact(sumAttributes, sum), "post-ops");
            } catch (Throwable t) {
                throw new IOException("no oneDNN CPU engine: " + t.getMessage());
            }
            streams = ThreadLocal.withInitial(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment out = arena.allocate(ADDRESS);
                    check((int) streamCreate.invokeExact(out, engine, IN_ORDER), "stream");
                    return out.get(ADDRESS, 0);
                } catch (Throwable t) {
                    throw new IllegalStateException(t);
                }
            });
        }

        /**
         * c[m x n] (fp32) = a[m x k] (bf16) · w^T for w n x k (bf16; {@code wRowsN}) or a · w for w k x n, all
         * row-major in native memory; batch > 1: that many such products, a's and c's matrices one after another, w's
         * {@code wStride} elements apart.
         */
        void matmulBf16(int batch, int m, int n, int k, boolean wRowsN, long wStride, MemorySegment a, MemorySegment w, MemorySegment c) throws Throwable {
            matmulBf16(batch, m, n, k, wRowsN, wStride, k, k, false, a, w, c);
        }

        /**
         * The same with a's rows {@code lda} elements apart and (wRowsN) w's rows {@code ldw} apart, e.g. a slice of
         * the depth k of both; {@code accumulate}: c += the product instead of c = it.
         */
        void matmulBf16(int batch, int m, int n, int k, boolean wRowsN, long wStride, long lda, long ldw, boolean accumulate,
                        MemorySegment a, MemorySegment w, MemorySegment c) throws Throwable {
            run(primitives.computeIfAbsent(java.util.List.of((long) batch, (long) m, (long) n, (long) k, wRowsN ? 1L : 0L, wStride,
                    lda, ldw, accumulate ? 1L : 0L), key -> create(batch, m, n, k, wRowsN, wStride, lda, ldw, accumulate)), a, w, c);
        }

        /** c[w.rows() x n] (fp32) = a[w.rows() x k] (bf16) · w^T for a packed w (n x k). */
        void matmulPacked(int n, int k, MemorySegment a, Packed w, MemorySegment c) throws Throwable {
            run(packedPrimitive(w.rows(), n, k), a, w.data(), c);
        }

        /** w (n x k row-major bf16) reordered into the layout oneDNN picks for products of {@code rows} rows. */
        Packed pack(int rows, int n, int k, MemorySegment w) throws Throwable {
            Primitive p = packedPrimitive(rows, n, k);
            MemorySegment layout = p.descriptors[1], data = Arena.ofAuto().allocate((long) mdSize.invokeExact(layout), 64);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ADDRESS), plain = desc(arena, 1, new long[] {k, n}, new long[] {0, 1, k}, BF16);
                check((int) reorderCreate.invokeExact(out, plain, engine, layout, engine, MemorySegment.NULL), "reorder descriptor");
                MemorySegment pd = out.get(ADDRESS, 0);
                check((int) primitiveCreate.invokeExact(out, pd), "reorder primitive");
                MemorySegment reorder = out.get(ADDRESS, 0);
                try {
                    run(new Primitive(reorder, new MemorySegment[] {plain, null, layout}, 0), w, null, data);
                } finally {
                    check((int) primitiveDestroy.invokeExact(reorder), "reorder destroy");
                    check((int) pdDestroy.invokeExact(pd), "reorder descriptor destroy");
                    check((int) mdDestroy.invokeExact(plain), "memory descriptor destroy");
                }
            }
            return new Packed(data, rows);
        }

        /** The product of m rows on weights in the layout oneDNN prefers for it (descriptors[1]). */
        private Primitive packedPrimitive(int m, int n, int k) {
            return packedPrimitives.computeIfAbsent(java.util.List.of((long) m, (long) n, (long) k), key -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment out = arena.allocate(ADDRESS), dims = arena.allocateFrom(JAVA_LONG, k, n);
                    check((int) mdCreateAny.invokeExact(out, 2, dims, BF16, FORMAT_ANY), "memory descriptor");
                    return create(desc(arena, 1, new long[] {m, k}, new long[] {0, k, 1}, BF16), out.get(ADDRESS, 0),
                            desc(arena, 1, new long[] {m, n}, new long[] {0, n, 1}, F32), attributes);
                } catch (RuntimeException e) {
                    throw e;
                } catch (Throwable t) {
                    throw new IllegalStateException(t);
                }
            });
        }

        /** Runs p on src a, weights w, dst c (a null w: a reorder from a to c), with this thread's stream and scratchpad. */
        private void run(Primitive p, MemorySegment a, MemorySegment w, MemorySegment c) throws Throwable {
            MemorySegment stream = streams.get();
            try (Arena arena = Arena.ofConfined()) {
                int[] kinds = w == null ? new int[] {ARG_SRC, ARG_DST} : new int[] {ARG_SRC, ARG_WEIGHTS, ARG_DST, ARG_SCRATCHPAD};
                MemorySegment[] data = w == null ? new MemorySegment[] {a, c} : new MemorySegment[] {a, w, c, p.scratchpadBytes > 0 ? pads.get().get(0, p.scratchpadBytes) : null},
                        descs = w == null ? new MemorySegment[] {p.descriptors[0], p.descriptors[2]} : p.descriptors;
                int nArgs = w != null && p.scratchpadBytes == 0 ? 3 : kinds.length;
                MemorySegment args = arena.allocate(16L * nArgs, 8), mems[] = new MemorySegment[nArgs];
                MemorySegment out = arena.allocate(ADDRESS);
                try {
                    for (int i = 0; i < nArgs; i++) {
                        check((int) memoryCreate.invokeExact(out, descs[i], engine, data[i]), "memory");
                        mems[i] = out.get(ADDRESS, 0);
                        args.set(JAVA_INT, 16L * i, kinds[i]);
                        args.set(ADDRESS, 16L * i + 8, mems[i]);
                    }
                    check((int) execute.invokeExact(p.primitive, stream, nArgs, args), w == null ? "reorder" : "matmul");
                    check((int) streamWait.invokeExact(stream), "stream wait");
                } finally {
                    for (MemorySegment mem : mems) if (mem != null) check((int) memoryDestroy.invokeExact(mem), "memory destroy");
                }
            }
        }

        /**
         * A matmul primitive with its src, weights, dst and scratchpad descriptors. The scratchpad is the caller's
         * (a buffer per thread), so threads may run the same primitive at once.
         */
        private record Primitive(MemorySegment primitive, MemorySegment[] descriptors, long scratchpadBytes) {}

        /** A ab, W^T as ba (W row-major n x k) or W ab, C ab; batched: abc. Accumulating: a sum post-op. */
        private Primitive create(int batch, long m, long n, long k, boolean wRowsN, long wStride, long lda, long ldw, boolean accumulate) {
            try (Arena arena = Arena.ofConfined()) {
                long[] wStrides = wRowsN ? new long[] {wStride, 1, ldw} : new long[] {wStride, n, 1};
                return create(desc(arena, batch, new long[] {m, k}, new long[] {m * lda, lda, 1}, BF16),
                        desc(arena, batch, new long[] {k, n}, wStrides, BF16),
                        desc(arena, batch, new long[] {m, n}, new long[] {m * n, n, 1}, F32), accumulate ? sumAttributes : attributes);
            } catch (RuntimeException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        /** The matmul primitive of these descriptors, its weights descriptor the one it chose (for a format_tag any). */
        private Primitive create(MemorySegment src, MemorySegment wei, MemorySegment dst, MemorySegment attr) throws Throwable {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ADDRESS);
                check((int) pdCreate.invokeExact(out, engine, src, wei, MemorySegment.NULL, dst, attr), "matmul descriptor");
                MemorySegment pd = out.get(ADDRESS, 0);
                check((int) primitiveCreate.invokeExact(out, pd), "matmul primitive");
                MemorySegment pad = (MemorySegment) queryMd.invokeExact(pd, QUERY_SCRATCHPAD_MD, 0),
                        chosen = (MemorySegment) queryMd.invokeExact(pd, QUERY_WEIGHTS_MD, 0);
                return new Primitive(out.get(ADDRESS, 0), new MemorySegment[] {src, chosen, dst, pad}, (long) mdSize.invokeExact(pad));
            }
        }

        /** A 2-d memory descriptor (rows, cols), or 3-d (batch, rows, cols) when batch > 1; strides {batch, row, col}. */
        private MemorySegment desc(Arena arena, int batch, long[] dims2, long[] strides3, int type) throws Throwable {
            int nd = batch > 1 ? 3 : 2, skip = 3 - nd;
            MemorySegment out = arena.allocate(ADDRESS), dims = arena.allocate(JAVA_LONG, 12), strides = arena.allocate(JAVA_LONG, 12);
            if (nd == 3) dims.setAtIndex(JAVA_LONG, 0, batch);
            for (int i = 0; i < 2; i++) dims.setAtIndex(JAVA_LONG, nd - 2 + i, dims2[i]);
            for (int i = 0; i < nd; i++) strides.setAtIndex(JAVA_LONG, i, strides3[skip + i]);
            check((int) mdCreate.invokeExact(out, nd, dims, type, strides), "memory descriptor");
            return out.get(ADDRESS, 0);
        }

        private static String cpuFlags() {
            try {
                return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("flags")).findFirst().orElse("") + " ";
            } catch (IOException e) {
                return "";
            }
        }

        private static void check(int status, String what) {
            if (status != 0) throw new IllegalStateException("oneDNN " + what + " failed with status " + status);
        }

        static synchronized Library get() {
            if (loaded == null && failure == null) {
                try {
                    loaded = new Library();
                } catch (IOException | UnsatisfiedLinkError | RuntimeException e) {
                    failure = new IllegalStateException(e.getMessage() == null ? e.toString() : e.getMessage(), e);
                }
            }
            if (failure != null) throw failure;
            return loaded;
        }

        /**
         * Where the libraries are extracted once per machine: the user's cache ($XDG_CACHE_HOME or ~/.cache), not the
         * temp folder, which holds a run's scratch and is left empty after it; the temp folder when the cache is not
         * writable.
         */
        private static Path cacheDir() throws IOException {
            String xdg = System.getenv("XDG_CACHE_HOME");
            Path cache = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
            try {
                return Files.createDirectories(cache.resolve("come4j").resolve("onednn-" + VERSION));
            } catch (IOException e) {
                return Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "come4j-onednn-" + VERSION + "-" + System.getProperty("user.name")));
            }
        }

        /** A library from the class path into dir (once: a file of the right size is reused; written atomically). */
        private static Path extract(String resource, Path dir) throws IOException {
            URL url = OneDnnBackend.class.getClassLoader().getResource(resource);
            if (url == null) throw new IOException(resource.substring(resource.lastIndexOf('/') + 1) + " is not on the class path");
            Path target = dir.resolve(resource.substring(resource.lastIndexOf('/') + 1));
            long size = url.openConnection().getContentLengthLong();
            if (Files.exists(target) && Files.size(target) == size) return target;
            Path tmp = Files.createTempFile(dir, target.getFileName().toString(), ".part");
            try (InputStream in = url.openStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return target;
        }
    }
}
