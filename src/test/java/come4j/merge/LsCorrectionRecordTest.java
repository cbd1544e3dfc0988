package come4j.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.io.RecordJson;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A step's "ls_correction" as a typed record: hand-written JSON in the format's field order (a projection kept as
 * merged has a null α; come-ls-pair's pairs come last) written and read back equal.
 */
class LsCorrectionRecordTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aCorrectionWithItsPairCandidates() throws Exception {
        var ls = new MergeStep.LsCorrection(12, 4, List.of(new MergeStep.Projection("o_proj", 0.01, 0.5, 0.25),
                new MergeStep.Projection("down_proj", null, 0.25, 0.25)), 1.5, 0.75, false, 4096, 2.0, null)
                .withPairCandidates(List.of(new MergeStep.PairCandidate(3, 0.125, 2.5), new MergeStep.PairCandidate(7, 0.25, 2.25)));
        String json = "{\"windows\":12,\"held_out_windows\":4,\"projections\":[{\"name\":\"o_proj\",\"alpha\":0.01,\"held_out_mse_before\":0.5,"
                + "\"held_out_mse_after\":0.25},{\"name\":\"down_proj\",\"alpha\":null,\"held_out_mse_before\":0.25,\"held_out_mse_after\":0.25}],"
                + "\"calib_mse_before\":1.5,\"calib_mse_after\":0.75,\"reverted\":false,\"gram_bytes\":4096,\"seconds\":2.0,"
                + "\"pair_candidates\":[{\"a\":3,\"sbi\":0.125,\"nll\":2.5},{\"a\":7,\"sbi\":0.25,\"nll\":2.25}]}";
        assertEquals(json, RecordJson.tree(ls).toString());
        assertEquals(ls, RecordJson.read(JSON.readTree(json), MergeStep.LsCorrection.class));
    }

    /** Plain come-ls: no pairs tried, no "pair_candidates". */
    @Test
    void aCorrectionAlone() throws Exception {
        var ls = new MergeStep.LsCorrection(8, 2, List.of(new MergeStep.Projection("o_proj", 1.0, 0.5, 0.5)), 1, 1.25, true, 64, 0.5, null);
        String json = "{\"windows\":8,\"held_out_windows\":2,\"projections\":[{\"name\":\"o_proj\",\"alpha\":1.0,\"held_out_mse_before\":0.5,"
                + "\"held_out_mse_after\":0.5}],\"calib_mse_before\":1.0,\"calib_mse_after\":1.25,\"reverted\":true,\"gram_bytes\":64,\"seconds\":0.5}";
        assertEquals(json, RecordJson.tree(ls).toString());
        assertEquals(ls, RecordJson.read(JSON.readTree(json), MergeStep.LsCorrection.class));
    }
}
