package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.TaskMetadataReply;
import dist.protocol.Message.TaskMetadataRequest;
import dist.protocol.Message.TaskMetadataUpdate;
import dist.protocol.TaskSpec;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What worker plugins set on tasks (dask's TaskState.metadata), kept on the task until it is forgotten,
 * and collections of it around a block of client code (dask's get_task_metadata): a collector records
 * the keys of every graph submitted while it is open, and on stop answers their metadata and states.
 * Values are text the scheduler never interprets.
 */
final class TaskStateMetadata implements SchedulerExtension {
    /** Names one task keeps at most, and characters of a name or value. */
    static final int MAX_NAMES = 100, MAX_CHARS = 10_000;
    /** Open collectors of one client at most, and keys one collector records at most. */
    static final int MAX_COLLECTORS = 100, MAX_COLLECTED = 1_000_000;

    /** A collector's keys, and the metadata and state each had when it last finished. */
    private static final class Collector {
        final LinkedHashSet<String> keys = new LinkedHashSet<>();
        final Map<String, Map<String, String>> metadata = new HashMap<>();
        final Map<String, String> states = new HashMap<>();
    }

    private SchedulerContext core;
    /** Open collectors by client id, then by the client's name for each. */
    private final Map<String, Map<String, Collector>> collectors = new HashMap<>();

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(TaskMetadataRequest.class);
    }

    @Override
    public Set<Class<? extends Message>> workerMessages() {
        return Set.of(TaskMetadataUpdate.class);
    }

    @Override
    public void onWorker(WorkerState worker, Message message, long requestId) {
        TaskMetadataUpdate u = (TaskMetadataUpdate) message;
        if (u.key() == null || u.values() == null) {
            throw new IllegalArgumentException("task metadata needs a key and values");
        }
        TaskState ts = core.task(u.key());
        if (ts == null) {
            return; // forgotten meanwhile
        }
        Map<String, String> m = ts.metadata == null ? new LinkedHashMap<>() : new LinkedHashMap<>(ts.metadata);
        for (Map.Entry<String, String> e : u.values().entrySet()) {
            if (e.getKey() == null || e.getValue() == null || e.getKey().length() > MAX_CHARS
                    || e.getValue().length() > MAX_CHARS) {
                throw new IllegalArgumentException("task metadata names and values are text of at most " + MAX_CHARS
                        + " characters");
            }
            m.put(e.getKey(), e.getValue());
        }
        if (m.size() > MAX_NAMES) {
            throw new IllegalArgumentException("a task keeps at most " + MAX_NAMES + " metadata names");
        }
        ts.metadata = Map.copyOf(m);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        TaskMetadataRequest r = (TaskMetadataRequest) message;
        if (r.collector() == null) {
            List<String> keys = r.keys() == null ? List.of() : r.keys();
            Map<String, Map<String, String>> metadata = new LinkedHashMap<>();
            Map<String, String> states = new LinkedHashMap<>();
            for (String k : keys) {
                TaskState ts = k == null ? null : core.task(k);
                metadata.put(k, ts == null || ts.metadata == null ? Map.of() : ts.metadata);
                states.put(k, ts == null ? "forgotten" : TaskState.name(ts.state));
            }
            core.reply(clientId, new TaskMetadataReply(metadata, states), requestId);
            return;
        }
        Map<String, Collector> mine = collectors.computeIfAbsent(clientId, c -> new LinkedHashMap<>());
        if (r.start()) {
            if (mine.size() >= MAX_COLLECTORS && !mine.containsKey(r.collector())) {
                throw new IllegalArgumentException("a client collects task metadata in at most " + MAX_COLLECTORS
                        + " blocks at once");
            }
            mine.put(r.collector(), new Collector());
            core.reply(clientId, new Ack(), requestId);
            return;
        }
        Collector c = mine.remove(r.collector());
        if (mine.isEmpty()) {
            collectors.remove(clientId);
        }
        Map<String, Map<String, String>> metadata = new LinkedHashMap<>();
        Map<String, String> states = new LinkedHashMap<>();
        if (c != null) {
            for (String k : c.keys) {
                TaskState ts = core.task(k);
                if (ts != null) {
                    metadata.put(k, ts.metadata == null ? Map.of() : ts.metadata);
                    states.put(k, TaskState.name(ts.state));
                } else if (c.states.containsKey(k)) {
                    metadata.put(k, c.metadata.getOrDefault(k, Map.of()));
                    states.put(k, c.states.get(k));
                }
            }
        }
        core.reply(clientId, new TaskMetadataReply(metadata, states), requestId);
    }

    @Override
    public void graphUpdated(String clientId, List<TaskSpec> tasks) {
        for (Map<String, Collector> mine : collectors.values()) {
            for (Collector c : mine.values()) {
                for (TaskSpec t : tasks) {
                    if (c.keys.size() < MAX_COLLECTED) {
                        c.keys.add(t.key());
                    }
                }
            }
        }
    }

    @Override
    public boolean observesTransitions() {
        return true;
    }

    @Override
    public void transition(TaskState task, byte from, byte to) {
        if (collectors.isEmpty() || to != TaskState.MEMORY && to != TaskState.ERRED) {
            return;
        }
        for (Map<String, Collector> mine : collectors.values()) {
            for (Collector c : mine.values()) {
                if (c.keys.contains(task.key)) {
                    c.states.put(task.key, TaskState.name(to));
                    c.metadata.put(task.key, task.metadata == null ? Map.of() : task.metadata);
                }
            }
        }
    }

    @Override
    public void clientGone(String clientId) {
        collectors.remove(clientId);
    }
}
