package come4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import come4j.io.RecordJson;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * come-distill.json's settings as a typed record: the fields in the order the format has them (hand-written JSON),
 * the held-out count where each schedule has always written it, read back equal.
 */
class DistillSettingsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DistillSettings.Data DATA = new DistillSettings.Data(256, 0, 1024, List.of(new HashedFile("/t.txt", "ab")));
    private static final String DATA_JSON = "\"seq_len\":256,\"seed\":0,\"tokens_per_layer\":1024,\"data\":[{\"file\":\"/t.txt\",\"sha256\":\"ab\"}]";
    private static final String ADAM_JSON = "\"warmup\":1,\"min_lr_ratio\":0.1,\"weight_decay\":0.01,\"clip\":1.0,\"beta1\":0.9,\"beta2\":0.999,\"eps\":1.0E-8";

    /** The automatic schedule: the held-out windows the text gave replace the schedule's count in place. */
    @Test
    void anAutomaticRunWithItsEndToEndStage() throws Exception {
        var t = new DistillSettings.Training("mse", 1, 20, 2, "auto", List.of(3e-4, 1e-3), 2, 64, 1, 3, 1, 0.1, 0.01, 1, 0.9, 0.999, 1e-8);
        var e2e = new DistillSettings.EndToEnd("kl_logits", 10, List.of(1e-4), 1, 1, 3, 0);
        var s = new DistillSettings("sp", "/t", "/s", 2, t, e2e, DATA, null, null, null).withWindows(40, 100L, 12);
        String json = "{\"schedule\":\"sp\",\"teacher\":\"/t\",\"student\":\"/s\",\"layers_trained\":2,\"loss\":\"mse\",\"tau\":1.0,\"steps\":20,"
                + "\"batch\":2,\"lr\":\"auto\",\"lr_candidates\":[3.0E-4,0.001],\"search_steps\":2,\"held_out_windows\":12,\"eval_every\":1,"
                + "\"patience\":3," + ADAM_JSON + ",\"e2e\":{\"loss\":\"kl_logits\",\"steps\":10,\"lr_candidates\":[1.0E-4],\"search_steps\":1,"
                + "\"eval_every\":1,\"patience\":3,\"warmup\":0}," + DATA_JSON + ",\"windows\":40,\"windows_available\":100}";
        assertEquals(json, RecordJson.tree(s).toString());
        assertEquals(s, RecordJson.read(JSON.readTree(json), DistillSettings.class));
    }

    /** A fixed rate: held-out windows (for the end-to-end stage) come last; schedule mp states no windows. */
    @Test
    void fixedRatesAndScheduleMp() throws Exception {
        var t = new DistillSettings.Training("kl_hidden", 1, 3, 2, 1e-3, null, null, null, null, null, 1, 0.1, 0.01, 1, 0.9, 0.999, 1e-8);
        var fixed = new DistillSettings("sp", "/t", "/s", 1, t, null, DATA, null, null, null).withWindows(6, 100L, 64);
        String json = "{\"schedule\":\"sp\",\"teacher\":\"/t\",\"student\":\"/s\",\"layers_trained\":1,\"loss\":\"kl_hidden\",\"tau\":1.0,\"steps\":3,"
                + "\"batch\":2,\"lr\":0.001," + ADAM_JSON + "," + DATA_JSON + ",\"windows\":6,\"windows_available\":100,\"held_out_windows\":64}";
        assertEquals(json, RecordJson.tree(fixed).toString());
        assertEquals(fixed, RecordJson.read(JSON.readTree(json), DistillSettings.class));
        var mp = new DistillSettings("mp", null, null, null, t, null, DATA, null, null, null);
        String mpJson = "{\"schedule\":\"mp\",\"loss\":\"kl_hidden\",\"tau\":1.0,\"steps\":3,\"batch\":2,\"lr\":0.001," + ADAM_JSON + "," + DATA_JSON + "}";
        assertEquals(mpJson, RecordJson.tree(mp).toString());
        assertEquals(mp, RecordJson.read(JSON.readTree(mpJson), DistillSettings.class));
    }
}
