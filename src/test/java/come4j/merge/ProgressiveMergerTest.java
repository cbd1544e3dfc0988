package come4j.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.Fixtures;
import come4j.calib.CalibrationContext;
import come4j.calib.CalibrationSet;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.merge.ProgressiveMerger.Method;
import come4j.model.Checkpoint;
import come4j.model.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressiveMergerTest {
    static ProgressiveMerger.Result compress(String fixture, Method method, int target, List<String> log) {
        var dir = Fixtures.DIR.resolve(fixture);
        try (Checkpoint ckpt = Checkpoint.open(dir); Tokenizer tok = Tokenizer.load(ckpt.tokenizerFile());
             ScratchTensors store = new ScratchTensors()) {
            CalibrationSet set = CalibrationSet.build(List.of(Fixtures.DIR.resolve("ppl.txt")), tok, CalibrationSet.Recipe.authors(256, 32, 10, "text"));
            try (CalibrationContext ctx = new CalibrationContext(ckpt, set, 3)) {
                var s = new ProgressiveMerger.Settings(method, target, false, 4);
                var r = ProgressiveMerger.run(new WorkingModel(ctx, store), s, log::add);
                // the result's tensors live in the scratch store: read what the assertions need before it closes
                r.layers().forEach(m -> m.values().forEach(TensorData::toFloat));
                return r;
            }
        }
    }

    @Test
    void noReMergeThenLoggedFallback() {
        List<String> log = new ArrayList<>();
        var r = compress("llama3-gqa-f32", Method.COME, 1, log);
        assertEquals(2, r.steps().size());
        assertFalse(r.steps().get(0).fallback());
        // after one merge of 3 layers, both remaining pairs contain the merged layer: the fallback must say so
        assertTrue(r.steps().get(1).fallback());
        assertTrue(log.stream().anyMatch(l -> l.startsWith("warning: every pair contains a merged layer")), log.toString());
        assertEquals(List.of(List.of(0, 1, 2)), r.tree().entries());
        assertEquals(1, r.config().numLayers());
    }

    @Test
    void stepRecordsAreConsistent() {
        var r = compress("qwen3-f32", Method.COME, 2, new ArrayList<>());
        var s = r.steps().getFirst();
        assertEquals(3, s.layersBefore());
        assertEquals(2, s.sbi().length);
        assertEquals(s.a(), ProgressiveMerger.argmin(s.sbi())); // the pair of smallest SBI is merged
        assertEquals(s.bi()[s.a()] / (s.bi()[s.a()] + s.bi()[s.a() + 1]), s.ra(), 1e-12);
        assertEquals(1.0, s.ra() + s.rb(), 1e-12);
        assertEquals(r.config().numKvHeads(), s.merged().headsA().length + s.merged().headsB().length);
        assertEquals(r.config().intermediateSize(), s.merged().channelsA().length + s.merged().channelsB().length);
        assertEquals(r.nllBefore(), s.nllBefore());
        // the merged layer keeps a's attention type: the qwen3 fixture has layer_types full, sliding, sliding
        List<Integer> flat = new ArrayList<>();
        r.tree().entries().forEach(flat::addAll);
        assertEquals(List.of(0, 1, 2), flat);
        assertEquals(r.config().numLayers(), r.config().raw().get("layer_types").size());
    }

    @Test
    void comePPicksTheGridRatioOfLowestCalibrationNll() {
        var r = compress("mistral-f32", Method.COME_P, 2, new ArrayList<>());
        var s = r.steps().getFirst();
        assertEquals(5, s.candidates().size()); // granularity 4: 0, 0.25, ..., 1
        double best = s.candidates().stream().mapToDouble(c -> c[1]).min().orElseThrow();
        double[] chosen = s.candidates().stream().filter(c -> c[1] == best).findFirst().orElseThrow();
        assertEquals(chosen[0], s.ra());
        assertEquals(best, s.nllAfter(), 1e-9); // the candidate pass and the next full pass agree
    }
}
