package come4j.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The typed records write exactly the fields docs/come-merge-format.md documents, in its order, optional ones left out
 * when absent (hand-written JSON is the reference), and a step reads back as the step written.
 */
class MethodRecordTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aCoMeStepAsTheFormatDocumentsIt() throws Exception {
        var merged = new MergedLayer(Map.of(), new int[] {0, 2}, new int[] {1, 3}, new int[] {5}, new int[] {6, 7});
        var step = new ProgressiveMerger.Step(12, 3, List.of(3), List.of(4, 5), new double[] {0.12, Double.POSITIVE_INFINITY},
                new double[] {0.88, 0.02}, 0.41, 0.59, false, merged, List.of(), 3.52, 3.58, 7.11, null);
        String json = "{\"step\":1,\"layers_before\":12,\"pair\":[3,4],\"original\":[[3],[4,5]],\"sbi\":[0.12,null],\"bi\":[0.88,0.02],"
                + "\"ratio\":[0.41,0.59],\"fallback\":false,\"kept\":{\"heads\":[2,2],\"channels\":[1,2]},\"heads\":{\"a\":[0,2],\"b\":[1,3]},"
                + "\"channels\":{\"a\":[5],\"b\":[6,7]},\"calib_nll_before\":3.52,\"calib_nll_after\":3.58,\"seconds\":7.11}";
        assertWritesAndReadsBack(json, 1, step);
    }

    /** A weighted sum keeps no heads; CoMe-P's candidates and the least-squares fit come after the ratio's fields. */
    @Test
    void optionalStepFieldsAreLeftOutOrKeptInPlace() throws Exception {
        var ls = new MergeStep.LsCorrection(8, 2, List.of(), 1, 0.5, false, 64, 0.5, null);
        var step = new ProgressiveMerger.Step(3, 0, List.of(0), List.of(1), new double[] {0.5, 0.25}, new double[] {1, 2, 3}, 0.5, 0.5, true,
                new MergedLayer(Map.of(), null, null, null, null), List.of(new double[] {0, 3.7}, new double[] {1, 3.6}), 3.5, 3.6, Double.NaN, ls);
        String json = "{\"step\":2,\"layers_before\":3,\"pair\":[0,1],\"original\":[[0],[1]],\"sbi\":[0.5,0.25],\"bi\":[1.0,2.0,3.0],"
                + "\"ratio\":[0.5,0.5],\"fallback\":true,\"candidates\":[{\"ratio\":0.0,\"nll\":3.7},{\"ratio\":1.0,\"nll\":3.6}],"
                + "\"calib_nll_before\":3.5,\"calib_nll_after\":3.6,\"ls_correction\":{\"windows\":8,\"held_out_windows\":2,"
                + "\"projections\":[],\"calib_mse_before\":1.0,\"calib_mse_after\":0.5,\"reverted\":false,\"gram_bytes\":64,\"seconds\":0.5}}";
        assertWritesAndReadsBack(json, 2, step);
    }

    private static void assertWritesAndReadsBack(String json, int number, ProgressiveMerger.Step step) throws Exception {
        assertEquals(json, JSON.writeValueAsString(MergeRecord.step(number, step)));
        assertEquals(json, JSON.writeValueAsString(MergeRecord.step(number, MergeRecord.parseStep(JSON.readTree(json), Map.of()))));
    }

    @Test
    void removalLaCoAndMka() throws Exception {
        assertEquals("{\"removed\":[3,9]}", JSON.writeValueAsString(new MethodRecord.Removal(new int[] {3, 9}, null, List.of()).json()));
        assertEquals("{\"removed\":[1],\"scores\":[0.5,0.25],\"rounds\":[[3.5,3.25]]}", JSON.writeValueAsString(
                new MethodRecord.Removal(new int[] {1}, new double[] {0.5, 0.25}, List.<double[]>of(new double[] {3.5, 3.25})).json()));
        var laco = new MethodRecord.LacoSearch(new MethodRecord.LacoSearch.Laco(0.43, 4, 5, 1, 0, "cos", List.of(new Laco.Try(7, 3,
                List.of(7, 8, 9, 10), 0.17, false)), List.of(new MethodRecord.LacoSearch.Walk(4, -1, 8)), List.of(
                new MethodRecord.LacoSearch.Measured("C=4 l=7 m=3", 0.17))));
        assertEquals("{\"laco\":{\"threshold\":0.43,\"c\":4,\"c_requested\":5,\"i\":1,\"l_low\":0,\"similarity\":\"cos\",\"tries\":[{\"l\":7,"
                + "\"m\":3,\"original\":[7,8,9,10],\"cosine\":0.17,\"kept\":false}],\"search\":[{\"c\":4,\"threshold\":-1.0,\"layers\":8}],"
                + "\"measured\":[{\"collapse\":\"C=4 l=7 m=3\",\"cosine\":0.17}]}}", JSON.writeValueAsString(laco.json()));
        var mka = new MethodRecord.MkaMerges(new MethodRecord.MkaMerges.Mka(new double[][] {{1, 0.5}, {0.5, 1}}, List.of(
                new MethodRecord.MkaMerges.Merge(new int[] {0, 1}, List.of(List.of(0), List.of(1, 2)), 0.75, 0.5, 0.6))));
        assertEquals("{\"mka\":{\"similarity\":[[1.0,0.5],[0.5,1.0]],\"merges\":[{\"pair\":[0,1],\"original\":[[0],[1,2]],\"s_i\":0.75,"
                + "\"s_j\":0.5,\"alpha\":0.6}]}}", JSON.writeValueAsString(mka.json()));
    }
}
