package dist;

import java.util.Map;

/**
 * The metadata worker plugins set on tasks and the tasks' states, as collected around a block of code
 * ({@link Client#collectTaskMetadata}), dask's {@code get_task_metadata}: open it, submit work, close
 * it, then read what the tasks submitted meanwhile (by any client) carried when they finished.
 *
 * <pre>{@code
 * TaskMetadata tasks = client.collectTaskMetadata();
 * try (tasks) {
 *     client.submit(Work::slowInc, 1).result();
 * }
 * tasks.metadata().forEach((key, m) -> System.out.println(key + " " + m.get("start_time")));
 * }</pre>
 */
public final class TaskMetadata implements AutoCloseable {
    private final Client client;
    private final String id;
    private volatile Map<String, Map<String, String>> metadata;
    private volatile Map<String, String> states;

    TaskMetadata(Client client, String id) {
        this.client = client;
        this.id = id;
    }

    /** Stops collecting and fetches what was collected; closing again does nothing. */
    @Override
    public void close() {
        if (states == null) {
            dist.protocol.Message.TaskMetadataReply r = client.stopCollecting(id);
            metadata = Map.copyOf(r.metadata());
            states = Map.copyOf(r.states());
        }
    }

    /** Per task submitted while open, the metadata it carried (empty: none). */
    public Map<String, Map<String, String>> metadata() {
        return done(metadata);
    }

    /** Per task submitted while open, its state: "memory" or "erred" when it finished, else its state at close. */
    public Map<String, String> states() {
        return done(states);
    }

    private <T> T done(T value) {
        if (value == null) {
            throw new IllegalStateException("close the collection before reading it");
        }
        return value;
    }
}
