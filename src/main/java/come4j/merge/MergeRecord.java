package come4j.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.io.TensorData;
import come4j.model.Checkpoint;
import come4j.model.ParameterCount;
import come4j.io.RecordJson;
import come4j.report.RunRecord;
import come4j.report.RunSettings;
import java.lang.foreign.MemorySegment;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** come-merge.json (docs/come-merge-format.md): everything needed to audit, reproduce and distil a compression. */
public final class MergeRecord {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Format 2: BI and SBI are means over the tokens compared (format 1 stored sums; the report reads both). */
    public static final String FORMAT = "come4j-merge/2";

    private MergeRecord() {}

    /** The record of any method: the common part ({@link RunRecord}), then the method's own fields. */
    public static ObjectNode build(String method, String command, Checkpoint input, RunSettings settings, Compression c) {
        ParameterCount p0 = ParameterCount.of(input.config()), p1 = ParameterCount.of(c.config());
        Map<String, String> hashes = new LinkedHashMap<>();
        input.tensors().forEach((name, t) -> hashes.put(name, sha256(t.data())));
        RunRecord.Input in = new RunRecord.Input(input.dir().toAbsolutePath().normalize().toString(), input.config().architecture(),
                input.config().numLayers(), input.dtype().name(), p0.total(), p0.perLayer(), hashes);
        RunRecord.Output out = new RunRecord.Output(c.config().numLayers(), p1.total(), 1 - (double) p1.total() / p0.total());
        ObjectNode root = RecordJson.tree(new RunRecord(FORMAT, method, command, backend(come4j.tensor.Backends.forModel(input.dtype())), in, out,
                settings.with(c.settings()), c.tree().entries()));
        root.setAll(c.record());
        return root;
    }

    /** What the products ran on (statistics and merges are fp32 whatever it is). */
    public static RunRecord.Backend backend(come4j.tensor.Backend b) {
        return new RunRecord.Backend(b.name(), b.compute().torchName());
    }

    /** A removal baseline's fields: which original layers went, and the scores or rounds that chose them. */
    static ObjectNode removal(LayerRemoval.Plan plan) {
        return new MethodRecord.Removal(plan.removed(), plan.scores(), plan.rounds()).json();
    }

    /** CoMe's fields: every step, and the calibration NLL before the first and after the last. */
    static ObjectNode steps(ProgressiveMerger.Result r) {
        List<MergeStep> steps = new ArrayList<>();
        for (int i = 0; i < r.steps().size(); i++) steps.add(MergeStep.of(i + 1, r.steps().get(i)));
        double nll = r.steps().isEmpty() ? r.nllBefore() : r.steps().getLast().nllAfter();
        return new MethodRecord.Steps(steps, new MethodRecord.Nll(r.nllBefore(), nll)).json();
    }

    /** Step {@code number} (from 1) as come-merge.json records it: {@link MergeStep}. */
    static ObjectNode step(int number, ProgressiveMerger.Step s) {
        return JSON.valueToTree(MergeStep.of(number, s));
    }

    /** The inverse of {@link #step}, given the merged tensors; exact (doubles print as they parse back). */
    static ProgressiveMerger.Step parseStep(JsonNode o, Map<String, TensorData> tensors) {
        try {
            return JSON.treeToValue(o, MergeStep.class).toStep(tensors);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a saved step that does not read back: " + e.getOriginalMessage(), e);
        }
    }

    static void doubles(com.fasterxml.jackson.databind.node.ArrayNode a, double[] v) {
        for (double x : v) a.add(x);
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
