package come4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.io.RecordJson;
import come4j.report.RunSettings.MethodSettings;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * come-merge.json's common part as a typed record: it writes the fields docs/come-merge-format.md documents, in its
 * order, an absent one left out (hand-written JSON is the reference), reads back into an equal record, and a record
 * written by an earlier version still reads.
 */
class RunRecordTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aCoMeLsRecordAsTheFormatDocumentsIt() throws Exception {
        Map<String, String> tensors = new LinkedHashMap<>();
        tensors.put("model.embed_tokens.weight", "ab");
        tensors.put("lm_head.weight", "cd"); // file order, not sorted
        var cal = new RunSettings.Calibration(List.of(new HashedFile("calib.txt", "ab12")), 256, 40, 512, 10L, 2, 37, 18944L,
                null, 512, 32768L, 3, null);
        var ls = new MethodSettings.LsCorrection("last 1/8 of the windows", 1, List.of(1e-4, 1e-3, 1e-2, 1e-1, 1.0));
        var r = new RunRecord("come4j-merge/2", "come-ls", "come compress --model /m", new RunRecord.Backend("vector", "float32"),
                new RunRecord.Input("/m", "LlamaForCausalLM", 12, "BF16", 10803456, 725504, tensors), new RunRecord.Output(8, 7901440, 0.2686),
                new RunSettings(8, 0.3, cal, new MethodSettings.Progressive(false, 20, "last", "argmin_all", ls)),
                List.of(List.of(0), List.of(1, 2)));
        String json = "{\"format\":\"come4j-merge/2\",\"method\":\"come-ls\",\"command\":\"come compress --model /m\","
                + "\"backend\":{\"name\":\"vector\",\"compute_dtype\":\"float32\"},\"input\":{\"dir\":\"/m\",\"architecture\":\"LlamaForCausalLM\","
                + "\"layers\":12,\"dtype\":\"BF16\",\"parameters\":10803456,\"parameters_per_layer\":725504,"
                + "\"tensors\":{\"model.embed_tokens.weight\":\"ab\",\"lm_head.weight\":\"cd\"}},"
                + "\"output\":{\"layers\":8,\"parameters\":7901440,\"sparsity\":0.2686},"
                + "\"settings\":{\"target_layers\":8,\"sparsity\":0.3,\"calib\":[{\"file\":\"calib.txt\",\"sha256\":\"ab12\"}],"
                + "\"calib_samples\":256,\"rows\":40,\"seq_len\":512,\"seed\":10,\"batch\":2,\"windows\":37,\"tokens\":18944,"
                + "\"calib_max_len\":512,\"calib_tokens\":32768,\"rows_cut\":3,"
                + "\"official_gqa_tiling\":false,\"granularity\":20,\"sbi_tokens\":\"last\",\"remerge_fallback\":\"argmin_all\","
                + "\"ls_correction\":{\"held_out\":\"last 1/8 of the windows\",\"pair_candidates\":1,\"alpha_grid\":[1.0E-4,0.001,0.01,0.1,1.0]}},"
                + "\"tree\":[[0],[1,2]]}";
        assertEquals(json, RecordJson.tree(r).toString());
        assertEquals(r, RunRecord.of(JSON.readTree(json)));
    }

    /** The authors' recipe replaces the row cut and token limit; a record file adds its field; Streamline's training. */
    @Test
    void otherRecipesAndMethodKindsReadBackEqual() throws Exception {
        var authors = new RunSettings(6, null, new RunSettings.Calibration(List.of(), 256, 256, 2048, 10L, 2, 9, 18432L, "authors", null,
                null, null, "text"), new MethodSettings.Streamline(new DistillSettings.Streamline(new DistillSettings.Training("mse", 1, 10, 8, 1e-3,
                null, null, null, null, null, 1, 0.1, 0.01, 1, 0.9, 0.999, 1e-8), "calibration windows")));
        String json = "{\"target_layers\":6,\"calib\":[],\"calib_samples\":256,\"rows\":256,\"seq_len\":2048,\"seed\":10,\"batch\":2,"
                + "\"windows\":9,\"tokens\":18432,\"calib_recipe\":\"authors\",\"calib_field\":\"text\","
                + "\"streamline_training\":{\"loss\":\"mse\",\"tau\":1.0,\"steps\":10,\"batch\":8,\"lr\":0.001,\"warmup\":1,"
                + "\"min_lr_ratio\":0.1,\"weight_decay\":0.01,\"clip\":1.0,\"beta1\":0.9,\"beta2\":0.999,\"eps\":1.0E-8,\"data\":\"calibration windows\"}}";
        assertEquals(json, RecordJson.tree(authors).toString());
        assertEquals(authors, RecordJson.read(JSON.readTree(json), RunSettings.class));
        // a method that reads no text and has no settings of its own: the target alone
        var none = new RunSettings(6, 0.5, null, MethodSettings.NONE);
        assertEquals("{\"target_layers\":6,\"sparsity\":0.5}", RecordJson.tree(none).toString());
        assertEquals(none, RecordJson.read(JSON.readTree("{\"target_layers\":6,\"sparsity\":0.5}"), RunSettings.class));
    }

    /** A format 1 record as the first writer made it: no backend, no row cut, no ls_correction; it reads, and its report draws it. */
    @Test
    void aRecordOfAnEarlierVersionStillReads() throws Exception {
        JsonNode old;
        try (InputStream in = getClass().getResourceAsStream("come-merge-v1.json")) {
            old = JSON.readTree(in);
        }
        RunRecord r = RunRecord.of(old);
        assertEquals("come4j-merge/1", r.format());
        assertNull(r.backend());
        assertEquals(4, r.input().layers());
        assertEquals(0.2, r.output().sparsity());
        assertEquals(List.of(List.of(0), List.of(1, 2), List.of(3)), r.tree());
        assertNull(r.settings().sparsity());
        assertEquals(4, r.settings().calibration().windows());
        assertNull(r.settings().calibration().rows());
        assertNull(r.settings().calibration().maxLen());
        assertEquals(new MethodSettings.Progressive(false, 20, "last", "argmin_all", null), r.settings().method());
        String page = MergeReport.html(old);
        assertTrue(page.contains("<tr><th>calibration</th><td>4 windows \u00d7 32 tokens = 128 tokens from 0 rows (256 samples requested), "
                + "seed 10, batch 2</td></tr>"), page);
        assertTrue(page.contains("sbi_tokens = last, granularity = 20, official_gqa_tiling = false, remerge_fallback = argmin_all"), page);
    }
}
