package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.TaskOptions;

import java.util.Collection;
import java.util.Collections;
import java.util.List;

import static dist.scheduler.TaskState.*;

/**
 * The core as its extensions see it: each call reads the core's bookkeeping or goes through one of
 * its named operations, so an extension never reaches a transition except through the table.
 */
final class CoreContext implements SchedulerContext {
    private final SchedulerState core;

    CoreContext(SchedulerState core) {
        this.core = core;
    }

    @Override
    public long now() {
        return core.now;
    }

    @Override
    public SchedulerConfig config() {
        return core.config;
    }

    @Override
    public void send(String to, Message message) {
        core.out.add(Outgoing.send(to, message));
    }

    @Override
    public void reply(String to, Message message, long requestId) {
        core.out.add(new Outgoing(to, message, requestId));
    }

    @Override
    public TaskState task(String key) {
        return core.tasks.get(key);
    }

    @Override
    public WorkerState worker(String address) {
        return core.workers.get(address);
    }

    @Override
    public List<WorkerState> workers() {
        return Collections.unmodifiableList(core.workerList);
    }

    @Override
    public Iterable<TaskState> tasks() {
        return core.tasks;
    }

    @Override
    public Collection<TaskState> replicatedTasks() {
        return Collections.unmodifiableSet(core.replicated);
    }

    @Override
    public Collection<TaskPrefix> prefixes() {
        return Collections.unmodifiableCollection(core.prefixes.values());
    }

    @Override
    public long transitionCount() {
        return core.transitions;
    }

    @Override
    public void moveProcessing(TaskState task, WorkerState to) {
        if (task.state != PROCESSING) {
            throw new IllegalStateException("only a processing task moves between workers, not " + task);
        }
        core.moveProcessing(task, to);
    }

    @Override
    public void adoptResult(TaskState task, WorkerState worker, long nbytes) {
        core.adoptResult(task, worker, nbytes);
    }

    @Override
    public void free(WorkerState worker, String key) {
        core.queueFree(worker, key);
    }

    @Override
    public void removeWorker(WorkerState worker, String reason) {
        if (core.workers.get(worker.address) == worker) {
            core.removeRegistered(worker, reason);
        }
    }

    @Override
    public void unerr(TaskState task) {
        if (task.state != ERRED) {
            throw new IllegalArgumentException("only an erred task goes back to released; " + task.key + " is "
                    + name(task.state));
        }
        core.transition(task, RELEASED, null);
    }

    @Override
    public void setClosing(WorkerState worker, boolean closing) {
        if (core.workers.get(worker.address) == worker) {
            boolean was = worker.status == WorkerState.CLOSING_GRACEFULLY;
            core.setStatus(worker, closing ? WorkerState.CLOSING_GRACEFULLY
                    : worker.reportedPaused ? WorkerState.PAUSED : WorkerState.RUNNING);
            if (was != closing) { // the worker starts nothing new while retiring, so only what runs is waited for
                send(worker.address, new dist.protocol.Message.WorkerStatusChange(closing ? "closing_gracefully" : "running"));
            }
        }
    }

    @Override
    public void rerun(TaskState task) {
        if (task.state == MEMORY || task.state == PROCESSING || task.state == QUEUED || task.state == NO_WORKER) {
            core.transition(task, RELEASED, null);
            if (task.state == RELEASED && task.needed()) {
                core.recommend(task, WAITING);
            }
        }
    }

    @Override
    public void restrict(TaskState task, List<String> workers) {
        TaskOptions o = task.options == null ? TaskOptions.DEFAULT : task.options;
        task.options = new TaskOptions(List.copyOf(workers), false, o.resources(), o.retries());
    }

    @Override
    public void retireWorker(WorkerState worker, String reason) {
        if (core.workers.get(worker.address) == worker) {
            core.retireRegistered(worker, reason);
        }
    }

    @Override
    public void recommend(TaskState task, byte state) {
        if (state == MEMORY || state == ERRED) {
            throw new IllegalArgumentException("a task enters " + name(state) + " when a worker reports it, "
                    + "not by recommendation");
        }
        core.recommend(task, state);
    }

    @Override
    public void forgetEverything(String clientId, String reason) {
        core.forgetEverything(clientId, reason);
    }

    @Override
    public void retryNoWorker() {
        core.retryNoWorker();
    }

    @Override
    public ClientState client(String id) {
        return core.client(id);
    }

    @Override
    public void unhold(ClientState holder, TaskState task) {
        core.unhold(holder, task);
    }

    @Override
    public void hold(ClientState holder, TaskState task) {
        if (holder.wants.add(task)) {
            task.addWanter(holder);
        }
    }

    @Override
    public void release(ClientState holder) {
        core.releaseHolder(holder);
    }

    @Override
    public void log(System.Logger.Level level, String line) {
        core.log(level, line);
    }

    @Override
    public void transitionsWanted() {
        core.extensions.refreshWatchers();
    }

    @Override
    public Collection<TaskState> noWorkerTasks() {
        return Collections.unmodifiableCollection(core.noWorker);
    }

    @Override
    public int queuedCount() {
        return core.placement.queuedCount();
    }

    @Override
    public void fail(TaskState task, String summary) {
        core.fail(task, new TaskLifecycle.Failure(null, summary, task.key));
    }

    @Override
    public void shutdown(String reason) {
        core.askShutdown(reason);
    }
}
