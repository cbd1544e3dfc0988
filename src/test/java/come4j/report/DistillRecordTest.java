package come4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.io.RecordJson;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * come-distill.json's layers and end-to-end stage as typed records: hand-written JSON in the format's field order
 * (a fixed rate's layer, an automatic one's with its search and measurements) written and read back equal.
 */
class DistillRecordTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DistillSettings.Training TRAINING = new DistillSettings.Training("mse", 1, 2, 2, 1e-3, null, null, null, null, null, 1,
            0.1, 0.01, 1, 0.9, 0.999, 1e-8);
    private static final DistillSettings.Data DATA = new DistillSettings.Data(64, 0, 256, List.of(new HashedFile("/t.txt", "ab")));
    private static final String SETTINGS_JSON = "\"loss\":\"mse\",\"tau\":1.0,\"steps\":2,\"batch\":2,\"lr\":0.001,\"warmup\":1,"
            + "\"min_lr_ratio\":0.1,\"weight_decay\":0.01,\"clip\":1.0,\"beta1\":0.9,\"beta2\":0.999,\"eps\":1.0E-8,\"seq_len\":64,"
            + "\"seed\":0,\"tokens_per_layer\":256,\"data\":[{\"file\":\"/t.txt\",\"sha256\":\"ab\"}]";

    @Test
    void aFixedRateLayerAndAnAutomaticEndToEndStage() throws Exception {
        var fixed = new DistillRecord.Layer(3, List.of(3, 5), new DistillRecord.Run(2.5, 1.25, null, null, null, null, null, null, List.of(2.5, 1.25)));
        var auto = new DistillRecord.Run(0.5, 0.375, 3e-4, List.of(0.4, 0.45), 4, 2, 0.25,
                List.of(new DistillRecord.HeldOut(0, 0.5), new DistillRecord.HeldOut(2, 0.25), new DistillRecord.HeldOut(4, 0.3)),
                List.of(0.5, 0.4, 0.375, 0.375));
        var settings = new DistillSettings("sp", "/t", "/s", 1, TRAINING, null, DATA, null, null, null);
        var r = new DistillRecord("come4j-distill/1", "come distill", settings, List.of(fixed), new DistillRecord.EndToEnd(List.of(3), auto, 1.5));
        String json = "{\"format\":\"come4j-distill/1\",\"command\":\"come distill\",\"settings\":{\"schedule\":\"sp\",\"teacher\":\"/t\","
                + "\"student\":\"/s\",\"layers_trained\":1," + SETTINGS_JSON + "},\"layers\":[{\"layer\":3,\"block\":[3,5],\"loss_first\":2.5,\"loss_last\":1.25,"
                + "\"loss\":[2.5,1.25]}],\"e2e\":{\"layers\":[3],\"loss_first\":0.5,\"loss_last\":0.375,\"lr\":3.0E-4,\"lr_search\":[0.4,0.45],"
                + "\"steps_run\":4,\"best_step\":2,\"held_out_best\":0.25,\"held_out\":[[0,0.5],[2,0.25],[4,0.3]],\"loss\":[0.5,0.4,0.375,0.375],"
                + "\"seconds\":1.5}}";
        assertEquals(json, RecordJson.tree(r).toString());
        assertEquals(r, DistillRecord.of(JSON.readTree(json)));
    }

    /** come-merge.json's "distill": the settings and layers only. */
    @Test
    void theMergeRecordsDistillHasNoFormatCommandOrEndToEnd() throws Exception {
        var l = new DistillRecord.Layer(1, List.of(1, 2), new DistillRecord.Run(1, 0.5, null, null, null, null, null, null, List.of(1.0, 0.5)));
        var d = new DistillRecord(null, null, new DistillSettings("mp", null, null, null, TRAINING, null, DATA, null, null, null), List.of(l), null);
        String json = "{\"settings\":{\"schedule\":\"mp\"," + SETTINGS_JSON + "},\"layers\":[{\"layer\":1,\"block\":[1,2],\"loss_first\":1.0,\"loss_last\":0.5,\"loss\":[1.0,0.5]}]}";
        assertEquals(json, RecordJson.tree(d).toString());
        assertEquals(d, DistillRecord.of(JSON.readTree(json)));
    }
}
