package come4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import come4j.Fixtures;
import org.junit.jupiter.api.Test;

/** `come inspect` on Gemma 3 names both RoPE settings: the global layers' and the sliding layers' own. */
class InspectGemma3Test {
    @Test
    void showsTheLocalRope() {
        CliTest.Run r = CliTest.run("inspect", "--model", Fixtures.DIR.resolve("gemma3-f32").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("rope           theta 1000000, linear scaling; max positions 128\n"), r.out());
        assertTrue(r.out().contains("rope (local)   theta 10000, default scaling, on the sliding-window layers\n"), r.out());
    }
}
