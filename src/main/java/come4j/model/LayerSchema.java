package come4j.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A family's layer table bound to one config: the tensors every layer of this model has (those whose condition the
 * config meets), in the family's order, with their shapes. Everything that walks a layer's tensors walks this.
 */
public final class LayerSchema {
    private final ModelConfig config;
    private final Family family;
    private final Map<String, LayerTensor> byName = new LinkedHashMap<>();
    private final List<LayerTensor> parameters;

    LayerSchema(ModelConfig config, Family family) {
        this.config = config;
        this.family = family;
        for (LayerTensor t : family.layer()) if (t.when().test(config)) byName.put(t.name(), t);
        this.parameters = byName.values().stream().filter(LayerTensor::parameter).toList();
    }

    public Family family() {
        return family;
    }

    /** "model.layers.N." (the family's prefix of layer N's tensor names). */
    public String prefix(int layer) {
        return family.layerPrefix() + layer + ".";
    }

    /** The parameters of a layer, in the family's order (buffers excluded). */
    public List<LayerTensor> parameters() {
        return parameters;
    }

    /** The tensor of this name (after the layer prefix), or null when a layer of this config has no such tensor. */
    public LayerTensor find(String name) {
        return byName.get(name);
    }

    /** The parameter that plays a role, or null when this config's layers lack it. */
    public LayerTensor find(Role role) {
        for (LayerTensor t : parameters) if (t.role() == role) return t;
        return null;
    }

    /** The projection whose input axis carries the units (the consumer that channel sensitivity weighs, method.md §6). */
    public LayerTensor consumer(LayerTensor.Unit unit) {
        for (LayerTensor t : parameters)
            if (t.kind() == LayerTensor.Kind.PROJECTION && t.axis() == LayerTensor.Axis.INPUT && t.unit() == unit) return t;
        throw new IllegalStateException(family.name() + " declares no projection consuming " + unit);
    }

    public long[] shape(LayerTensor t) {
        return t.shape(config);
    }

    /** Parameters of one decoder layer. */
    public long parameterCount() {
        long n = 0;
        for (LayerTensor t : parameters) n += t.size(config);
        return n;
    }
}
