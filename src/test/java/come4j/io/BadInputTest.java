package come4j.io;

import static come4j.io.Fixtures.assertBadInput;
import static come4j.io.Fixtures.safetensors;
import static org.junit.jupiter.api.Assertions.assertEquals;

import come4j.model.Checkpoint;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of unusable input is reported as BadInputException naming the file and the problem. */
class BadInputTest {
    @TempDir Path tmp;
    private final Arena arena = Arena.ofShared();

    @AfterEach
    void closeArena() {
        arena.close();
    }

    private void open(Path file) {
        SafeTensorsFile.open(file, arena);
    }

    @Test
    void fileShorterThanTheLengthPrefix() throws IOException {
        Path f = Files.write(tmp.resolve("short.safetensors"), new byte[5]);
        assertBadInput(f, "truncated safetensors file: 5 bytes", () -> open(f));
    }

    @Test
    void dataCutShort() throws IOException {
        try (var w = new SafeTensorsWriter(tmp, List.of(new TensorSpec("w", DType.F32, new long[] {2, 3})))) {
            w.write("w", new float[6]);
            w.finish();
        }
        Path f = tmp.resolve("model.safetensors");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 10);
        }
        assertBadInput(f, "tensor 'w' has data_offsets [0, 24] outside the data section (14 bytes)", () -> open(f));
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        Path f = safetensors(tmp.resolve("x.safetensors"), "{}", 0);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {(byte) 0xE8, 3}), 0); // 1000
        }
        assertBadInput(f, "header length 1000 goes beyond the file (10 bytes)", () -> open(f));
    }

    @Test
    void dataOffsetsOutOfRange() throws IOException {
        Path f = safetensors(tmp.resolve("x.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 8);
        assertBadInput(f, "tensor 'w' has data_offsets [8, 16] outside the data section (8 bytes)", () -> open(f));
        Path g = safetensors(tmp.resolve("y.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8);
        assertBadInput(g, "tensor 'w' has data_offsets [8, 0] that end before they begin", () -> open(g));
    }

    @Test
    void overlappingTensors() throws IOException {
        Path f = safetensors(tmp.resolve("x.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 24);
        assertBadInput(f, "tensors 'a' and 'b' overlap", () -> open(f));
    }

    @Test
    void byteCountNotMatchingShapeAndDtype() throws IOException {
        Path f = safetensors(tmp.resolve("x.safetensors"),
                "{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 24);
        assertBadInput(f, "tensor 'w' holds 24 bytes but its shape and dtype need 12", () -> open(f));
    }

    @Test
    void shapeTooLargeToAddress() throws IOException {
        Path f = safetensors(tmp.resolve("x.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 0);
        assertBadInput(f, "tensor 'w' has a shape too large to address", () -> open(f));
    }

    @Test
    void unsupportedDtypes() throws IOException {
        for (String dtype : List.of("I64", "F8_E4M3")) {
            Path f = safetensors(tmp.resolve(dtype + ".safetensors"),
                    "{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8);
            assertBadInput(f, "tensor 'w' has dtype " + dtype + ", which come4j does not support (supported: F32, F16, BF16)",
                    () -> open(f));
        }
    }

    @Test
    void missingTensor() throws IOException {
        Fixtures.writeConfig(tmp);
        safetensors(tmp.resolve("model.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        try (Checkpoint ckpt = Checkpoint.open(tmp)) {
            assertBadInput(tmp, "missing tensor 'model.norm.weight'", () -> ckpt.tensor("model.norm.weight"));
        }
    }

    @Test
    void malformedConfig() throws IOException {
        Path config = Files.writeString(tmp.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\",");
        assertBadInput(config, "malformed JSON", () -> Checkpoint.open(tmp));
    }

    @Test
    void configMissingHiddenSize() throws IOException {
        Path config = Files.writeString(tmp.resolve("config.json"), Fixtures.LLAMA_CONFIG.replace("\"hidden_size\": 8,", ""));
        assertBadInput(config, "missing field 'hidden_size'", () -> Checkpoint.open(tmp));
    }

    @Test
    void unsupportedArchitecture() throws IOException {
        Path config = Files.writeString(tmp.resolve("config.json"),
                Fixtures.LLAMA_CONFIG.replace("LlamaForCausalLM", "GPT2LMHeadModel"));
        assertBadInput(config, "architecture GPT2LMHeadModel is not supported (supported: LlamaForCausalLM, "
                + "MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, OPTForCausalLM, Gemma3ForCausalLM, Phi3ForCausalLM)", () -> Checkpoint.open(tmp));
    }

    /** Unknown non-layer tensors and a declared buffer of a layer are kept (the writers copy them); the layer index is checked. */
    @Test
    void tensorNamesCheckedAgainstTheLayerCount() throws IOException {
        Fixtures.writeConfig(tmp);
        String entry = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[%d,%d]}";
        safetensors(tmp.resolve("model.safetensors"), "{\"model.extra\":" + entry.formatted(0, 4)
                + ",\"model.layers.0.self_attn.rotary_emb.inv_freq\":" + entry.formatted(4, 8) + "}", 8);
        try (Checkpoint ckpt = Checkpoint.open(tmp)) {
            assertEquals(2, ckpt.tensors().size());
        }
        safetensors(tmp.resolve("model.safetensors"), "{\"model.layers.01.mlp.up_proj.weight\":" + entry.formatted(0, 4) + "}", 4);
        assertBadInput(tmp, "tensor 'model.layers.01.mlp.up_proj.weight' has no layer index", () -> Checkpoint.open(tmp));
        safetensors(tmp.resolve("model.safetensors"), "{\"model.layers.99999999999.mlp.up_proj.weight\":" + entry.formatted(0, 4) + "}", 4);
        assertBadInput(tmp, "names layer 99999999999 but config.json has num_hidden_layers", () -> Checkpoint.open(tmp));
    }

    @Test
    void textInputs() throws IOException {
        Path crlf = Files.writeString(tmp.resolve("crlf.txt"), "one\r\ntwo\rthree\n");
        assertEquals(List.of("one", "two", "three"), TextFiles.lines(crlf));
        Path cut = Files.write(tmp.resolve("cut.txt"), new byte[] {'a', '\n', 'b', (byte) 0xC3}); // a 2-byte sequence cut at the end
        assertBadInput(cut, "is not valid UTF-8: byte 0xC3 at offset 3 (line 2)", () -> TextFiles.read(cut));
        assertBadInput(tmp.resolve("none.txt"), "text file not found", () -> TextFiles.read(tmp.resolve("none.txt")));
        Path jsonl = Files.writeString(tmp.resolve("docs.jsonl"), "{\"text\": \"a\"}\n\n{\"page\": \"b\"}\n");
        assertEquals(List.of("a", "b"), TextFiles.documents(jsonl));
    }

    @Test
    void noWeightsFile() throws IOException {
        Fixtures.writeConfig(tmp);
        assertBadInput(tmp, "no model.safetensors or model.safetensors.index.json in this folder", () -> Checkpoint.open(tmp));
    }

    @Test
    void shardListedInTheIndexMissing() throws IOException {
        Fixtures.writeConfig(tmp);
        Files.writeString(tmp.resolve(SafeTensorsWriter.INDEX),
                "{\"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\"}}");
        assertBadInput(tmp.resolve("model-00001-of-00002.safetensors"), "shard listed in model.safetensors.index.json is missing",
                () -> Checkpoint.open(tmp));
    }

    @Test
    void shardOutsideTheFolder() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("ckpt"));
        Fixtures.writeConfig(dir);
        safetensors(tmp.resolve("elsewhere.safetensors"), "{}", 0);
        Path index = Files.writeString(dir.resolve(SafeTensorsWriter.INDEX),
                "{\"weight_map\": {\"a\": \"../elsewhere.safetensors\"}}");
        assertBadInput(index, "shard '../elsewhere.safetensors' lies outside this folder", () -> Checkpoint.open(dir));
    }

    /** huggingface_hub's cache: snapshots/<rev>/<file> links to ../../blobs/<hash>, which is accepted (and only that). */
    @Test
    void huggingFaceCacheLinksAreFollowed() throws IOException {
        Path repo = tmp.resolve("models--org--tiny"), blobs = Files.createDirectories(repo.resolve("blobs"));
        Path snapshot = Files.createDirectories(repo.resolve("snapshots/abc123"));
        Fixtures.writeConfig(snapshot);
        safetensors(blobs.resolve("5f1e"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        Files.createSymbolicLink(snapshot.resolve("model-00001-of-00001.safetensors"), Path.of("../../blobs/5f1e"));
        Files.writeString(snapshot.resolve(SafeTensorsWriter.INDEX), "{\"weight_map\": {\"a\": \"model-00001-of-00001.safetensors\"}}");
        try (Checkpoint ckpt = Checkpoint.open(snapshot)) {
            assertEquals(java.util.Set.of("a"), ckpt.tensors().keySet());
        }
        Files.move(blobs.resolve("5f1e"), tmp.resolve("5f1e"));
        Files.delete(snapshot.resolve("model-00001-of-00001.safetensors"));
        Files.createSymbolicLink(snapshot.resolve("model-00001-of-00001.safetensors"), tmp.resolve("5f1e"));
        assertBadInput(snapshot.resolve(SafeTensorsWriter.INDEX), "is a link to", () -> Checkpoint.open(snapshot));
    }
}
