package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.GetMetadata;
import dist.protocol.Message.MetadataReply;
import dist.protocol.Message.SetMetadata;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The cluster's metadata, as dask's set_metadata / get_metadata: a tree of names whose leaves are
 * values the scheduler keeps as bytes, never decoded. An entry named after a task goes when the
 * task is forgotten.
 */
final class TaskMetadata implements SchedulerExtension {
    private SchedulerContext core;
    /** Names to maps (inner nodes) or byte[] (values). */
    private final Map<String, Object> root = new LinkedHashMap<>();

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(SetMetadata.class, GetMetadata.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        switch (message) {
            case SetMetadata m -> {
                set(checked(m.keys()), m.value());
                core.reply(clientId, new Ack(), requestId);
            }
            case GetMetadata m -> core.reply(clientId, get(checked(m.keys())), requestId);
            default -> throw new IllegalArgumentException("unexpected " + message.getClass().getSimpleName());
        }
    }

    private static List<String> checked(List<String> keys) {
        if (keys == null || keys.isEmpty() || keys.stream().anyMatch(java.util.Objects::isNull)) {
            throw new IllegalArgumentException("a metadata path names at least one key, none null: " + keys);
        }
        return keys;
    }

    @SuppressWarnings("unchecked")
    private void set(List<String> keys, byte[] value) {
        boolean wasEmpty = root.isEmpty();
        Map<String, Object> node = root;
        for (String k : keys.subList(0, keys.size() - 1)) {
            Object next = node.get(k);
            if (!(next instanceof Map)) {
                next = new LinkedHashMap<String, Object>(); // as dask: a value on the way is replaced by a map
                node.put(k, next);
            }
            node = (Map<String, Object>) next;
        }
        node.put(keys.get(keys.size() - 1), value == null ? new byte[0] : value);
        if (wasEmpty) {
            core.transitionsWanted(); // forgotten tasks are watched only while there is metadata
        }
    }

    @SuppressWarnings("unchecked")
    private MetadataReply get(List<String> keys) {
        Object node = root;
        for (int i = 0; i < keys.size(); i++) {
            if (!(node instanceof Map)) {
                return new MetadataReply("not-a-map", i, List.of(), List.of());
            }
            node = ((Map<String, Object>) node).get(keys.get(i));
            if (node == null) {
                return new MetadataReply("missing", i, List.of(), List.of());
            }
        }
        List<List<String>> paths = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        leaves(node, new ArrayList<>(), paths, values);
        return new MetadataReply("found", keys.size(), paths, values);
    }

    @SuppressWarnings("unchecked")
    private static void leaves(Object node, List<String> at, List<List<String>> paths, List<byte[]> values) {
        if (node instanceof Map<?, ?> m) {
            for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
                at.add(e.getKey());
                leaves(e.getValue(), at, paths, values);
                at.remove(at.size() - 1);
            }
        } else {
            paths.add(List.copyOf(at));
            values.add((byte[]) node);
        }
    }

    @Override
    public boolean observesTransitions() {
        return !root.isEmpty();
    }

    @Override
    public void transition(TaskState task, byte from, byte to) {
        if (to == TaskState.FORGOTTEN && root.remove(task.key) != null && root.isEmpty()) {
            core.transitionsWanted();
        }
    }
}
