package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.DatasetNames;
import dist.protocol.Message.DatasetReply;
import dist.protocol.Message.GetDataset;
import dist.protocol.Message.ListDatasets;
import dist.protocol.Message.PublishDataset;
import dist.protocol.Message.PublishDatasets;
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
        return Set.of(PublishDataset.class, PublishDatasets.class, GetDataset.class, ListDatasets.class,
                UnpublishDataset.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        switch (message) {
            case PublishDataset p -> {
                publish(List.of(p), p.override());
                core.reply(clientId, new Ack(), requestId);
            }
            case PublishDatasets p -> {
                publish(p.datasets(), p.override());
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

    /** Publishes every one of {@code datasets}, or none when one of them is refused. */
    private void publish(List<PublishDataset> datasets, boolean override) {
        if (datasets == null || datasets.isEmpty()) {
            throw new IllegalArgumentException("no dataset to publish: give at least one name");
        }
        ArrayList<List<TaskState>> held = new ArrayList<>(datasets.size());
        ArrayList<String> existing = new ArrayList<>();
        java.util.HashSet<String> seen = new java.util.HashSet<>();
        for (PublishDataset p : datasets) {
            String name = p == null ? null : p.name();
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("a dataset needs a non-empty name");
            }
            if (!seen.add(name)) {
                throw new IllegalArgumentException("dataset '" + name + "' is given twice in one publish");
            }
            if (p.keys() == null) {
                throw new IllegalArgumentException("PublishDataset.keys is null: send an empty collection instead");
            }
            if (byName.containsKey(name) && !override) {
                existing.add(name);
            }
            ArrayList<TaskState> tasks = new ArrayList<>(p.keys().size());
            for (String k : p.keys()) {
                TaskState ts = k == null ? null : core.task(k);
                if (ts == null) {
                    throw new IllegalArgumentException("dataset '" + name + "' names key " + k
                            + ", which the scheduler does not know; publish futures this cluster still holds");
                }
                tasks.add(ts);
            }
            held.add(tasks);
        }
        if (!existing.isEmpty()) {
            throw new IllegalArgumentException((existing.size() == 1 ? "a dataset named '" + existing.get(0) + "' already exists"
                    : "datasets named " + existing + " already exist") + "; unpublish first or publish with override"
                    + (datasets.size() > 1 ? " (nothing was published)" : ""));
        }
        for (int i = 0; i < datasets.size(); i++) {
            PublishDataset p = datasets.get(i);
            Dataset old = byName.remove(p.name());
            ClientState holder = new ClientState(holderId(p.name()), true);
            for (TaskState ts : held.get(i)) {
                core.hold(holder, ts); // before the old holder lets go: keys both share stay
            }
            byName.put(p.name(), new Dataset(p.name(), List.copyOf(p.keys()), p.shape(), holder));
            if (old != null) {
                core.release(old.holder());
            }
        }
    }

    private Message get(String name) {
        Dataset d = name == null ? null : byName.get(name);
        if (d == null) {
            throw notFound(name);
        }
        return new DatasetReply(d.name(), d.keys(), d.shape());
    }

    /** Quietly nothing when there is no such dataset: a task that unpublishes may run twice (as in dask). */
    private void unpublish(String name) {
        Dataset d = name == null ? null : byName.remove(name);
        if (d != null) {
            core.release(d.holder());
        }
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
