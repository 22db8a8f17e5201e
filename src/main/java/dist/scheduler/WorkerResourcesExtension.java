package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.WorkerResources;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The abstract resources each worker offers (e.g. {@code GPU=2}), as a worker declares them with
 * {@link WorkerResources}. A worker's new declaration replaces its old one; tasks in no-worker then
 * get another placement, since one may now fit. Placement reads {@link WorkerState#resources}; the
 * core wakes tasks waiting for resources when a running task frees some.
 */
final class WorkerResourcesExtension implements SchedulerExtension {
    private SchedulerContext core;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> workerMessages() {
        return Set.of(WorkerResources.class);
    }

    @Override
    public void onWorker(WorkerState ws, Message message, long requestId) {
        Map<String, Double> resources = ((WorkerResources) message).resources();
        if (resources == null) {
            throw new IllegalArgumentException("WorkerResources.resources is null: send an empty collection instead");
        }
        LinkedHashMap<String, Double> r = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : resources.entrySet()) {
            if (e.getKey() == null || e.getValue() == null || !(e.getValue() >= 0) || e.getValue().isInfinite()) {
                throw new IllegalArgumentException("resource " + e.getKey() + "=" + e.getValue() + " of worker "
                        + ws.address + " is not a name with a finite amount of 0 or more, e.g. GPU=2");
            }
            r.put(e.getKey(), e.getValue());
        }
        ws.resources = r.isEmpty() ? null : Collections.unmodifiableMap(r);
        core.retryNoWorker();
    }
}
