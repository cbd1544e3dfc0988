package come4j.tensor;

import come4j.io.DType;
import java.io.IOException;
import java.io.InputStream;
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
 * Products of many rows on oneDNN's GEMM (the library inside org.bytedeco:dnnl's Linux x86-64 jar, called through
 * the JDK's foreign function interface: no JNI wrapper, no install step). bf16 compute runs
 * {@code dnnl_gemm_bf16bf16f32}: bf16 operands, fp32 accumulation, on the AVX512-BF16 / AMX units where the CPU has
 * them; fp32 compute runs {@code dnnl_sgemm}. Arrays are passed in place (critical downcalls), mmap'd weights of the
 * compute dtype by address, so the only copy is A's rounding to bf16. What oneDNN does not win stays on the Vector API
 * (docs/results.md, "Backends"): products of few rows (generation, short requests) and the per-thread products of
 * attention and of work already split across threads.
 */
public final class OneDnnBackend implements Backend {
    /** Fewer rows than this go to the Vector API: a native call and A's conversion do not pay off there. */
    static final int MIN_ROWS = 16;

    private final DType compute;
    private final Library lib;
    private final VectorBackend vector;
    private static OneDnnBackend bf16, f32;

    private OneDnnBackend(DType compute, Library lib) {
        this.compute = compute;
        this.lib = lib;
        this.vector = compute == DType.BF16 ? VectorBackend.BF16 : VectorBackend.FP32;
    }

    /** The backend with this compute dtype; throws with the reason when the library does not load here. */
    static synchronized OneDnnBackend load(DType compute) {
        Library lib = Library.get();
        if (compute == DType.BF16) return bf16 == null ? bf16 = new OneDnnBackend(compute, lib) : bf16;
        return f32 == null ? f32 = new OneDnnBackend(DType.F32, lib) : f32;
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
        int n = b.rows(), k = b.cols();
        Operand w = operand(b);
        try {
            lib.setThreads.invokeExact(Parallel.threads());
            int status;
            if (compute == DType.BF16) {
                short[] ab = new short[m * k];
                Parallel.forRows(m, 16, (r0, r1) -> Convert.toBf16(a, r0 * k, (r1 - r0) * k, ab, r0 * k));
                status = (int) lib.gemmBf16.invokeExact((byte) 'N', w.trans, (long) m, (long) n, (long) k, 1f,
                        MemorySegment.ofArray(ab), (long) k, w.data, w.ld, 0f, MemorySegment.ofArray(c), (long) n);
            } else {
                status = (int) lib.sgemm.invokeExact((byte) 'N', w.trans, (long) m, (long) n, (long) k, 1f,
                        MemorySegment.ofArray(a), (long) k, w.data, w.ld, 0f, MemorySegment.ofArray(c), (long) n);
            }
            if (status != 0) throw new IllegalStateException("oneDNN gemm failed with status " + status);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Per-thread products (attention blocks, rows already split): the Vector API, with the same rounding. */
    @Override
    public void matmul(float[] a, int aOff, int lda, int m, Matrix b, float[] c, int cOff, int ldc) {
        vector.matmul(a, aOff, lda, m, b, c, cOff, ldc);
    }

    /** A weight of the compute dtype in native memory is used where it is; anything else is converted once. */
    @Override
    public Matrix prepare(Matrix w) {
        if (w.storage() instanceof Matrix.Resident r && r.owner() == this) return w;
        if (w.storage() instanceof Matrix.Mapped && w.dtype() == compute) return w;
        return Matrix.resident(w, this, converted(w));
    }

    /** B (n x k) as oneDNN reads it: op(B) = B^T ('T', ld = k) for row-major storage, B ('N') for column-major. */
    private record Operand(MemorySegment data, byte trans, long ld) {}

    private Operand operand(Matrix b) {
        int k = b.cols();
        if (b.storage() instanceof Matrix.Resident r && r.owner() == this) return rowMajor(r.form(), k);
        if (b.dtype() == compute && b.storage() instanceof Matrix.Mapped m) return new Operand(m.data(), (byte) 'T', k);
        if (compute == DType.F32 && b.storage() instanceof Matrix.Strided s && (s.colStride() == 1 || s.rowStride() == 1)) {
            MemorySegment data = MemorySegment.ofArray(s.data()).asSlice(4L * s.offset());
            return s.colStride() == 1 ? new Operand(data, (byte) 'T', s.rowStride()) : new Operand(data, (byte) 'N', s.colStride());
        }
        return rowMajor(converted(b), k);
    }

    private static Operand rowMajor(Object form, int k) {
        return new Operand(form instanceof short[] s ? MemorySegment.ofArray(s) : MemorySegment.ofArray((float[]) form), (byte) 'T', k);
    }

    /** b's rows in the compute dtype, row-major on the heap (short[] of bf16 bits or float[]). */
    private Object converted(Matrix b) {
        int n = b.rows(), k = b.cols();
        if (compute == DType.F32) {
            float[] f = new float[n * k];
            Parallel.forRows(n, 16, (r0, r1) -> {
                for (int r = r0; r < r1; r++) b.row(r, 0, f, r * k, k);
            });
            return f;
        }
        short[] s = new short[n * k];
        Parallel.forRows(n, 16, (r0, r1) -> {
            float[] row = new float[k];
            for (int r = r0; r < r1; r++) {
                b.row(r, 0, row, 0, k);
                Convert.toBf16(row, 0, k, s, r * k);
            }
        });
        return s;
    }

    /** The native library, loaded once per process; the reason it did not load, when it did not. */
    private static final class Library {
        private static final String DNNL = "org/bytedeco/dnnl/linux-x86_64/", OPENCL = "org/bytedeco/opencl/linux-x86_64/";
        private static Library loaded;
        private static RuntimeException failure;

        final MethodHandle sgemm, gemmBf16, setThreads;

        private Library() throws IOException {
            if ("off".equals(System.getProperty("come4j.onednn")))
                throw new IOException("turned off by -Dcome4j.onednn=off");
            String os = System.getProperty("os.name"), arch = System.getProperty("os.arch");
            if (!os.equals("Linux") || !arch.equals("amd64"))
                throw new IOException("come4j ships oneDNN for Linux x86-64 only, not " + os + " " + arch);
            Path dir = Path.of(System.getProperty("java.io.tmpdir"), "come4j-onednn-3.8.1-" + System.getProperty("user.name"));
            Files.createDirectories(dir);
            // libdnnl links libOpenCL (its GPU engine; never used here) and libgomp: loaded first, they satisfy it
            for (String lib : new String[] {OPENCL + "libOpenCL.so.1", DNNL + "libgomp.so.1", DNNL + "libdnnl.so.3"})
                System.load(extract(lib, dir).toString());
            SymbolLookup symbols = SymbolLookup.loaderLookup();
            Linker linker = Linker.nativeLinker();
            Linker.Option inPlace = Linker.Option.critical(true); // heap arrays passed without a copy
            FunctionDescriptor gemm = FunctionDescriptor.of(JAVA_INT, JAVA_BYTE, JAVA_BYTE, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                    JAVA_FLOAT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_FLOAT, ADDRESS, JAVA_LONG);
            sgemm = linker.downcallHandle(symbols.find("dnnl_sgemm").orElseThrow(), gemm, inPlace);
            gemmBf16 = linker.downcallHandle(symbols.find("dnnl_gemm_bf16bf16f32").orElseThrow(), gemm, inPlace);
            setThreads = linker.downcallHandle(symbols.find("omp_set_num_threads").orElseThrow(), FunctionDescriptor.ofVoid(JAVA_INT));
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
