package come4j.distill;

import come4j.io.DType;
import come4j.io.ScratchTensors;
import come4j.io.TensorData;
import come4j.model.LayerSchema;
import come4j.model.LayerTensor;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.model.Role;
import come4j.tensor.Matrix;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The trainable tensors of one decoder layer by name ("self_attn.q_proj.weight", ...), in the order of the family's
 * {@link LayerSchema}; the same structure holds parameters, gradients and optimizer moments. A joint view of several
 * layers ({@link #joint}, the end-to-end stage) names its tensors "k/name" for the k-th layer and shares their arrays,
 * so the optimizer and the training state treat the layers as one.
 */
public final class LayerParams {
    private final LayerSchema schema;
    private final Map<String, Arr> tensors;

    private LayerParams(LayerSchema schema, Map<String, Arr> tensors) {
        this.schema = schema;
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /** A layer's weights copied into arrays made by {@code alloc} (fp32 or fp64). */
    public static LayerParams of(ModelConfig c, LayerWeights w, IntFunction<Arr> alloc) {
        LayerSchema schema = c.schema();
        Map<String, Arr> t = new LinkedHashMap<>();
        for (LayerTensor p : schema.parameters()) {
            Arr a = alloc.apply(Math.toIntExact(p.size(c)));
            if (p.kind() == LayerTensor.Kind.PROJECTION) {
                Matrix m = w.matrix(p.role());
                float[] row = new float[m.cols()];
                for (int r = 0; r < m.rows(); r++) {
                    m.row(r, 0, row, 0, row.length);
                    for (int j = 0; j < row.length; j++) a.set(r * row.length + j, row[j]);
                }
            } else {
                float[] v = w.vector(p.role());
                for (int j = 0; j < v.length; j++) a.set(j, v[j]);
            }
            t.put(p.name(), a);
        }
        return new LayerParams(schema, t);
    }

    /** Zeros of the same shapes and precision (gradients, moments). */
    public LayerParams zeros() {
        Map<String, Arr> t = new LinkedHashMap<>();
        tensors.forEach((k, v) -> t.put(k, v.zeros(v.length())));
        return new LayerParams(schema, t);
    }

    public LayerParams copy() {
        Map<String, Arr> t = new LinkedHashMap<>();
        tensors.forEach((k, v) -> t.put(k, v.copy()));
        return new LayerParams(schema, t);
    }

    /** The tensor of a name, or null when the architecture lacks it. */
    public Arr get(String name) {
        return tensors.get(name);
    }

    /** The tensor of a role, or null when the architecture lacks it. */
    public Arr get(Role role) {
        LayerTensor t = schema.find(role);
        return t == null ? null : tensors.get(t.name());
    }

    /** Whether AdamW's weight decay applies: to the projection matrices, not to norms and biases. */
    public boolean decays(String name) {
        return schema.find(name.substring(name.indexOf('/') + 1)).kind() == LayerTensor.Kind.PROJECTION;
    }

    /** The layers as one (same schema): tensor "k/name" is the k-th layer's "name", the same array, not a copy. */
    public static LayerParams joint(List<LayerParams> layers) {
        Map<String, Arr> t = new LinkedHashMap<>();
        for (int k = 0; k < layers.size(); k++) {
            int layer = k;
            layers.get(k).tensors.forEach((name, a) -> t.put(layer + "/" + name, a));
        }
        return new LayerParams(layers.getFirst().schema, t);
    }

    /** The k-th layer of a {@link #joint} view, sharing its arrays. */
    public LayerParams part(int k) {
        String prefix = k + "/";
        Map<String, Arr> t = new LinkedHashMap<>();
        tensors.forEach((name, a) -> {
            if (name.startsWith(prefix)) t.put(name.substring(prefix.length()), a);
        });
        return new LayerParams(schema, t);
    }

    public Map<String, Arr> tensors() {
        return tensors;
    }

    /** The tensors stored (converted to dtype) in scratch files, by name: the layer as a checkpoint holds it. */
    public Map<String, TensorData> store(ScratchTensors store, DType dtype) {
        List<ScratchTensors.Values> values = new ArrayList<>();
        tensors.forEach((s, a) -> values.add(new ScratchTensors.Values(s, schema.shape(schema.find(s)), a.toFloat())));
        return store.store(values, dtype);
    }
}
