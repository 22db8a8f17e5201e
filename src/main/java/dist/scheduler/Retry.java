package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.RetryKeys;

import java.util.ArrayDeque;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A client's {@link RetryKeys}: each erred key, with the erred tasks it depends on, goes back to
 * released, keeping its recipe; the client's want that follows puts it to waiting, and it runs
 * again. Keys not erred are left as they are.
 */
final class Retry implements SchedulerExtension {
    private SchedulerContext core;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(RetryKeys.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        RetryKeys m = (RetryKeys) message;
        if (m.keys() == null) {
            throw new IllegalArgumentException("RetryKeys.keys is null: send an empty collection instead");
        }
        Set<TaskState> erred = new LinkedHashSet<>();
        ArrayDeque<TaskState> todo = new ArrayDeque<>();
        for (String key : m.keys()) {
            TaskState ts = key == null ? null : core.task(key);
            if (ts != null && ts.state == TaskState.ERRED && erred.add(ts)) {
                todo.add(ts);
            }
        }
        // a task erred by an input's failure fails again unless that input runs again too
        while (!todo.isEmpty()) {
            for (TaskState d : todo.poll().deps) {
                if (d.state == TaskState.ERRED && erred.add(d)) {
                    todo.add(d);
                }
            }
        }
        for (TaskState ts : erred) {
            core.unerr(ts);
        }
    }
}
