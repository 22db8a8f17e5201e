package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.CancelKeys;
import dist.protocol.Message.KeyCancelled;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A client's {@link CancelKeys}. A key other clients still want loses only this client's interest
 * (unless forced); otherwise the task and everything depending on it are forgotten, and every
 * client that wanted one of them hears {@link KeyCancelled} with the key it was cancelled through.
 */
final class Cancellation implements SchedulerExtension {
    private SchedulerContext core;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(CancelKeys.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        CancelKeys m = (CancelKeys) message;
        if (m.keys() == null) {
            throw new IllegalArgumentException("CancelKeys.keys is null: send an empty collection instead");
        }
        cancel(core.client(clientId), m.keys(), m.force());
    }

    private void cancel(ClientState c, List<String> keys, boolean force) {
        // every cancelled task with the key it was cancelled through
        LinkedHashMap<TaskState, String> closure = new LinkedHashMap<>();
        for (String key : keys) {
            TaskState ts = key == null ? null : core.task(key);
            if (ts == null || closure.containsKey(ts)) {
                continue;
            }
            if (!force && wantedByOthers(ts, c)) {
                // other clients still want it: cancel only this client's interest
                core.unhold(c, ts);
                core.send(c.id, new KeyCancelled(ts.key, "cancelled by client " + c.id));
                continue;
            }
            ArrayDeque<TaskState> todo = new ArrayDeque<>();
            todo.add(ts);
            closure.put(ts, ts.key);
            while (!todo.isEmpty()) {
                TaskState t = todo.poll();
                if (t.dependents != null) {
                    for (TaskState dt : t.dependents) {
                        if (closure.putIfAbsent(dt, ts.key) == null) {
                            todo.add(dt);
                        }
                    }
                }
            }
        }
        for (Map.Entry<TaskState, String> e : closure.entrySet()) {
            TaskState t = e.getKey();
            String reason = t.key.equals(e.getValue()) ? "cancelled by client " + c.id
                    : "cancelled: it depends on " + e.getValue() + ", cancelled by client " + c.id;
            if (t.wantedBy != null) {
                for (ClientState w : t.wantedBy) {
                    w.wants.remove(t);
                    if (!w.silent) {
                        core.send(w.id, new KeyCancelled(t.key, reason));
                    }
                }
                t.wantedBy = null;
            }
        }
        ArrayList<TaskState> order = new ArrayList<>(closure.keySet());
        Collections.reverse(order); // dependents first, so their inputs are free to go
        for (TaskState t : order) {
            core.recommend(t, TaskState.FORGOTTEN);
        }
    }

    private static boolean wantedByOthers(TaskState ts, ClientState c) {
        if (ts.wantedBy != null) {
            for (ClientState w : ts.wantedBy) {
                // fire-and-forget keeps a task running for nobody's result: a cancel ends it (dask's force)
                if (w != c && !w.id.equals(FireAndForget.HOLDER_ID)) {
                    return true;
                }
            }
        }
        return false;
    }
}
