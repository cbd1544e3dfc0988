package come4j.merge;

import com.fasterxml.jackson.databind.node.ObjectNode;
import come4j.report.RunSettings.MethodSettings;
import come4j.io.TensorData;
import come4j.model.ModelConfig;
import java.util.List;
import java.util.Map;

/**
 * What a method produced: the output's config, its tree (each output layer's original layers; a removed layer is in
 * no entry), each output layer's tensors by suffix, and the method's own settings and record fields for
 * come-merge.json (steps, removed layers, scores, LaCo's search, ...).
 */
public record Compression(ModelConfig config, MergeTree tree, List<Map<String, TensorData>> layers, MethodSettings settings,
                          ObjectNode record) {}
