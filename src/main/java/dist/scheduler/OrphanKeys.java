package dist.scheduler;

import dist.protocol.TaskSpec;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keys that returning workers hold but no task names yet: after a scheduler restart, workers come
 * back before the clients re-send their graphs. They are kept for a grace period
 * ({@link SchedulerConfig#unknownKeyGrace()}); a task created with such a key takes the result
 * where it is instead of computing it again, and past the grace the workers are told to drop them.
 */
final class OrphanKeys implements SchedulerExtension {

    /** When the key was first reported, and by whom with which size, in order of report. */
    private static final class Orphan {
        final long since;
        final LinkedHashMap<WorkerState, Long> holders = new LinkedHashMap<>();

        Orphan(long since) {
            this.since = since;
        }
    }

    /** In order of first report, so the oldest expire first. */
    private final LinkedHashMap<String, Orphan> orphans = new LinkedHashMap<>();
    private SchedulerContext core;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public boolean keepsUnknownKey(WorkerState worker, String key, long nbytes) {
        if (core.config().unknownKeyGrace().toNanos() <= 0) {
            return false;
        }
        orphans.computeIfAbsent(key, k -> new Orphan(core.now())).holders.put(worker, nbytes);
        return true;
    }

    @Override
    public void graphUpdated(String clientId, List<TaskSpec> tasks) {
        if (orphans.isEmpty()) {
            return;
        }
        for (TaskSpec s : tasks) {
            Orphan o = s == null || s.key() == null ? null : orphans.remove(s.key());
            TaskState ts = o == null ? null : core.task(s.key());
            if (ts == null) {
                continue;
            }
            for (Map.Entry<WorkerState, Long> e : o.holders.entrySet()) {
                if (core.worker(e.getKey().address) == e.getKey()) {
                    core.adoptResult(ts, e.getKey(), e.getValue());
                }
            }
        }
    }

    @Override
    public void tick() {
        long grace = core.config().unknownKeyGrace().toNanos();
        long now = core.now();
        for (Iterator<Map.Entry<String, Orphan>> it = orphans.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Orphan> e = it.next();
            if (now - e.getValue().since <= grace) {
                break; // in order of report: the rest are younger
            }
            for (WorkerState ws : e.getValue().holders.keySet()) {
                if (core.worker(ws.address) == ws) {
                    core.free(ws, e.getKey());
                }
            }
            it.remove();
        }
    }

    @Override
    public void workerRemoved(WorkerState worker) {
        if (!orphans.isEmpty()) {
            orphans.values().removeIf(o -> o.holders.remove(worker) != null && o.holders.isEmpty());
        }
    }

    @Override
    public void clusterRestarted(String clientId, String reason) {
        orphans.clear();
    }
}
