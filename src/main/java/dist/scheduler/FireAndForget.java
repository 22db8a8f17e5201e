package dist.scheduler;

import dist.protocol.Message;

import java.util.Set;

/**
 * dask's fire_and_forget: a client asks the scheduler to keep tasks until they finish or fail, even
 * after the client releases them or leaves. A silent holder wants them; it lets each go as soon as
 * it reaches memory or erred, so the scheduler then forgets it unless someone else holds it.
 */
final class FireAndForget implements SchedulerExtension {
    /** Never a real client's id (those start with "client-"), never sent anything. */
    static final String HOLDER_ID = "fire-and-forget";

    private SchedulerContext core;
    private ClientState holder = new ClientState(HOLDER_ID, true);

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(Message.FireAndForget.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        Message.FireAndForget f = (Message.FireAndForget) message;
        if (f.keys() == null) {
            throw new IllegalArgumentException("FireAndForget.keys is null: send an empty collection instead");
        }
        boolean wasWatching = observesTransitions();
        for (String k : f.keys()) {
            TaskState ts = k == null ? null : core.task(k);
            // a task already done has nothing left to run; an unknown key was released before this came
            if (ts != null && ts.state != TaskState.MEMORY && ts.state != TaskState.ERRED
                    && ts.state != TaskState.FORGOTTEN) {
                core.hold(holder, ts);
            }
        }
        if (wasWatching != observesTransitions()) {
            core.transitionsWanted();
        }
    }

    /** Only while some task is kept: other extensions' transitions cost nothing here. */
    @Override
    public boolean observesTransitions() {
        return holder.wants.size() > 0;
    }

    @Override
    public void transition(TaskState task, byte from, byte to) {
        if ((to == TaskState.MEMORY || to == TaskState.ERRED || to == TaskState.FORGOTTEN)
                && holder.wants.contains(task)) {
            core.unhold(holder, task);
            if (!observesTransitions()) {
                core.transitionsWanted();
            }
        }
    }

    @Override
    public void clusterRestarted(String clientId, String reason) {
        holder = new ClientState(HOLDER_ID, true); // the tasks it held are forgotten
        core.transitionsWanted();
    }
}
