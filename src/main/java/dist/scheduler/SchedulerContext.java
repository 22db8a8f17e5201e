package dist.scheduler;

import dist.protocol.Message;

import java.util.List;

/**
 * What the scheduler's core offers its {@link SchedulerExtension}s: the time of the event being
 * handled, sending, the tasks and workers, and the recommendation loop. Narrow on purpose: an
 * extension changes task states only by recommending, so every edge goes through the core's table.
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

    /** Asks the core to move {@code task} to {@code state}; applied after the handler returns. */
    void recommend(TaskState task, byte state);

    /** {@code holder} wants {@code task} kept, as a client holding a future does. */
    void hold(ClientState holder, TaskState task);

    /** {@code holder} wants nothing any more: what only it kept may be released. */
    void release(ClientState holder);

    /** Logs a line when the scheduler logs events (a server does; a bare state machine in tests does not). */
    void log(System.Logger.Level level, String line);
}
