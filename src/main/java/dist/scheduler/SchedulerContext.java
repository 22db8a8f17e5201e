package dist.scheduler;

import dist.protocol.Message;

import java.util.List;

/**
 * What the scheduler's core offers its {@link SchedulerExtension}s: the time of the event being
 * handled, sending, the tasks and workers, and the recommendation loop. Narrow on purpose: an
 * extension changes task states only by recommending or through the few named operations here
 * (move a processing task, adopt a held result, remove a worker), and each of those goes through
 * the core's transition table.
 */
interface SchedulerContext {

    /** The time of the event being handled, in nanoseconds; a value, never a clock reading. */
    long now();

    SchedulerConfig config();

    /** Queues a one-way message to a worker address or a client id. */
    void send(String to, Message message);

    /** Queues the answer to request {@code requestId} of {@code to}. */
    void reply(String to, Message message, long requestId);

    /** The task with this key, or null. */
    TaskState task(String key);

    /** The registered worker at this address, or null. */
    WorkerState worker(String address);

    /** The registered workers in registration order (a read-only view). */
    List<WorkerState> workers();

    /** Every task the scheduler knows; read it, do not change states while walking it. */
    Iterable<TaskState> tasks();

    /** The results held by two workers or more, without a walk of every task (read it, do not change it while walking). */
    java.util.Collection<TaskState> replicatedTasks();

    /** The task groups by key prefix, with their counts per state. */
    java.util.Collection<TaskPrefix> prefixes();

    /** Number of state changes applied so far. */
    long transitionCount();

    /**
     * Moves a processing task that its worker has already dropped to {@code to}: it stays processing
     * and is sent there; if {@code to} left or lacks the task's resources, it is placed afresh.
     */
    void moveProcessing(TaskState task, WorkerState to);

    /**
     * {@code worker} holds the result of {@code task}, reported before the task existed: a released
     * task enters memory there, one in memory gains a holder; in any other state nothing changes.
     */
    void adoptResult(TaskState task, WorkerState worker, long nbytes);

    /** Tells {@code worker} to drop {@code key}, which the scheduler does not keep (sent batched, after the event). */
    void free(WorkerState worker, String key);

    /** Removes a registered worker now: its work is placed again, what only it held is recomputed. */
    void removeWorker(WorkerState worker, String reason);

    /**
     * Closes a registered worker on purpose (retirement): it is told to close and removed now; its
     * running tasks are placed again without counting as suspicious.
     */
    void retireWorker(WorkerState worker, String reason);

    /**
     * Marks {@code worker} closing gracefully (no new task, copy or stolen task goes there; its data
     * stays readable), or not any more: it is then running or paused, as it last reported. A worker
     * that runs again gets queued and no-worker tasks. Needed by retirement, which must stop a
     * worker from filling up while it is emptied.
     */
    void setClosing(WorkerState worker, boolean closing);

    /** Asks the core to move {@code task} to {@code state}; applied after the handler returns. */
    void recommend(TaskState task, byte state);

    /**
     * Moves an erred {@code task} back to released now, its recipe kept, even while it is wanted (a
     * recommendation would keep a wanted task as it is): a client retries it.
     */
    void unerr(TaskState task);

    /**
     * Forgets every task and tells every worker to drop its keys, as a cluster restart asked by
     * {@code clientId} does; extensions then hear {@link SchedulerExtension#clusterRestarted}.
     * Clients are not told: the caller cancels their keys first.
     */
    void forgetEverything(String clientId, String reason);

    /** Every task in no-worker gets another placement attempt (after a worker's resources changed). */
    void retryNoWorker();

    /** The client with this id, registered now if it is new. */
    ClientState client(String id);

    /** {@code holder} wants {@code task} kept, as a client holding a future does. */
    void hold(ClientState holder, TaskState task);

    /** {@code holder} no longer wants {@code task}: if nobody else needs it, it is let go. */
    void unhold(ClientState holder, TaskState task);

    /** {@code holder} wants nothing any more: what only it kept may be released. */
    void release(ClientState holder);

    /** Logs a line when the scheduler logs events (a server does; a bare state machine in tests does not). */
    void log(System.Logger.Level level, String line);

    /** An extension's {@link SchedulerExtension#observesTransitions()} answer changed: the core asks again. */
    void transitionsWanted();

    /** Tasks in no-worker (none of the workers may run them), oldest first; read only. */
    java.util.Collection<TaskState> noWorkerTasks();

    /** How many runnable tasks wait in the queue for a worker with room. */
    int queuedCount();

    /**
     * Fails {@code task} now with a scheduler-side error ({@code summary} starts with the error's
     * name, as "NoValidWorkerError: ..."), and with it every dependent still waiting for it.
     */
    void fail(TaskState task, String summary);

    /**
     * Runs {@code task} again: its result or running attempt is dropped and, while it is needed, it
     * waits to run anew (a shuffle whose data a lost worker held); waiting, released and erred tasks
     * stay as they are.
     */
    void rerun(TaskState task);

    /**
     * Restricts {@code task} to {@code workers} (addresses), as a {@code workers=} option does, from
     * its next placement on: a p2p shuffle runs each output where its shards were sent.
     */
    void restrict(TaskState task, List<String> workers);

    /** Asks the shell to shut the cluster down (workers, then the scheduler) after this event; {@code reason} is logged. */
    void shutdown(String reason);
}
