package come4j.merge;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.Checkpoint;
import come4j.model.ParameterCount;
import java.lang.foreign.MemorySegment;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** come-merge.json (docs/come-merge-format.md): everything needed to audit, reproduce and distil a compression. */
public final class MergeRecord {
    private static final ObjectMapper JSON = new ObjectMapper();

    private MergeRecord() {}

    public static ObjectNode build(String method, String command, Checkpoint input, ObjectNode settings,
                                   ProgressiveMerger.Result r) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", "come4j-merge/1").put("method", method).put("command", command);
        ParameterCount p0 = ParameterCount.of(input.config()), p1 = ParameterCount.of(r.config());
        ObjectNode in = root.putObject("input");
        in.put("dir", input.dir().toString()).put("architecture", input.config().architecture())
                .put("layers", input.config().numLayers()).put("dtype", input.dtype().name())
                .put("parameters", p0.total()).put("parameters_per_layer", p0.perLayer());
        ObjectNode hashes = in.putObject("tensors");
        input.tensors().forEach((name, t) -> hashes.put(name, sha256(t.data())));
        root.putObject("output").put("layers", r.config().numLayers()).put("parameters", p1.total())
                .put("sparsity", 1 - (double) p1.total() / p0.total());
        root.set("settings", settings);
        ArrayNode tree = root.putArray("tree");
        r.tree().entries().forEach(e -> ints(tree.addArray(), e.stream().mapToInt(Integer::intValue).toArray()));
        ArrayNode steps = root.putArray("steps");
        double nll = r.nllBefore();
        for (int i = 0; i < r.steps().size(); i++) {
            ProgressiveMerger.Step s = r.steps().get(i);
            ObjectNode o = steps.addObject();
            o.put("step", i + 1).put("layers_before", s.layersBefore());
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
            nll = s.nllAfter();
        }
        root.putObject("calib_nll").put("before", r.nllBefore()).put("after", nll);
        return root;
    }

    private static void ints(ArrayNode a, int[] v) {
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
