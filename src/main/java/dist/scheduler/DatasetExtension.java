package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.DatasetNames;
import dist.protocol.Message.DatasetReply;
import dist.protocol.Message.GetDataset;
import dist.protocol.Message.ListDatasets;
import dist.protocol.Message.PublishDataset;
import dist.protocol.Message.UnpublishDataset;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * Published datasets: a name, the keys it keeps alive, and opaque bytes the client uses to rebuild
 * the collection of futures. Each dataset holds its keys through a client-like holder of its own,
 * so they stay in memory while it is published, whoever published it.
 */
final class DatasetExtension implements SchedulerExtension {

    /** One published dataset; {@code holder} wants its keys on the scheduler. */
    record Dataset(String name, List<String> keys, byte[] shape, ClientState holder) {}

    private final TreeMap<String, Dataset> byName = new TreeMap<>();
    private SchedulerContext core;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(PublishDataset.class, GetDataset.class, ListDatasets.class, UnpublishDataset.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        switch (message) {
            case PublishDataset p -> {
                publish(p);
                core.reply(clientId, new Ack(), requestId);
            }
            case GetDataset g -> core.reply(clientId, get(g.name()), requestId);
            case ListDatasets l -> core.reply(clientId, new DatasetNames(names()), requestId);
            case UnpublishDataset u -> {
                unpublish(u.name());
                core.reply(clientId, new Ack(), requestId);
            }
            default -> throw new IllegalStateException("not a dataset message: " + message);
        }
    }

    /** Names in sorted order. */
    List<String> names() {
        return List.copyOf(byName.keySet());
    }

    private void publish(PublishDataset p) {
        String name = p.name();
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a dataset needs a non-empty name");
        }
        if (p.keys() == null) {
            throw new IllegalArgumentException("PublishDataset.keys is null: send an empty collection instead");
        }
        if (byName.containsKey(name) && !p.override()) {
            throw new IllegalArgumentException("a dataset named '" + name + "' already exists; unpublish it first "
                    + "or publish with override");
        }
        ArrayList<TaskState> held = new ArrayList<>(p.keys().size());
        for (String k : p.keys()) {
            TaskState ts = k == null ? null : core.task(k);
            if (ts == null) {
                throw new IllegalArgumentException("dataset '" + name + "' names key " + k
                        + ", which the scheduler does not know; publish futures this cluster still holds");
            }
            held.add(ts);
        }
        Dataset old = byName.remove(name);
        ClientState holder = new ClientState(holderId(name), true);
        for (TaskState ts : held) {
            core.hold(holder, ts);
        }
        byName.put(name, new Dataset(name, List.copyOf(p.keys()), p.shape(), holder));
        if (old != null) {
            core.release(old.holder());
        }
    }

    private Message get(String name) {
        Dataset d = name == null ? null : byName.get(name);
        if (d == null) {
            throw notFound(name);
        }
        return new DatasetReply(d.name(), d.keys(), d.shape());
    }

    private void unpublish(String name) {
        Dataset d = name == null ? null : byName.remove(name);
        if (d == null) {
            throw notFound(name);
        }
        core.release(d.holder());
    }

    /** dask's KeyError words: "not found" and the name. */
    private IllegalArgumentException notFound(String name) {
        return new IllegalArgumentException("no dataset named '" + name + "' (not found); published: " + names());
    }

    /** The holder id of a dataset: never a real client's id (those are UUIDs), never routed anywhere. */
    static String holderId(String name) {
        return "dataset:" + name;
    }
}
