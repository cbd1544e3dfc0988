package come4j.calib;

import come4j.model.LayerTensor;
import come4j.model.LayerWeights;
import come4j.model.ModelConfig;
import come4j.tensor.Matrix;

/**
 * Channel sensitivity (method.md §6): activation intensity x weight norm, s_c = mean_t |x_{t,c}| * ||W[:, c]||_1 for
 * an input channel c of the consuming linear map. FFN: one score per intermediate channel (consumer W_down).
 * Attention: one score per kv head group (consumer W_o), the mean over the group's n_rep * head_dim channels. The
 * consumers are the projections whose input axis the family's schema splits by those units.
 */
public final class ChannelSensitivity {
    private ChannelSensitivity() {}

    /** S_j for the FFN channels, from the mean |down_proj input| per channel. */
    public static double[] ffn(ModelConfig c, LayerWeights w, double[] meanAbs) {
        float[] norms = columnL1(w.matrix(c.schema().consumer(LayerTensor.Unit.FFN_CHANNELS).role()));
        double[] s = new double[norms.length];
        for (int j = 0; j < s.length; j++) s[j] = norms[j] * meanAbs[j];
        return s;
    }

    /** S_g for the kv head groups, from the mean |o_proj input| per channel. */
    public static double[] attention(ModelConfig c, LayerWeights w, double[] meanAbs) {
        float[] norms = columnL1(w.matrix(c.schema().consumer(LayerTensor.Unit.QUERY_HEADS).role()));
        int groupWidth = c.nRep() * c.headDim();
        double[] s = new double[c.numKvHeads()];
        for (int g = 0; g < s.length; g++) {
            double sum = 0;
            for (int ch = g * groupWidth; ch < (g + 1) * groupWidth; ch++) sum += norms[ch] * meanAbs[ch];
            s[g] = sum / groupWidth;
        }
        return s;
    }

    /** ||W[:, c]||_1 for every column, summed in fp32 from the stored weights (as the authors' statistics are). */
    static float[] columnL1(Matrix w) {
        int rows = w.rows(), cols = w.cols();
        float[] norms = new float[cols], row = new float[cols];
        for (int r = 0; r < rows; r++) {
            w.row(r, 0, row, 0, cols);
            for (int c = 0; c < cols; c++) norms[c] += Math.abs(row[c]);
        }
        return norms;
    }
}
