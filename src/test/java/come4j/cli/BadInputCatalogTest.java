package come4j.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed checkpoints, one defect each, made from a copy of a good fixture and fed to `come compress`: each must be
 * refused with exit code 2 and one line naming the file and the problem. The lines go to target/bad-inputs.md (a copy
 * is kept as docs/bad-inputs.md).
 */
class BadInputCatalogTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> ROWS = new ArrayList<>();

    /** Damages the checkpoint copy in {@code dir}. */
    interface Damage {
        void apply(Path dir) throws Exception;
    }

    record Case(String what, String file, String problem, Damage damage) {
        @Override
        public String toString() {
            return what;
        }
    }

    static Stream<Case> cases() {
        String st = "model.safetensors", cfg = "config.json", idx = "model.safetensors.index.json", tok = "tokenizer.json";
        return Stream.of(
                // safetensors: the length prefix and the header
                new Case("empty weights file", st, "truncated safetensors file: 0 bytes", d -> Files.write(d.resolve(st), new byte[0])),
                new Case("file shorter than the length prefix", st, "truncated safetensors file: 5 bytes", d -> Files.write(d.resolve(st), new byte[5])),
                new Case("header length claims 100 GB", st, "header length 100000000000 goes beyond the file", d -> setHeaderLength(d, 100_000_000_000L)),
                new Case("header length 2^64-1 (negative as a signed long)", st, "header length 18446744073709551615 goes beyond", d -> setHeaderLength(d, -1)),
                new Case("header length 0", st, "header length 0 is too small", d -> setHeaderLength(d, 0)),
                new Case("150 MB header in a sparse 200 MB file", st, "exceeds the 100000000-byte limit", BadInputCatalogTest::hugeHeader),
                new Case("header is not JSON", st, "header malformed JSON", d -> rawHeader(d, "this is not json")),
                new Case("header is not UTF-8", st, "header is not valid UTF-8", d -> rawHeader(d, new byte[] {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'})),
                new Case("header is a JSON array", st, "header is not a JSON object", d -> rawHeader(d, "[1, 2, 3]")),
                new Case("header nested 10000 deep", st, "nesting depth", d -> rawHeader(d, "{\"a\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}")),
                new Case("duplicate tensor name in the header", st, "Duplicate field 'lm_head.weight'", BadInputCatalogTest::duplicateKey),
                new Case("data after the header's JSON object", st, "header malformed JSON", d -> editHeader(d, h -> h + "{}")),
                // safetensors: the tensor entries
                new Case("tensor without dtype", st, "tensor 'lm_head.weight' lacks dtype, shape or data_offsets", d -> editTensor(d, t -> t.without("dtype"))),
                new Case("unsupported dtype I64", st, "has dtype I64, which come4j does not support", d -> editTensor(d, t -> t.put("dtype", "I64"))),
                new Case("negative dimension", st, "shape entry -384 that is not a non-negative integer", d -> editTensor(d, t -> shape(t, -384, 64))),
                new Case("dimension written as a string", st, "shape entry \"384\" that is not a non-negative integer", d -> editTensor(d, t -> t.set("shape", JSON.createArrayNode().add("384").add(64)))),
                new Case("fractional dimension", st, "shape entry 2.5 that is not a non-negative integer", d -> editTensor(d, t -> t.set("shape", JSON.createArrayNode().add(2.5).add(64)))),
                new Case("dimension beyond 64 bits (would wrap to 1)", st, "shape entry 18446744073709551617", d -> editHeader(d, h -> h.replace("[384,64]", "[18446744073709551617,64]"))),
                new Case("shape product overflows 64 bits", st, "shape too large to address", d -> editTensor(d, t -> shape(t, 1L << 32, 1L << 32))),
                new Case("data_offsets beyond the data section", st, "outside the data section", d -> editTensor(d, t -> offsets(t, 0, 1L << 40))),
                new Case("data_offsets end before they begin", st, "that end before they begin", d -> editTensor(d, t -> offsets(t, 49152, 0))),
                new Case("negative data offset", st, "data_offsets entry -8", d -> editTensor(d, t -> offsets(t, -8, 49144))),
                new Case("two tensors sharing bytes", st, "overlap", d -> editTensor(d, t -> offsets(t, 49152, 98304))),
                new Case("byte count not matching shape x dtype", st, "holds 49152 bytes but its shape and dtype need 24576", d -> editTensor(d, t -> shape(t, 192, 64))),
                new Case("weights file cut short", st, "outside the data section", d -> truncate(d.resolve(st))),
                // the shard index
                new Case("index entry with ..", idx, "shard '../outside.safetensors' lies outside this folder", d -> index(d, "\"../outside.safetensors\"")),
                new Case("index entry with an absolute path", idx, "shard '/etc/passwd' lies outside this folder", d -> index(d, "\"/etc/passwd\"")),
                new Case("index entry is a link leaving the folder", idx, "is a link to", BadInputCatalogTest::linkedShard),
                new Case("index entry not a string", idx, "is 7, not a file name", d -> index(d, "7")),
                new Case("index entry empty", idx, "shard '' lies outside this folder", d -> index(d, "\"\"")),
                new Case("index names a missing shard", "model-00002-of-00002.safetensors", "shard listed in model.safetensors.index.json is missing", d -> index(d, "\"model-00002-of-00002.safetensors\"")),
                new Case("index without weight_map", idx, "has no weight_map object", d -> Files.writeString(d.resolve(idx), "{\"metadata\": {}}")),
                new Case("index names a tensor its shard lacks", st, "tensor 'model.extra' listed in model.safetensors.index.json is not in this shard", d -> Files.writeString(d.resolve(idx), "{\"weight_map\": {\"model.extra\": \"model.safetensors\"}}")),
                // config.json
                new Case("config.json missing", cfg, "missing (every checkpoint needs a config.json)", d -> Files.delete(d.resolve(cfg))),
                new Case("config.json malformed", cfg, "malformed JSON", d -> Files.writeString(d.resolve(cfg), "{\"hidden_size\": 64,")),
                new Case("config.json with a duplicate key", cfg, "Duplicate field 'hidden_size'", d -> editConfig(d, c -> c.replace("\"hidden_size\": 64,", "\"hidden_size\": 64, \"hidden_size\": 32,"))),
                new Case("negative hidden_size", cfg, "field 'hidden_size' must be a positive integer", d -> editConfig(d, c -> c.replace("\"hidden_size\": 64", "\"hidden_size\": -64"))),
                new Case("hidden_size as a string", cfg, "field 'hidden_size' must be a positive integer", d -> editConfig(d, c -> c.replace("\"hidden_size\": 64", "\"hidden_size\": \"64\""))),
                new Case("absurd num_hidden_layers", cfg, "field 'num_hidden_layers' must be a positive integer up to 4096, not 1000000000", d -> editConfig(d, c -> c.replace("\"num_hidden_layers\": 3", "\"num_hidden_layers\": 1000000000"))),
                new Case("kv heads not dividing the heads", cfg, "num_attention_heads 4 is not a multiple of num_key_value_heads 3", d -> editConfig(d, c -> c.replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3"))),
                new Case("hidden_size not a multiple of the heads (no head_dim)", cfg, "hidden_size 66 is not a multiple of num_attention_heads 4", d -> editConfig(d, c -> c.replace("\"head_dim\": 16,", "").replace("\"hidden_size\": 64", "\"hidden_size\": 66"))),
                new Case("head_dim x heads not matching the weights", "", "has shape [64, 64] but config.json implies [32, 64]", d -> editConfig(d, c -> c.replace("\"head_dim\": 16", "\"head_dim\": 8"))),
                new Case("more layers in config.json than in the weights", "", "missing tensor 'model.layers.3.", d -> editConfig(d, c -> c.replace("\"num_hidden_layers\": 3", "\"num_hidden_layers\": 4"))),
                new Case("negative rms_norm_eps", cfg, "field 'rms_norm_eps' must be a positive number, not -1.0E-5", d -> editConfig(d, c -> c.replace("\"rms_norm_eps\": 1e-05", "\"rms_norm_eps\": -1e-05"))),
                new Case("zero rope factor", cfg, "field 'factor' must be a positive number, not 0.0", d -> editConfig(d, c -> c.replace("\"factor\": 8.0", "\"factor\": 0.0"))),
                new Case("layer_types of the wrong length", cfg, "layer_types has 1 entries but num_hidden_layers is 3", d -> editConfig(d, c -> c.replace("\"vocab_size\"", "\"layer_types\": [\"full_attention\"], \"vocab_size\""))),
                new Case("unsupported architecture", cfg, "architecture GPT2LMHeadModel is not supported", d -> editConfig(d, c -> c.replace("LlamaForCausalLM", "GPT2LMHeadModel"))),
                // tokenizer.json
                new Case("tokenizer.json missing", tok, "missing tokenizer", d -> Files.delete(d.resolve(tok))),
                new Case("tokenizer.json malformed", tok, "malformed JSON", d -> Files.writeString(d.resolve(tok), "{\"model\": {")),
                new Case("tokenizer.json without a model", tok, "has no \"model\" object", d -> Files.writeString(d.resolve(tok), "{\"version\": \"1.0\"}")),
                new Case("tokenizer ids beyond vocab_size", tok, "has token id 5000 but config.json has vocab_size 384", d -> Files.writeString(d.resolve(tok),
                        Files.readString(d.resolve(tok)).replaceFirst("\"id\": ?2,", "\"id\": 5000,"))),
                new Case("tokenizer of an unknown model type", tok, "cannot load tokenizer", d -> Files.writeString(d.resolve(tok), "{\"model\": {\"type\": \"Nope\"}}")));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void refusedWithOneLineNamingTheFile(Case c, @TempDir Path tmp) throws Exception {
        Path dir = CliTest.copyFixture(tmp), out = tmp.resolve("out");
        c.damage().apply(dir);
        CliTest.Run r = CliTest.run("compress", "--model", dir.toString(), "--out", out.toString(), "--target-layers", "2",
                "--calib", CliTest.PPL.toString(), "--seq-len", "32");
        String line = CliTest.errorLine(r);
        CliTest.assertBadInput(r, c.problem(), c.file().isEmpty() ? dir.toString() : dir.resolve(c.file()) + ": ");
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(tmp.resolve(".out.run")), "a refused run leaves no run folder");
        ROWS.add("| " + (ROWS.size() + 1) + " | " + c.what() + " | " + line.replace(dir.toString(), "CKPT").replace(tmp.toString(), "TMP")
                .replace("|", "\\|").replace("`", "'") + " |");
    }

    @AfterAll
    static void writeTable() throws Exception {
        assertTrue(ROWS.size() >= 30, "at least 30 kinds of bad input");
        Path table = Path.of("target/bad-inputs.md");
        Files.createDirectories(table.getParent());
        Files.writeString(table, "# Bad inputs tried by BadInputCatalogTest\n\n"
                + "Each row: one defect in a copy of a good checkpoint (CKPT), and the line `come compress` printed (exit code 2).\n\n"
                + "| # | input | message |\n| --- | --- | --- |\n" + String.join("\n", ROWS) + "\n");
    }

    // --- ways to damage a checkpoint ---

    private static void setHeaderLength(Path dir, long length) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("model.safetensors").toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(length).array());
        }
    }

    /** A header length within the file but over the cap: refused before the header is read into memory. */
    private static void hugeHeader(Path dir) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("model.safetensors").toFile(), "rw")) {
            f.setLength(200_000_000);
        }
        setHeaderLength(dir, 150_000_000);
    }

    private static String header(Path dir) throws Exception {
        byte[] all = Files.readAllBytes(dir.resolve("model.safetensors"));
        int n = (int) ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return new String(all, 8, n, StandardCharsets.UTF_8);
    }

    /** Replaces the header, keeping the data section. */
    private static void rawHeader(Path dir, byte[] header) throws Exception {
        Path f = dir.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(f);
        int n = (int) ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + all.length - 8 - n).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header).put(all, 8 + n, all.length - 8 - n);
        Files.write(f, b.array());
    }

    private static void rawHeader(Path dir, String header) throws Exception {
        rawHeader(dir, header.getBytes(StandardCharsets.UTF_8));
    }

    private static void editHeader(Path dir, UnaryOperator<String> edit) throws Exception {
        rawHeader(dir, edit.apply(header(dir).strip()));
    }

    /** Edits the entry of the first tensor, lm_head.weight: BF16 [384, 64] at [0, 49152]. */
    private static void editTensor(Path dir, java.util.function.Consumer<ObjectNode> edit) throws Exception {
        ObjectNode h = (ObjectNode) JSON.readTree(header(dir));
        edit.accept((ObjectNode) h.get("lm_head.weight"));
        rawHeader(dir, JSON.writeValueAsString(h));
    }

    private static void duplicateKey(Path dir) throws Exception {
        String h = header(dir).strip();
        String first = h.substring(h.indexOf("\"lm_head.weight\""), h.indexOf("},", h.indexOf("\"lm_head.weight\"")) + 2);
        rawHeader(dir, h.replace(first, first + first));
    }

    private static void shape(ObjectNode t, long... dims) {
        var a = t.putArray("shape");
        Arrays.stream(dims).forEach(a::add);
    }

    private static void offsets(ObjectNode t, long begin, long end) {
        t.putArray("data_offsets").add(begin).add(end);
    }

    private static void truncate(Path f) throws Exception {
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length - 100));
    }

    /** An index mapping every tensor to model.safetensors except lm_head.weight, mapped to {@code entry} (JSON). */
    private static void index(Path dir, String entry) throws Exception {
        ObjectNode map = JSON.createObjectNode();
        JSON.readTree(header(dir)).fieldNames().forEachRemaining(n -> {
            if (!n.equals("__metadata__")) map.put(n, "model.safetensors");
        });
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\": " + JSON.writeValueAsString(map).replace("\"lm_head.weight\":\"model.safetensors\"", "\"lm_head.weight\":" + entry) + "}");
    }

    private static void linkedShard(Path dir) throws Exception {
        Path outside = Files.copy(dir.resolve("model.safetensors"), dir.resolveSibling("outside.safetensors"));
        Files.createSymbolicLink(dir.resolve("linked.safetensors"), outside);
        index(dir, "\"linked.safetensors\"");
    }

    private static void editConfig(Path dir, UnaryOperator<String> edit) throws Exception {
        Path f = dir.resolve("config.json");
        String before = Files.readString(f), after = edit.apply(before);
        if (after.equals(before)) throw new IllegalStateException("edit changed nothing in config.json");
        Files.writeString(f, after);
    }
}
