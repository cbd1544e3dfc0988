package come4j.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.TensorData;
import come4j.model.Checkpoint;
import come4j.model.ParameterCount;
import java.lang.foreign.MemorySegment;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/** come-merge.json (docs/come-merge-format.md): everything needed to audit, reproduce and distil a compression. */
public final class MergeRecord {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Format 2: BI and SBI are means over the tokens compared (format 1 stored sums; the report reads both). */
    public static final String FORMAT = "come4j-merge/2";

    private MergeRecord() {}

    /** The record of any method: the common part, then the method's own fields. */
    public static ObjectNode build(String method, String command, Checkpoint input, ObjectNode settings, Compression c) {
        ObjectNode root = header(method, command, input, settings.deepCopy().setAll(c.settings()), c.config(), c.tree());
        root.setAll(c.record());
        return root;
    }

    /** What every compression records: method, command line, input (with tensor hashes), output, settings, tree. */
    private static ObjectNode header(String method, String command, Checkpoint input, ObjectNode settings,
                                     come4j.model.ModelConfig out, MergeTree tree) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT).put("method", method).put("command", command);
        backend(root, come4j.tensor.Backends.forModel(input.dtype()));
        ParameterCount p0 = ParameterCount.of(input.config()), p1 = ParameterCount.of(out);
        ObjectNode in = root.putObject("input");
        in.put("dir", input.dir().toAbsolutePath().normalize().toString()).put("architecture", input.config().architecture())
                .put("layers", input.config().numLayers()).put("dtype", input.dtype().name())
                .put("parameters", p0.total()).put("parameters_per_layer", p0.perLayer());
        ObjectNode hashes = in.putObject("tensors");
        input.tensors().forEach((name, t) -> hashes.put(name, sha256(t.data())));
        root.putObject("output").put("layers", out.numLayers()).put("parameters", p1.total())
                .put("sparsity", 1 - (double) p1.total() / p0.total());
        root.set("settings", settings);
        ArrayNode t = root.putArray("tree");
        tree.entries().forEach(e -> ints(t.addArray(), e.stream().mapToInt(Integer::intValue).toArray()));
        return root;
    }

    /** What the products ran on: {"name", "compute_dtype"} (statistics and merges are fp32 whatever it is). */
    public static void backend(ObjectNode root, come4j.tensor.Backend b) {
        root.putObject("backend").put("name", b.name()).put("compute_dtype", b.compute().torchName());
    }

    /** A removal baseline's fields: which original layers went, and the scores or rounds that chose them. */
    static ObjectNode removal(LayerRemoval.Plan plan) {
        ObjectNode root = JSON.createObjectNode();
        ints(root.putArray("removed"), plan.removed());
        if (plan.scores() != null) {
            ArrayNode s = root.putArray("scores");
            for (double v : plan.scores()) s.add(v);
        }
        if (!plan.rounds().isEmpty()) {
            ArrayNode rounds = root.putArray("rounds");
            for (double[] r : plan.rounds()) {
                ArrayNode a = rounds.addArray();
                for (double v : r) a.add(v);
            }
        }
        return root;
    }

    /** CoMe's fields: every step, and the calibration NLL before the first and after the last. */
    static ObjectNode steps(ProgressiveMerger.Result r) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode steps = root.putArray("steps");
        for (int i = 0; i < r.steps().size(); i++) steps.add(step(i + 1, r.steps().get(i)));
        double nll = r.steps().isEmpty() ? r.nllBefore() : r.steps().getLast().nllAfter();
        root.putObject("calib_nll").put("before", r.nllBefore()).put("after", nll);
        return root;
    }

    /** Step {@code number} (from 1) as come-merge.json records it: everything in {@code s} but the merged tensors. */
    static ObjectNode step(int number, ProgressiveMerger.Step s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("step", number).put("layers_before", s.layersBefore());
        ints(o.putArray("pair"), new int[] {s.a(), s.a() + 1});
        ArrayNode orig = o.putArray("original");
        ints(orig.addArray(), s.originalA().stream().mapToInt(Integer::intValue).toArray());
        ints(orig.addArray(), s.originalB().stream().mapToInt(Integer::intValue).toArray());
        ArrayNode sbi = o.putArray("sbi");
        for (double v : s.sbi()) if (Double.isInfinite(v)) sbi.addNull(); else sbi.add(v);
        ArrayNode bi = o.putArray("bi");
        for (double v : s.bi()) bi.add(v);
        o.putArray("ratio").add(s.ra()).add(s.rb());
        o.put("fallback", s.fallback());
        MergedLayer m = s.merged();
        if (m.headsA() != null) {
            ObjectNode counts = o.putObject("kept");
            counts.putArray("heads").add(m.headsA().length).add(m.headsB().length);
            counts.putArray("channels").add(m.channelsA().length).add(m.channelsB().length);
            ObjectNode heads = o.putObject("heads"), ch = o.putObject("channels");
            ints(heads.putArray("a"), m.headsA());
            ints(heads.putArray("b"), m.headsB());
            ints(ch.putArray("a"), m.channelsA());
            ints(ch.putArray("b"), m.channelsB());
        }
        if (!s.candidates().isEmpty()) {
            ArrayNode c = o.putArray("candidates");
            for (double[] rc : s.candidates()) c.addObject().put("ratio", rc[0]).put("nll", rc[1]);
        }
        o.put("calib_nll_before", s.nllBefore()).put("calib_nll_after", s.nllAfter());
        if (s.correction() != null) o.set("ls_correction", s.correction());
        if (Double.isFinite(s.seconds())) o.put("seconds", s.seconds()); // the only field that differs between runs
        return o;
    }

    /** The inverse of {@link #step}, given the merged tensors; exact (doubles print as they parse back). */
    static ProgressiveMerger.Step parseStep(JsonNode o, Map<String, TensorData> tensors) {
        JsonNode heads = o.get("heads"), ch = o.get("channels");
        MergedLayer m = heads == null ? new MergedLayer(tensors, null, null, null, null)
                : new MergedLayer(tensors, ints(heads.get("a")), ints(heads.get("b")), ints(ch.get("a")), ints(ch.get("b")));
        double[] sbi = new double[o.get("sbi").size()];
        for (int i = 0; i < sbi.length; i++) sbi[i] = o.get("sbi").get(i).isNull() ? Double.POSITIVE_INFINITY : o.get("sbi").get(i).asDouble();
        List<double[]> candidates = new ArrayList<>();
        for (JsonNode c : o.path("candidates")) candidates.add(new double[] {c.get("ratio").asDouble(), c.get("nll").asDouble()});
        return new ProgressiveMerger.Step(o.get("layers_before").asInt(), o.get("pair").get(0).asInt(),
                list(o.get("original").get(0)), list(o.get("original").get(1)), sbi, doubles(o.get("bi")),
                o.get("ratio").get(0).asDouble(), o.get("ratio").get(1).asDouble(), o.get("fallback").asBoolean(), m,
                candidates, o.get("calib_nll_before").asDouble(), o.get("calib_nll_after").asDouble(), o.path("seconds").asDouble(Double.NaN),
                o.has("ls_correction") ? (ObjectNode) o.get("ls_correction").deepCopy() : null);
    }

    private static int[] ints(JsonNode a) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asInt();
        return v;
    }

    private static List<Integer> list(JsonNode a) {
        return java.util.Arrays.stream(ints(a)).boxed().toList();
    }

    private static double[] doubles(JsonNode a) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asDouble();
        return v;
    }

    static void ints(ArrayNode a, int[] v) {
        for (int x : v) a.add(x);
    }

    /** SHA-256 of a tensor's stored bytes, read in chunks (tensors may exceed 2 GiB). */
    public static String sha256(MemorySegment data) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (long off = 0; off < data.byteSize(); off += 1 << 26)
                md.update(data.asSlice(off, Math.min(1 << 26, data.byteSize() - off)).asByteBuffer());
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

}
