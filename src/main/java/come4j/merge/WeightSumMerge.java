package come4j.merge;

import come4j.io.DType;
import come4j.io.ScratchTensors;
import come4j.io.ScratchTensors.Values;
import come4j.io.TensorData;
import come4j.model.LayerSchema;
import come4j.model.LayerTensor;
import come4j.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The WeightSum ablation (method.md §13): every tensor of the merged layer, norms and biases included, is
 * r_a θ_a + r_b θ_b, with the same pair and ratio CoMe would use.
 */
public final class WeightSumMerge {
    private WeightSumMerge() {}

    public static MergedLayer merge(ModelConfig c, Map<String, TensorData> a, Map<String, TensorData> b, double ra, double rb,
                                    ScratchTensors store, DType dtype) {
        LayerSchema schema = c.schema();
        List<Values> out = new ArrayList<>();
        for (LayerTensor t : schema.parameters())
            out.add(new Values(t.name(), schema.shape(t), weighted(a.get(t.name()), b.get(t.name()), ra, rb)));
        return new MergedLayer(store.store(out, dtype), null, null, null, null);
    }

    /** wa a + wb b element by element, in fp32 like the authors' tensors. */
    static float[] weighted(TensorData a, TensorData b, double wa, double wb) {
        float[] x = a.toFloat(), y = b.toFloat();
        float fa = (float) wa, fb = (float) wb;
        for (int i = 0; i < x.length; i++) x[i] = fa * x[i] + fb * y[i];
        return x;
    }
}
