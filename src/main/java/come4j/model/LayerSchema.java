package come4j.model;

import come4j.io.Convert;
import come4j.io.TensorData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
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
    private final Map<String, List<LayerTensor>> fused = new LinkedHashMap<>(); // checkpoint name -> its parts, stacked in order

    LayerSchema(ModelConfig config, Family family) {
        this.config = config;
        this.family = family;
        for (LayerTensor t : family.layer()) if (t.when().test(config)) byName.put(t.name(), t);
        this.parameters = byName.values().stream().filter(LayerTensor::parameter).toList();
        for (LayerTensor t : parameters) if (t.fusedIn() != null) fused.computeIfAbsent(t.fusedIn(), k -> new ArrayList<>()).add(t);
    }

    /** Whether a layer of a checkpoint may hold this name: a tensor stored under its own name, or a fused one. */
    public boolean stored(String name) {
        LayerTensor t = byName.get(name);
        return t != null ? t.fusedIn() == null : fused.containsKey(name);
    }

    /** The parts stacked in a fused checkpoint tensor, in order (empty for any other name). */
    public List<LayerTensor> parts(String fusedName) {
        return fused.getOrDefault(fusedName, List.of());
    }

    /** The shape of a fused checkpoint tensor: its parts stacked along the first axis. */
    public long[] fusedShape(String fusedName) {
        List<LayerTensor> parts = parts(fusedName);
        long[] s = shape(parts.getFirst()).clone();
        s[0] = 0;
        for (LayerTensor p : parts) s[0] += shape(p)[0];
        return s;
    }

    /** Part t of its fused checkpoint tensor, a view of its rows named as the part. */
    public TensorData part(TensorData whole, LayerTensor t) {
        long rowsBefore = 0;
        for (LayerTensor p : parts(t.fusedIn())) {
            if (p == t) break;
            rowsBefore += shape(p)[0];
        }
        long rowElements = whole.numel() / whole.shape()[0], bytes = whole.dtype().bytes;
        long[] shape = shape(t);
        return new TensorData(t.name(), whole.dtype(), shape,
                whole.data().asSlice(rowsBefore * rowElements * bytes, shape[0] * rowElements * bytes));
    }

    /**
     * The fused checkpoint tensor {@code original} (named {@code fusedName} after the layer prefix) with the parts a
     * method changed ({@code changed}, by part name) stacked in place of its own rows, in the original's dtype; the
     * original itself when no part changed.
     */
    public TensorData fuse(String fusedName, TensorData original, Map<String, TensorData> changed) {
        List<LayerTensor> parts = parts(fusedName);
        if (parts.stream().noneMatch(p -> changed.containsKey(p.name()))) return original;
        MemorySegment out = Arena.ofAuto().allocate(original.data().byteSize());
        long at = 0;
        for (LayerTensor p : parts) {
            TensorData t = changed.getOrDefault(p.name(), part(original, p));
            if (t.dtype() == original.dtype()) MemorySegment.copy(t.data(), 0, out, at, t.data().byteSize());
            else Convert.fromFloat(t.toFloat(), 0, Math.toIntExact(t.numel()), out.asSlice(at), original.dtype(), 0);
            at += t.numel() * original.dtype().bytes;
        }
        return new TensorData(original.name(), original.dtype(), original.shape(), out);
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
