package dist.scheduler;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;

/**
 * The futures a shared object keeps alive (a queue's items, a variable's value), counted per key so
 * two items naming one key keep it until both are gone. A silent holder of its own does the
 * keeping, as a published dataset's does.
 */
final class SharedHolds {
    private final ClientState holder;
    private final HashMap<TaskState, Integer> counts = new HashMap<>();

    SharedHolds(String holderId) {
        this.holder = new ClientState(holderId, true);
    }

    /** The tasks of {@code keys}; refuses (changing nothing) a key the scheduler does not know. */
    static List<TaskState> resolve(SchedulerContext core, String what, List<String> keys) {
        if (keys == null || keys.isEmpty()) {
            return List.of();
        }
        ArrayList<TaskState> out = new ArrayList<>(keys.size());
        for (String k : keys) {
            TaskState ts = k == null ? null : core.task(k);
            if (ts == null) {
                throw new IllegalArgumentException(what + " holds a future of key " + k
                        + ", which the scheduler does not know; pass futures this cluster still holds");
            }
            out.add(ts);
        }
        return out;
    }

    /**
     * Hands {@code value} to {@code clientId}: it holds {@code tasks} from now on, and the value goes
     * with the state of those finished, so the reader's futures know it at once (dask's
     * test_Future_knows_status_immediately).
     */
    static dist.protocol.Message.SharedValue handOver(SchedulerContext core, String clientId,
                                                     dist.protocol.Message.SharedValue value, List<TaskState> tasks) {
        handTo(core, clientId, tasks);
        List<dist.protocol.Message> known = new ArrayList<>();
        for (TaskState ts : tasks) {
            // one still to come is reported when it finishes, as the reader now holds it
            if (ts.state == TaskState.MEMORY) {
                known.add(new dist.protocol.Message.KeyInMemory(ts.key, ts.holderAddresses(), ts.nbytes, null));
            } else if (ts.state == TaskState.ERRED) {
                known.add(TaskLifecycle.keyErred(ts));
            }
        }
        return known.isEmpty() ? value : new dist.protocol.Message.SharedValue(value.value(), value.keys(), known);
    }

    /** {@code clientId} now holds {@code tasks} itself, as if it had asked for them: the value it was handed keeps them. */
    static void handTo(SchedulerContext core, String clientId, List<TaskState> tasks) {
        if (tasks.isEmpty()) {
            return;
        }
        ClientState c = core.client(clientId);
        for (TaskState ts : tasks) {
            core.hold(c, ts);
        }
    }

    void hold(SchedulerContext core, List<TaskState> tasks) {
        for (TaskState ts : tasks) {
            if (counts.merge(ts, 1, Integer::sum) == 1) {
                core.hold(holder, ts);
            }
        }
    }

    void unhold(SchedulerContext core, List<TaskState> tasks) {
        for (TaskState ts : tasks) {
            Integer n = counts.get(ts);
            if (n == null) {
                continue;
            }
            if (n == 1) {
                counts.remove(ts);
                core.unhold(holder, ts);
            } else {
                counts.put(ts, n - 1);
            }
        }
    }

    void releaseAll(SchedulerContext core) {
        if (!counts.isEmpty()) {
            counts.clear();
            core.release(holder);
        }
    }

    /** The cluster forgot every task: nothing is held any more, and nothing is left to release. */
    void forget() {
        counts.clear();
        holder.wants.clear();
    }

    /** Distinct keys held. */
    int size() {
        return counts.size();
    }
}
