package come4j.merge;

import come4j.io.TensorData;
import java.util.Map;

/** A merged layer's tensors by suffix, and which kv head groups / FFN channels of a and b it kept (null: WeightSum). */
public record MergedLayer(Map<String, TensorData> tensors, int[] headsA, int[] headsB, int[] channelsA, int[] channelsB) {}
