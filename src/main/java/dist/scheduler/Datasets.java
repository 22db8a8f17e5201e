package dist.scheduler;

import java.util.List;
import java.util.TreeMap;

/**
 * Published datasets: a name, the keys it keeps alive, and opaque bytes the client uses to rebuild
 * the collection of futures. Each dataset holds its keys through a client-like holder of its own,
 * so they stay in memory while it is published, whoever published it.
 */
final class Datasets {

    /** One published dataset; {@code holder} wants its keys on the scheduler. */
    record Dataset(String name, List<String> keys, byte[] shape, ClientState holder) {}

    private final TreeMap<String, Dataset> byName = new TreeMap<>();

    Dataset get(String name) {
        return byName.get(name);
    }

    void put(Dataset d) {
        byName.put(d.name(), d);
    }

    Dataset remove(String name) {
        return byName.remove(name);
    }

    /** Names in sorted order. */
    List<String> names() {
        return List.copyOf(byName.keySet());
    }

    /** The holder id of a dataset: never a real client's id (those are UUIDs), never routed anywhere. */
    static String holderId(String name) {
        return "dataset:" + name;
    }
}
