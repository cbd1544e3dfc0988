package come4j.tensor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import come4j.Fixtures;
import come4j.model.Checkpoint;
import come4j.model.Transformer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * --dtype bfloat16 against transformers computing the bf16 fixtures in bf16 (golden "logits", tools/make_fixtures.py),
 * on the run's backend (-Dcome4j.backend). The tolerance is transformers' own bf16-vs-fp32 difference on the same
 * weights, gap = max |logits - logits_fp32| (0.020-0.032 on these fixtures): our bf16 run must (1) differ from fp32
 * (the products really are bf16) by no more than gap, since we round fewer intermediates than transformers (bf16
 * operands with fp32 accumulation; norms, softmax and the residual stream stay fp32), and (2) be within 1.5 gap of
 * transformers' bf16 run: two bf16 runs that each err by up to gap may differ by up to 2 gap; measured 1.0-1.24 gap.
 */
class Bf16ParityTest {
    static java.util.List<String> bf16Fixtures() {
        return Fixtures.names().filter(n -> n.endsWith("bf16")).toList();
    }

    @AfterEach
    void restore() {
        Backends.choose(System.getProperty("come4j.backend", "auto"), System.getProperty("come4j.dtype", "float32"), m -> {});
    }

    @ParameterizedTest
    @MethodSource("bf16Fixtures")
    void logitsMatchTransformersInBf16(String name) throws Exception {
        Backends.choose(System.getProperty("come4j.backend", "auto"), "bfloat16", m -> {});
        JsonNode g = Fixtures.golden(name);
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(name))) {
            Transformer model = Transformer.load(ckpt);
            float[] logits = model.forward(Fixtures.ints(g.get("input_ids")), 1);
            float[] fp32 = new float[logits.length];
            for (int i = 0; i < fp32.length; i++) fp32[i] = (float) g.get("logits_fp32").get(i).asDouble();
            double torchGap = Fixtures.maxAbsDiff(fp32, g.get("logits"));
            double ours = Fixtures.maxAbsDiff(logits, g.get("logits"));
            double fromFp32 = Fixtures.maxAbsDiff(logits, g.get("logits_fp32"));
            String what = name + " on " + model.backend().describe() + ": max |logit - transformers bf16| = " + ours
                    + ", transformers' own bf16/fp32 gap " + torchGap + ", ours from fp32 " + fromFp32;
            System.out.println(what);
            assertTrue(fromFp32 > 1e-4 && fromFp32 <= torchGap, what);
            assertTrue(ours <= 1.5 * torchGap, what);
        }
    }
}
