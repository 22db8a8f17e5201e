package dist.client;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Walks nested lists, sets, maps and object arrays to find leaves of one type, and rebuilds the
 * same shape with each leaf replaced. Used by gather, which keeps the shape it was given. Internal.
 */
public final class Shapes {
    private Shapes() {
    }

    /** Calls {@code sink} for every leaf of type {@code leafType} inside {@code shape}, in order. */
    public static <L> void collect(Object shape, Class<L> leafType, Consumer<? super L> sink) {
        if (leafType.isInstance(shape)) {
            sink.accept(leafType.cast(shape));
        } else if (shape instanceof Collection<?> c) {
            for (Object o : c) {
                collect(o, leafType, sink);
            }
        } else if (shape instanceof Map<?, ?> m) {
            for (Object o : m.values()) {
                collect(o, leafType, sink);
            }
        } else if (shape instanceof Object[] a) {
            for (Object o : a) {
                collect(o, leafType, sink);
            }
        }
    }

    /**
     * A copy of {@code shape} with every leaf replaced by {@code replace(leaf)}: lists stay lists,
     * sets keep their iteration order, maps keep their keys and order, arrays become {@code Object[]}. Anything else is returned as it is.
     */
    public static <L> Object rebuild(Object shape, Class<L> leafType, Function<? super L, ?> replace) {
        if (leafType.isInstance(shape)) {
            return replace.apply(leafType.cast(shape));
        } else if (shape instanceof Set<?> s) {
            Set<Object> out = new LinkedHashSet<>();
            for (Object o : s) {
                out.add(rebuild(o, leafType, replace));
            }
            return out;
        } else if (shape instanceof Collection<?> c) {
            List<Object> out = new ArrayList<>(c.size());
            for (Object o : c) {
                out.add(rebuild(o, leafType, replace));
            }
            return out;
        } else if (shape instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.put(e.getKey(), rebuild(e.getValue(), leafType, replace));
            }
            return out;
        } else if (shape instanceof Object[] a) {
            Object[] out = new Object[a.length];
            for (int i = 0; i < a.length; i++) {
                out[i] = rebuild(a[i], leafType, replace);
            }
            return out;
        }
        return shape;
    }
}
