package dist.scheduler;

import dist.protocol.Message;

import java.util.Set;

/**
 * A capability beside the scheduler's core (datasets, work stealing, queries, locks...), as dask's
 * scheduler extensions are. It owns its own state, answers the message types it names, and is told
 * of ticks, workers coming and going, clients leaving and, when it asks, every task transition. It
 * runs on the core's thread and reads time from {@link SchedulerContext#now()}, a value the event
 * carried: like the core, it never reads a clock, sleeps or does I/O.
 *
 * <p>Adding a capability is one file implementing this and one line in
 * {@link SchedulerState}'s list of extensions:
 *
 * <pre>{@code
 * final class EchoExtension implements SchedulerExtension {
 *     private SchedulerContext core;
 *     public void start(SchedulerContext core) { this.core = core; }
 *     public Set<Class<? extends Message>> clientMessages() { return Set.of(Message.Ping.class); }
 *     public void onClient(String clientId, Message m, long requestId) { core.reply(clientId, m, requestId); }
 * }
 * }</pre>
 *
 * <p>A handler that throws {@link IllegalArgumentException} refuses its input: the sender gets an
 * error naming why; it must check before it changes anything, so a refused message changes nothing.
 */
interface SchedulerExtension {

    /** Called once, when registered; keep {@code core} to act on the scheduler later. */
    void start(SchedulerContext core);

    /** A short name for logs and errors. */
    default String name() {
        return getClass().getSimpleName();
    }

    /** The message types from clients that this extension answers; no two extensions share one. */
    default Set<Class<? extends Message>> clientMessages() {
        return Set.of();
    }

    /** The message types from registered workers that this extension answers. */
    default Set<Class<? extends Message>> workerMessages() {
        return Set.of();
    }

    /** A message of a type in {@link #clientMessages()}; {@code requestId} 0 means no reply is awaited. */
    default void onClient(String clientId, Message message, long requestId) {
        throw new IllegalStateException(name() + " names client messages but does not handle them");
    }

    /** A message of a type in {@link #workerMessages()} from a registered worker. */
    default void onWorker(WorkerState worker, Message message, long requestId) {
        throw new IllegalStateException(name() + " names worker messages but does not handle them");
    }

    /**
     * Whether {@link #transition} is wanted: most extensions do not, and they cost nothing per
     * transition. Asked at registration, and again when the extension calls
     * {@link SchedulerContext#transitionsWanted()}.
     */
    default boolean observesTransitions() {
        return false;
    }

    /** A task moved from state {@code from} to {@code to} (the {@link TaskState} byte constants). */
    default void transition(TaskState task, byte from, byte to) {
    }

    /** The periodic tick, after the core's own checks. */
    default void tick() {
    }

    /** A worker registered (or re-registered) and is ready for work. */
    default void workerAdded(WorkerState worker) {
    }

    /** A worker left; called before its tasks are re-placed, while its state is still readable. */
    default void workerRemoved(WorkerState worker) {
    }

    /** A client's connection ended; its wants are already released. */
    default void clientGone(String clientId) {
    }

    /**
     * A worker asks to register at {@code address}: a reason to refuse it (sent back as an error,
     * nothing changes), or null to let it join.
     */
    default String refusesWorker(String address, Message.RegisterWorker registration) {
        return null;
    }

    /**
     * A registered worker's connection ended. Return true to keep it registered for now (to learn
     * more, as a nanny's report of how it died) and remove it later through
     * {@link SchedulerContext#removeWorker}; false lets the core remove it at once.
     */
    default boolean holdsRemoval(WorkerState worker, String reason) {
        return false;
    }

    /**
     * A worker holds {@code key}, which no task names. Return true to keep it for now (and later
     * adopt it with {@link SchedulerContext#adoptResult} or drop it with {@link SchedulerContext#free});
     * false lets the core tell the worker to drop it.
     */
    default boolean keepsUnknownKey(WorkerState worker, String key, long nbytes) {
        return false;
    }

    /** A processing task is about to leave its worker (done, failed, released, moved, lost); its fields still name it. */
    default void leavingWorker(TaskState task) {
    }

    /** A worker reported a computation of {@code key}: how long it ran, its size, whether it failed. */
    default void computed(WorkerState worker, String key, long runNanos, long nbytes, boolean erred) {
    }

    /**
     * A worker reported a computation of {@code key} with its own clock's start and stop (both 0 when it
     * reports a result it held already) and the slot ({@code thread}) that ran it; by default passed on to
     * {@link #computed(WorkerState, String, long, long, boolean)}.
     */
    default void computed(WorkerState worker, String key, long startNanos, long stopNanos, int thread, long nbytes,
                          boolean erred) {
        computed(worker, key, Math.max(0, stopNanos - startNanos), nbytes, erred);
    }

    /**
     * As above, with the task the core found for {@code key} ({@code task}; null when it knows none), so an
     * extension that needs it looks nothing up; by default passed on without it.
     */
    default void computed(WorkerState worker, TaskState task, String key, long startNanos, long stopNanos, int thread,
                          long nbytes, boolean erred) {
        computed(worker, key, startNanos, stopNanos, thread, nbytes, erred);
    }

    /** A client's update was applied ({@code tasks}: its tasks as sent, in order). */
    default void graphUpdated(String clientId, java.util.List<dist.protocol.TaskSpec> tasks) {
    }

    /**
     * As above, with the tasks the update made ({@code created}, in order; a key known before is not among
     * them), so an extension that counts new tasks looks nothing up; by default passed on without them.
     */
    default void graphUpdated(String clientId, java.util.List<dist.protocol.TaskSpec> tasks,
                              java.util.List<TaskState> created) {
        graphUpdated(clientId, tasks);
    }

    /** Every task was forgotten and every worker's tasks dropped, asked by {@code clientId}. */
    default void clusterRestarted(String clientId, String reason) {
    }

    /** Checks this extension's invariants against the core's (for tests); throws naming the first broken one. */
    default void validate() {
    }
}
