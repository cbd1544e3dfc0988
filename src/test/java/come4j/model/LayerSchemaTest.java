package come4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import come4j.Fixtures;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The layer schema of each family against the transformers-made fixtures: the reference is the files themselves. */
class LayerSchemaTest {
    /** The schema's parameters under each fixture's config are exactly the layer's tensors in the file, with their shapes. */
    @ParameterizedTest
    @MethodSource("come4j.Fixtures#forwardNames")
    void declaresExactlyTheTensorsTransformersWrites(String name) {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.DIR.resolve(name))) {
            LayerSchema s = ckpt.config().schema();
            // a fused tensor (Phi-3) is stored under its own name, its parts declared in its place
            TreeSet<String> stored = new TreeSet<>(s.parameters().stream().map(t -> t.fusedIn() == null ? t.name() : t.fusedIn()).toList());
            assertEquals(new TreeSet<>(Fixtures.layerTensorNames(ckpt, 1)), stored, name);
            long params = 0;
            for (String n : stored) {
                long[] file = ckpt.tensors().get(s.prefix(1) + n).shape();
                assertArrayEquals(file, s.parts(n).isEmpty() ? s.shape(s.find(n)) : s.fusedShape(n), n);
                long size = 1;
                for (long x : file) size *= x;
                params += size;
            }
            assertEquals(params, ParameterCount.of(ckpt.config()).perLayer(), name + ": parameters of a layer");
        }
    }

    /** A declaration whose split and merge rule disagree is refused when the table is built, not at merge time. */
    @Test
    void inconsistentDeclarationsAreRefused() {
        LayerTensor.Dim[] d = LayerTensor.shape(LayerTensor.Dim.HIDDEN);
        assertThrows(IllegalArgumentException.class, () -> LayerTensor.tensor("x.weight", Role.O, LayerTensor.Kind.PROJECTION, d,
                LayerTensor.Axis.NONE, LayerTensor.Unit.NONE, LayerTensor.Merge.CONCAT));
        assertThrows(IllegalArgumentException.class, () -> LayerTensor.tensor("x.weight", Role.INPUT_NORM, LayerTensor.Kind.NORM, d,
                LayerTensor.Axis.INPUT, LayerTensor.Unit.FFN_CHANNELS, LayerTensor.Merge.MEAN));
        assertThrows(IllegalArgumentException.class, () -> LayerTensor.tensor("x.weight", Role.INPUT_NORM, LayerTensor.Kind.NORM, d,
                LayerTensor.Axis.NONE, LayerTensor.Unit.NONE, null));
    }
}
