package dist.scheduler;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * A task's inputs by key, in input order, read-only: what a ComputeTask says of them (where each is,
 * how large). Two arrays, the keys shared by both maps of one ComputeTask, where a LinkedHashMap
 * spends a 40-byte node per input: a sum over a hundred inputs sent two of those with every
 * placement. The maps are read whole (encoded, iterated), so {@link #get} scans.
 *
 * <pre>{@code
 * String[] keys = {"x", "y"};
 * Map<String, Long> sizes = new InputMap<>(keys, new Object[] {8L, 16L}); // {x=8, y=16}
 * }</pre>
 */
final class InputMap<V> extends AbstractMap<String, V> {
    private final String[] keys;
    private final Object[] values;

    /** {@code keys} distinct, and neither array written afterwards: both are kept, not copied. */
    InputMap(String[] keys, Object[] values) {
        if (keys.length != values.length) {
            throw new IllegalArgumentException(keys.length + " keys but " + values.length + " values");
        }
        this.keys = keys;
        this.values = values;
    }

    @Override
    public int size() {
        return keys.length;
    }

    @Override
    public boolean containsKey(Object key) {
        return indexOf(key) >= 0;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V get(Object key) {
        int i = indexOf(key);
        return i < 0 ? null : (V) values[i];
    }

    private int indexOf(Object key) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i].equals(key)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public Set<Entry<String, V>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public int size() {
                return keys.length;
            }

            @Override
            public Iterator<Entry<String, V>> iterator() {
                return new Iterator<>() {
                    private int next;

                    @Override
                    public boolean hasNext() {
                        return next < keys.length;
                    }

                    @Override
                    @SuppressWarnings("unchecked")
                    public Entry<String, V> next() {
                        if (next >= keys.length) {
                            throw new NoSuchElementException();
                        }
                        int i = next++;
                        return new SimpleImmutableEntry<>(keys[i], (V) values[i]);
                    }
                };
            }
        };
    }
}
