package come4j.io;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import come4j.model.Checkpoint;
import come4j.model.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing (Jazzer) of the parsers of untrusted files. The invariant: any input parses into something
 * consistent (checked) or is refused with {@link BadInputException}; any other exception, a hang or running out of
 * memory is a finding.
 *
 * <p>Without JAZZER_FUZZ these run as regression tests over the seeds and past findings in
 * src/test/resources/come4j/io/ParserFuzzTestInputs/; `mvn verify` fuzzes all three through {@link #allParsers} for a
 * few seconds (surefire execution fuzz-parsers), bench/fuzz.sh each one for longer (fuzz-header, fuzz-index, fuzz-config).
 */
class ParserFuzzTest {
    private static final Path SCRATCH = scratch();

    @FuzzTest(maxDuration = "5s")
    @DictionaryEntries({"\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"F32\"", "\"BF16\"", "\"F16\"", "\"__metadata__\"",
            "18446744073709551616", "-1", "1e300", "[0,4]"})
    void safetensorsHeader(FuzzedDataProvider in) {
        header(in);
    }

    /** A folder with a good config.json and model.safetensors (tensor "a"), an outside file and links in and out. */
    @FuzzTest(maxDuration = "5s")
    @DictionaryEntries({"\"weight_map\"", "\"a\"", "\"model.safetensors\"", "\"../outside.safetensors\"", "\"/etc/passwd\"",
            "\"in.safetensors\"", "\"out.safetensors\"", "\"config.json\"", "\"model.safetensors.index.json\""})
    void index(byte[] json) {
        checkIndex(json);
    }

    @FuzzTest(maxDuration = "5s")
    @DictionaryEntries({"\"architectures\"", "\"LlamaForCausalLM\"", "\"Qwen3ForCausalLM\"", "\"hidden_size\"",
            "\"num_attention_heads\"", "\"num_key_value_heads\"", "\"head_dim\"", "\"num_hidden_layers\"", "\"intermediate_size\"",
            "\"vocab_size\"", "\"rope_scaling\"", "\"rope_type\"", "\"llama3\"", "\"layer_types\"", "\"sliding_attention\"",
            "\"use_sliding_window\"", "\"sliding_window\"", "\"max_window_layers\"", "\"eos_token_id\"", "2147483647", "-1"})
    void config(byte[] json) {
        checkConfig(json);
    }

    /** The three at once, chosen by the input, for the short run of `mvn verify`: Jazzer fuzzes one test per JVM. */
    @FuzzTest(maxDuration = "8s")
    void allParsers(FuzzedDataProvider in) {
        switch (in.consumeInt(0, 2)) {
            case 0 -> header(in);
            case 1 -> checkIndex(in.consumeRemainingAsBytes());
            default -> checkConfig(in.consumeRemainingAsBytes());
        }
    }

    private static void header(FuzzedDataProvider in) {
        boolean prefixed = in.consumeBoolean(); // most inputs get a correct length prefix, so the JSON is reached
        int dataBytes = in.consumeInt(0, 1 << 12);
        byte[] body = in.consumeRemainingAsBytes();
        byte[] file = body;
        if (prefixed) {
            ByteBuffer b = ByteBuffer.allocate(8 + body.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
            file = b.putLong(body.length).put(body).array();
        }
        if (file.length < 8) return; // open() refuses these before parsing
        try {
            for (TensorData t : SafeTensorsFile.parse(SCRATCH.resolve("fuzzed.safetensors"), MemorySegment.ofArray(file)).values())
                if (t.data().byteSize() != Math.multiplyExact(t.numel(), t.dtype().bytes))
                    throw new AssertionError("accepted tensor '" + t.name() + "' whose bytes do not match its shape");
        } catch (BadInputException expected) {
            // refused with a message: fine
        }
    }

    private static void checkIndex(byte[] json) {
        Path dir = SCRATCH.resolve("ckpt");
        write(dir.resolve(SafeTensorsWriter.INDEX), json);
        try (Checkpoint c = Checkpoint.open(dir)) {
            c.tensors();
        } catch (BadInputException expected) {
            // refused with a message: fine
        }
    }

    private static void checkConfig(byte[] json) {
        Path file = SCRATCH.resolve("config.json");
        write(file, json);
        try {
            ModelConfig c = ModelConfig.load(file);
            if (c.numHeads() % c.numKvHeads() != 0 || c.qDim() <= 0 || c.kvDim() <= 0 || c.slidingWindow().length != c.numLayers())
                throw new AssertionError("accepted an inconsistent config: " + c);
            c.withLayers(new int[] {0});
        } catch (BadInputException expected) {
            // refused with a message: fine
        }
    }

    private static Path scratch() {
        try {
            // a file write costs ~2 ms on the container's overlay disk and ~20 us in memory: 100 times more inputs
            Path shm = Path.of("/dev/shm");
            Path root = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "come4j-fuzz")
                    : Files.createTempDirectory("come4j-fuzz");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    TempFolder.deleteTree(root);
                } catch (IOException e) {
                    // best effort: a few small files
                }
            }));
            Path dir = Files.createDirectory(root.resolve("ckpt"));
            Files.writeString(dir.resolve("config.json"), Fixtures.LLAMA_CONFIG);
            Fixtures.safetensors(dir.resolve("model.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
            Fixtures.safetensors(root.resolve("outside.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
            Files.createSymbolicLink(dir.resolve("in.safetensors"), dir.resolve("model.safetensors"));
            Files.createSymbolicLink(dir.resolve("out.safetensors"), root.resolve("outside.safetensors"));
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
