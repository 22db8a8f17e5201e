package dist.worker;

import dist.serial.Serializer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A worker's results, by key. A value computed here keeps both the object (for local tasks) and
 * its bytes (for peers and clients); a value fetched from a peer keeps its bytes and is decoded
 * on first local use.
 */
public final class DataStore {

    /** One stored value: at least one of the two is set. */
    public static final class Entry {
        private volatile Object value;
        private volatile boolean decoded;
        private final byte[] bytes;

        Entry(Object value, byte[] bytes, boolean decoded) {
            this.value = value;
            this.bytes = bytes;
            this.decoded = decoded;
        }

        public byte[] bytes() {
            return bytes;
        }

        /** The value, decoded from its bytes on first use. */
        public Object value(Serializer serializer, ClassLoader loader) {
            if (!decoded) {
                value = serializer.decode(bytes, null, loader, null);
                decoded = true;
            }
            return value;
        }
    }

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    public void putComputed(String key, Object value, byte[] bytes) {
        entries.put(key, new Entry(value, bytes, true));
    }

    public void putBytes(String key, byte[] bytes) {
        entries.put(key, new Entry(null, bytes, false));
    }

    public Entry get(String key) {
        return entries.get(key);
    }

    public void remove(String key) {
        entries.remove(key);
    }

    public boolean contains(String key) {
        return entries.containsKey(key);
    }

    public int size() {
        return entries.size();
    }

    public void clear() {
        entries.clear();
    }
}
