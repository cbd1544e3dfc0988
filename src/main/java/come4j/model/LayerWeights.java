package come4j.model;

import come4j.io.TensorData;
import come4j.tensor.Matrix;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * One decoder layer's parameters by {@link Role}, as its family's {@link LayerSchema} lists them. Projections are
 * {@link Matrix} views (mmap'd tensors of a checkpoint, or arrays of a merged layer); norms and biases are small fp32
 * arrays. A role the architecture lacks reads as null.
 */
public record LayerWeights(Map<Role, Matrix> matrices, Map<Role, float[]> vectors) {

    public LayerWeights {
        matrices = Collections.unmodifiableMap(new EnumMap<>(matrices));
        vectors = Collections.unmodifiableMap(new EnumMap<>(vectors));
    }

    /**
     * Layer {@code i} of a checkpoint by name (after the layer prefix), shapes checked against the config; the parts
     * of a fused tensor (Phi-3) as row views under their own names.
     */
    public static Map<String, TensorData> tensors(Checkpoint ckpt, int i) {
        LayerSchema s = ckpt.config().schema();
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (LayerTensor t : s.parameters())
            out.put(t.name(), t.fusedIn() == null ? ckpt.tensor(s.prefix(i) + t.name(), s.shape(t))
                    : s.part(ckpt.tensor(s.prefix(i) + t.fusedIn(), s.fusedShape(t.fusedIn())), t));
        return out;
    }

    public static LayerWeights load(Checkpoint ckpt, int i) {
        return of(ckpt.config(), tensors(ckpt, i));
    }

    /** A layer's weights from its tensors by name: every parameter of the schema must be there. */
    public static LayerWeights of(ModelConfig c, Map<String, TensorData> t) {
        Map<Role, Matrix> m = new EnumMap<>(Role.class);
        Map<Role, float[]> v = new EnumMap<>(Role.class);
        for (LayerTensor p : c.schema().parameters()) {
            TensorData x = t.get(p.name());
            if (x == null) throw new IllegalArgumentException("the layer has no tensor '" + p.name() + "'");
            if (p.kind() == LayerTensor.Kind.PROJECTION) m.put(p.role(), Matrix.of(x));
            else v.put(p.role(), x.toFloat());
        }
        return new LayerWeights(m, v);
    }

    /** The same layer with every projection mapped (e.g. to the kernels' resident form). */
    public LayerWeights withMatrices(UnaryOperator<Matrix> f) {
        Map<Role, Matrix> m = new EnumMap<>(Role.class);
        matrices.forEach((r, x) -> m.put(r, f.apply(x)));
        return new LayerWeights(m, vectors);
    }

    /** The same layer with one projection replaced. */
    public LayerWeights with(Role role, Matrix x) {
        Map<Role, Matrix> m = new EnumMap<>(matrices);
        m.put(role, x);
        return new LayerWeights(m, vectors);
    }

    public Matrix matrix(Role r) {
        return matrices.get(r);
    }

    public float[] vector(Role r) {
        return vectors.get(r);
    }

    // The forward pass's view (DecoderLayer).
    public Matrix q() { return matrices.get(Role.Q); }
    public Matrix k() { return matrices.get(Role.K); }
    public Matrix v() { return matrices.get(Role.V); }
    public Matrix o() { return matrices.get(Role.O); }
    public Matrix gate() { return matrices.get(Role.GATE); }
    public Matrix up() { return matrices.get(Role.UP); }
    public Matrix down() { return matrices.get(Role.DOWN); }
    public float[] inputNorm() { return vectors.get(Role.INPUT_NORM); }
    public float[] postNorm() { return vectors.get(Role.POST_ATTENTION_NORM); }
    public float[] inputNormBias() { return vectors.get(Role.INPUT_NORM_BIAS); }
    public float[] postNormBias() { return vectors.get(Role.POST_ATTENTION_NORM_BIAS); }
    public float[] qNorm() { return vectors.get(Role.Q_NORM); }
    public float[] kNorm() { return vectors.get(Role.K_NORM); }
    public float[] qBias() { return vectors.get(Role.Q_BIAS); }
    public float[] kBias() { return vectors.get(Role.K_BIAS); }
    public float[] vBias() { return vectors.get(Role.V_BIAS); }
    public float[] oBias() { return vectors.get(Role.O_BIAS); }
    public float[] gateBias() { return vectors.get(Role.GATE_BIAS); }
    public float[] upBias() { return vectors.get(Role.UP_BIAS); }
    public float[] downBias() { return vectors.get(Role.DOWN_BIAS); }
}
