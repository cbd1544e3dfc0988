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
    private static final List<String> ROWS = new ArrayList<>(), OTHER_ROWS = new ArrayList<>();

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
                new Case("tokenizer of an unknown model type", tok, "cannot load tokenizer", d -> Files.writeString(d.resolve(tok), "{\"model\": {\"type\": \"Nope\"}}")),
                new Case("BOS id of the post-processor beyond vocab_size", tok, "post_processor inserts special token id 5000 but config.json has vocab_size 384",
                        d -> editTokenizer(d, t -> ((ObjectNode) t.at("/post_processor/special_tokens/<s>")).putArray("ids").add(5000))),
                new Case("unk_token missing from the vocab (no byte fallback)", tok, "unk_token '<unk>' is not in the model's vocab", d -> editTokenizer(d, t -> {
                    ((ObjectNode) t.get("model")).put("byte_fallback", false);
                    ((ObjectNode) t.at("/model/vocab")).remove("<unk>");
                })),
                new Case("WordPiece tokenizer without unk_token", tok, "WordPiece model has no unk_token", d -> editTokenizer(d, t -> {
                    ((ObjectNode) t.get("model")).put("type", "WordPiece").putNull("unk_token");
                })),
                // tensor names and values
                new Case("extra tensor of layer 99 in a 3-layer model", "", "tensor 'model.layers.99.mlp.up_proj.weight' names layer 99 but config.json has num_hidden_layers 3",
                        d -> addTensor(d, "model.layers.99.mlp.up_proj.weight")),
                new Case("layer tensor without an index", "", "tensor 'model.layers.x.mlp.up_proj.weight' has no layer index", d -> addTensor(d, "model.layers.x.mlp.up_proj.weight")),
                new Case("NaN in a weight", "", "input tensor 'model.layers.1.mlp.up_proj.weight' holds NaN at element 5", d -> poison(d, 0x7FC0)),
                new Case("+Inf in a weight", "", "holds Infinity at element 5", d -> poison(d, 0x7F80)));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void refusedWithOneLineNamingTheFile(Case c, @TempDir Path tmp) throws Exception {
        Path dir = CliTest.copyFixture(tmp), out = tmp.resolve("out");
        c.damage().apply(dir);
        CliTest.Run r = CliTest.run("compress", "--model", dir.toString(), "--out", out.toString(), "--target-layers", "2",
                "--calib", CliTest.PPL.toString(), "--calib-seq-len", "32");
        String line = CliTest.errorLine(r);
        CliTest.assertBadInput(r, c.problem(), c.file().isEmpty() ? dir.toString() : dir.resolve(c.file()) + ": ");
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(tmp.resolve(".out.run")), "a refused run leaves no run folder");
        ROWS.add("| " + (ROWS.size() + 1) + " | " + c.what() + " | " + line.replace(dir.toString(), "CKPT").replace(tmp.toString(), "TMP")
                .replace("|", "\\|").replace("`", "'") + " |");
    }

    /** A bad option or input of any command: the command line, built in {@code tmp} beside a good checkpoint copy MODEL. */
    interface Command {
        String[] args(Path tmp, Path model) throws Exception;
    }

    record Other(String what, String mention, String problem, Command command) {
        @Override
        public String toString() {
            return what;
        }
    }

    static Stream<Other> others() {
        String ppl = CliTest.PPL.toString();
        return Stream.of(
                // numeric options
                new Other("generate --max-new-tokens -1", "", "--max-new-tokens must be 0 or more, not -1",
                        (t, m) -> args("generate", "--model", m, "--prompt", "We hold", "--max-new-tokens", "-1")),
                new Other("latency generation beyond max positions", "", "generation of 64 + 100 tokens exceeds max_position_embeddings 128",
                        (t, m) -> args("latency", "--model", m, "--gen-prompt", "64", "--gen-new-tokens", "100")),
                new Other("generate --max-new-tokens beyond the context", "", "exceeds max_position_embeddings 128 (at most",
                        (t, m) -> args("generate", "--model", m, "--prompt", "We hold", "--max-new-tokens", "2000000000")),
                new Other("logits --ids beyond the vocabulary", "", "--ids: token id 384 is outside the vocabulary (0..383)",
                        (t, m) -> args("logits", "--model", m, "--ids", "1,384")),
                new Other("eval --limit -1", "", "--limit must be at least 1, not -1",
                        (t, m) -> args("eval", "--model", m, "--tasks", "piqa", "--data-dir", tasks(t, "piqa", "validation", PIQA), "--limit", "-1")),
                new Other("eval --ppl-mode rolling --seq-len -5", "", "--ppl-seq-len must be at least 2",
                        (t, m) -> args("eval", "--model", m, "--ppl", ppl, "--ppl-mode", "rolling", "--seq-len", "-5")),
                // text inputs
                new Other("eval --ppl on a FIFO (hung)", "fifo.txt", "is not a regular file (a pipe, socket or device)",
                        (t, m) -> args("eval", "--model", m, "--ppl", fifo(t.resolve("fifo.txt")))),
                new Other("eval --ppl /dev/zero (OutOfMemoryError)", "/dev/zero", "is not a regular file", (t, m) -> args("eval", "--model", m, "--ppl", "/dev/zero")),
                new Other("compress --calib /dev/zero (OutOfMemoryError)", "/dev/zero", "give the calibration text as a plain file",
                        (t, m) -> args("compress", "--model", m, "--out", t.resolve("out"), "--target-layers", "2", "--calib", "/dev/zero")),
                new Other("compress --calib on a FIFO (hung)", "fifo.txt", "give the calibration text as a plain file",
                        (t, m) -> args("compress", "--model", m, "--out", t.resolve("out"), "--target-layers", "2", "--calib", fifo(t.resolve("fifo.txt")))),
                new Other("compress --calib not UTF-8", "latin1.txt", "is not valid UTF-8: byte 0xE9 at offset 9 (line 2)",
                        (t, m) -> args("compress", "--model", m, "--out", t.resolve("out"), "--target-layers", "2", "--calib",
                                Files.write(t.resolve("latin1.txt"), new byte[] {'O', 'n', 'e', '\n', 'c', 'a', 'f', (byte) 'e', ' ', (byte) 0xE9}))),
                new Other("eval --ppl over the 1 GiB cap (sparse file)", "huge.txt", "over the 1073741824-byte limit of a text file; texts are read into memory whole",
                        (t, m) -> args("eval", "--model", m, "--ppl", sparse(t.resolve("huge.txt"), come4j.io.TextFiles.MAX_BYTES + 1))),
                new Other("eval --ppl a folder", "folder.txt", "is a folder, not a text file",
                        (t, m) -> args("eval", "--model", m, "--ppl", Files.createDirectories(t.resolve("folder.txt")))),
                new Other("eval task file on a FIFO", "test.jsonl", "is not a regular file",
                        (t, m) -> {
                            fifo(Files.createDirectories(t.resolve("tasks/arc_easy")).resolve("test.jsonl"));
                            return args("eval", "--model", m, "--tasks", "arc_easy", "--data-dir", t.resolve("tasks"));
                        }),
                // task records
                new Other("mmlu answer given as a letter (was read as A)", "test.jsonl", "record 1 (line 1): field 'answer' is \"B\", not a choice number",
                        (t, m) -> args("eval", "--model", m, "--tasks", "mmlu", "--data-dir", tasks(t, "mmlu", "test",
                                "{\"subject\": \"anatomy\", \"question\": \"Q?\", \"choices\": [\"a\", \"b\", \"c\", \"d\"], \"answer\": \"B\"}"))),
                new Other("mmlu answer out of range", "test.jsonl", "record 2 (line 2): the answer (index 4) is not among the 4 choices",
                        (t, m) -> args("eval", "--model", m, "--tasks", "mmlu", "--data-dir", tasks(t, "mmlu", "test", MMLU.replace("0}", "1}"), MMLU.replace("0}", "4}")))),
                new Other("mmlu with 3 choices", "test.jsonl", "record 1 (line 1): field 'choices' has 3 entries",
                        (t, m) -> args("eval", "--model", m, "--tasks", "mmlu", "--data-dir", tasks(t, "mmlu", "test", MMLU.replace(", \"d\"]", "]")))),
                new Other("mmlu_5shot dev answer out of range", "dev.jsonl", "record 1 (line 1): field 'answer' is 7, not 0..3",
                        (t, m) -> {
                            tasks(t, "mmlu", "dev", MMLU.replace("0}", "7}"));
                            return args("eval", "--model", m, "--tasks", "mmlu_5shot", "--data-dir", tasks(t, "mmlu", "test", MMLU));
                        }),
                new Other("arc item with one choice (scored 100 %)", "test.jsonl", "record 1 (line 1): has 1 choice(s); a multiple-choice item needs at least 2",
                        (t, m) -> args("eval", "--model", m, "--tasks", "arc_easy", "--data-dir", tasks(t, "arc_easy", "test",
                                "{\"question\": \"Q?\", \"choices\": {\"text\": [\"yes\"], \"label\": [\"A\"]}, \"answerKey\": \"A\"}"))),
                new Other("arc answerKey not among the labels", "test.jsonl", "answerKey 'E' is not one of the choice labels [A, B]",
                        (t, m) -> args("eval", "--model", m, "--tasks", "arc_easy", "--data-dir", tasks(t, "arc_easy", "test",
                                "{\"question\": \"Q?\", \"choices\": {\"text\": [\"yes\", \"no\"], \"label\": [\"A\", \"B\"]}, \"answerKey\": \"E\"}"))),
                new Other("piqa label 2", "validation.jsonl", "record 2 (line 2): the answer (index 2) is not among the 2 choices",
                        (t, m) -> args("eval", "--model", m, "--tasks", "piqa", "--data-dir", tasks(t, "piqa", "validation", PIQA, PIQA.replace("0}", "2}")))),
                new Other("piqa label true", "validation.jsonl", "record 1 (line 1): field 'label' is true, not a choice number",
                        (t, m) -> args("eval", "--model", m, "--tasks", "piqa", "--data-dir", tasks(t, "piqa", "validation", PIQA.replace("0}", "true}")))),
                new Other("winogrande answer 3", "validation.jsonl", "record 1 (line 1): the answer (index 2) is not among the 2 choices",
                        (t, m) -> args("eval", "--model", m, "--tasks", "winogrande", "--data-dir", tasks(t, "winogrande", "validation",
                                "{\"sentence\": \"He ate the _ fast.\", \"option1\": \"cake\", \"option2\": \"soup\", \"answer\": \"3\"}"))),
                new Other("hellaswag endings not an array", "validation.jsonl", "record 1 (line 1): field 'endings' is not an array",
                        (t, m) -> args("eval", "--model", m, "--tasks", "hellaswag", "--data-dir", tasks(t, "hellaswag", "validation",
                                "{\"activity_label\": \"A\", \"ctx_a\": \"b\", \"ctx_b\": \"c\", \"endings\": \"d\", \"label\": \"0\"}"))),
                new Other("record not a JSON object", "validation.jsonl", "record 1 (line 1): not a JSON object",
                        (t, m) -> args("eval", "--model", m, "--tasks", "boolq", "--data-dir", tasks(t, "boolq", "validation", "[1, 2]"))),
                new Other("empty split (gave NaN)", "validation.jsonl", "holds no records (piqa needs its validation split)",
                        (t, m) -> args("eval", "--model", m, "--tasks", "piqa", "--data-dir", tasks(t, "piqa", "validation", "", ""))),
                // NaN weights: every command that computes with them
                new Other("eval on NaN weights (printed perplexity NaN)", "", "input tensor 'model.layers.1.mlp.up_proj.weight' holds NaN",
                        (t, m) -> args("eval", "--model", poison(m, 0x7FC0), "--ppl", ppl, "--seq-len", "32")),
                new Other("generate on NaN weights", "", "holds NaN", (t, m) -> args("generate", "--model", poison(m, 0x7FC0), "--prompt", "We hold")),
                new Other("latency on NaN weights", "", "holds NaN", (t, m) -> args("latency", "--model", poison(m, 0x7FC0), "--iterations", "1",
                        "--gen-iterations", "0")),
                new Other("logits on -Inf weights", "", "holds -Infinity", (t, m) -> args("logits", "--model", poison(m, 0xFF80), "--ids", "1,2")),
                new Other("bench on NaN weights", "", "holds NaN", (t, m) -> args("bench", "--model", poison(m, 0x7FC0), "--out", t.resolve("bench"),
                        "--sparsity", "0.3", "--methods", "come", "--ppl", ppl, "--ppl-seq-len", "32")),
                new Other("distill from a NaN teacher", "", "holds NaN", (t, m) -> distill(t, poison(m, 0x7FC0), student(t, m, "[[0], [1], [2]]"), ppl)),
                new Other("distill a NaN student", "", "holds NaN", (t, m) -> distill(t, m, poison(student(t, m, "[[0], [1], [2]]"), 0x7FC0), ppl)),
                // the student's come-merge.json tree
                new Other("student tree not an array", "come-merge.json", "\"tree\" must be a non-empty array", (t, m) -> distill(t, m, student(t, m, "{}"), ppl)),
                new Other("student tree entry of strings", "come-merge.json", "\"tree\" entry 0 [\"0\"] holds \"0\", not a layer index",
                        (t, m) -> distill(t, m, student(t, m, "[[\"0\"], [1], [2]]"), ppl)),
                new Other("student tree layer out of range", "come-merge.json", "\"tree\" entry 2 [7] names layer 7 but the original model has layers 0..2",
                        (t, m) -> distill(t, m, student(t, m, "[[0], [1], [7]]"), ppl)),
                new Other("student tree repeating a layer", "come-merge.json", "\"tree\" entry 1 [0,1] repeats or goes back to layer 0",
                        (t, m) -> distill(t, m, student(t, m, "[[0], [0, 1], [2]]"), ppl)),
                new Other("student tree going back (a cycle)", "come-merge.json", "\"tree\" entry 1 [0] repeats or goes back to layer 0",
                        (t, m) -> distill(t, m, student(t, m, "[[1, 2], [0], [2]]"), ppl)),
                new Other("student tree entry not consecutive", "come-merge.json", "\"tree\" entry 0 [0,2] is not a run of consecutive layers",
                        (t, m) -> distill(t, m, student(t, m, "[[0, 2], [], [1]]"), ppl)),
                new Other("student tree entry empty", "come-merge.json", "\"tree\" entry 1 [] is not a non-empty array",
                        (t, m) -> distill(t, m, student(t, m, "[[0], [], [1]]"), ppl)));
    }

    @ParameterizedTest
    @MethodSource("others")
    void otherCommandsRefuseWithOneLine(Other c, @TempDir Path tmp) throws Exception {
        Path model = CliTest.copyFixture(tmp);
        String[] args = c.command().args(tmp, model);
        CliTest.Run r = CliTest.run(args);
        String line = r.err().strip();
        CliTest.assertBadInput(r, c.problem(), c.mention());
        assertFalse(Files.exists(tmp.resolve("out")) || Files.exists(tmp.resolve("bench")), "a refused run writes no output");
        OTHER_ROWS.add("| " + (OTHER_ROWS.size() + 1) + " | " + c.what() + " | " + line.replace(model.toString(), "CKPT").replace(tmp.toString(), "TMP")
                .replace("|", "\\|").replace("`", "'") + " |");
    }

    static final String PIQA = "{\"goal\": \"Open a jar\", \"sol1\": \"twist\", \"sol2\": \"pull\", \"label\": 0}";
    static final String MMLU = "{\"subject\": \"anatomy\", \"question\": \"Q?\", \"choices\": [\"a\", \"b\", \"c\", \"d\"], \"answer\": 0}";

    private static String[] args(Object... parts) {
        return Arrays.stream(parts).map(String::valueOf).toArray(String[]::new);
    }

    /** DIR/task/split.jsonl with one record per line; returns DIR. */
    private static Path tasks(Path tmp, String task, String split, String... records) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("tasks").resolve(task));
        Files.writeString(dir.resolve(split + ".jsonl"), String.join("\n", records) + "\n");
        return tmp.resolve("tasks");
    }

    private static Path fifo(Path f) throws Exception {
        Process p = new ProcessBuilder("mkfifo", f.toString()).inheritIO().start();
        if (p.waitFor() != 0) throw new IllegalStateException("mkfifo failed");
        return f;
    }

    private static Path sparse(Path f, long bytes) throws Exception {
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(bytes);
        }
        return f;
    }

    /** A copy of MODEL with a come-merge.json whose tree is {@code tree} (JSON), as a distillation student. */
    private static Path student(Path tmp, Path model, String tree) throws Exception {
        Path s = tmp.resolve("student");
        Files.createDirectories(s);
        try (var files = Files.list(model)) {
            for (Path f : files.toList()) Files.copy(f, s.resolve(f.getFileName()));
        }
        Files.writeString(s.resolve("come-merge.json"), "{\"input\": {\"layers\": 3}, \"tree\": " + tree + "}");
        return s;
    }

    private static String[] distill(Path tmp, Path teacher, Path student, String data) {
        return args("distill", "--teacher", teacher, "--student", student, "--data", data, "--out", tmp.resolve("out"), "--seq-len", "16");
    }

    @AfterAll
    static void writeTable() throws Exception {
        assertTrue(ROWS.size() >= 30, "at least 30 kinds of bad input");
        Path table = Path.of("target/bad-inputs.md");
        Files.createDirectories(table.getParent());
        Files.writeString(table, "# Bad inputs tried by BadInputCatalogTest\n\n"
                + "What counts as bad input, and what is kept:\n\n"
                + "- Text inputs (--calib, --ppl, --data, --distill-data, task files; JSON files of a checkpoint too) must be regular files: a FIFO, "
                + "socket or device (/dev/zero) is refused before it is opened. Texts are read whole into memory and capped at 1 GiB per file "
                + "(twice WikiText-103; a Java string holds under 2 GiB): split a larger corpus into several files. Bytes that are not UTF-8 "
                + "are reported with their offset and line.\n"
                + "- Every `model.layers.N.` tensor must name a layer of config.json (checked when the checkpoint opens). Other tensors, and "
                + "unknown parts of an existing layer (an old `rotary_emb.inv_freq` buffer), are kept: outputs copy them unchanged.\n"
                + "- NaN or ±Inf weights are refused by every command that computes with them: compress, eval, generate, logits, latency, bench, "
                + "distill (teacher and student).\n"
                + "- Task records must have the fields of their dataset with the dataset's types: answers as numbers where the dataset stores "
                + "numbers (MMLU's \"B\" is refused, not read as A), letters only where it stores labels (ARC, OpenBookQA), within the choices, "
                + "at least two choices; a split without records is refused. A bad record is named by its file and number (and line, in JSON Lines).\n"
                + "- `generate --max-new-tokens 0` prints the prompt; prompt and new tokens must fit max_position_embeddings.\n\n"
                + "Each row: one defect in a copy of a good checkpoint (CKPT), and the line `come compress` printed (exit code 2).\n\n"
                + "| # | input | message |\n| --- | --- | --- |\n" + String.join("\n", ROWS) + "\n\n"
                + "## Other commands, options and inputs\n\n"
                + "Each row: one bad option or input of a command run on a copy of the good checkpoint (CKPT) in a temporary folder (TMP), "
                + "and the line it printed (exit code 2); nothing is written.\n\n"
                + "| # | command and input | message |\n| --- | --- | --- |\n" + String.join("\n", OTHER_ROWS) + "\n");
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

    private static void editTokenizer(Path dir, java.util.function.Consumer<ObjectNode> edit) throws Exception {
        Path f = dir.resolve("tokenizer.json");
        ObjectNode t = (ObjectNode) JSON.readTree(f.toFile());
        edit.accept(t);
        Files.writeString(f, JSON.writeValueAsString(t));
    }

    /** Adds tensor {@code name}, a copy of lm_head.weight's bytes, at the end of the data section. */
    private static void addTensor(Path dir, String name) throws Exception {
        Path f = dir.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(f);
        int n = (int) ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode h = (ObjectNode) JSON.readTree(header(dir));
        ObjectNode like = (ObjectNode) h.get("lm_head.weight");
        long begin = like.get("data_offsets").get(0).asLong(), end = like.get("data_offsets").get(1).asLong(), size = all.length - 8L - n;
        ObjectNode t = like.deepCopy();
        offsets(t, size, size + end - begin);
        h.set(name, t);
        rawHeader(dir, JSON.writeValueAsString(h));
        try (var out = Files.newOutputStream(f, java.nio.file.StandardOpenOption.APPEND)) {
            out.write(all, (int) (8 + n + begin), (int) (end - begin));
        }
    }

    /** Sets element 5 of model.layers.1.mlp.up_proj.weight (BF16) to {@code bits}: NaN 0x7FC0, +Inf 0x7F80, -Inf 0xFF80. */
    private static Path poison(Path dir, int bits) throws Exception {
        Path f = dir.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(f);
        int n = (int) ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getLong();
        long begin = JSON.readTree(header(dir)).get("model.layers.1.mlp.up_proj.weight").get("data_offsets").get(0).asLong();
        int at = (int) (8 + n + begin + 2 * 5);
        all[at] = (byte) bits;
        all[at + 1] = (byte) (bits >> 8);
        Files.write(f, all);
        return dir;
    }

    private static void editConfig(Path dir, UnaryOperator<String> edit) throws Exception {
        Path f = dir.resolve("config.json");
        String before = Files.readString(f), after = edit.apply(before);
        if (after.equals(before)) throw new IllegalStateException("edit changed nothing in config.json");
        Files.writeString(f, after);
    }
}
