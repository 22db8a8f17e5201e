package dist.worker;

import dist.protocol.Message;

import java.util.List;
import java.util.Map;

/**
 * Something that happened to a worker, fed to {@link WorkerMachine#handle}. The I/O shell turns
 * scheduler messages, finished executions, finished transfers and timer ticks into these.
 *
 * <p>Contract for the shell: every {@link WorkerInstruction.Fetch} is answered by exactly one
 * {@link FetchDone} or {@link FetchFailed} for the same peer, and every
 * {@link WorkerInstruction.Execute} by exactly one {@link ExecuteDone} or {@link ExecuteFailed}.
 */
public sealed interface WorkerEvent {

    /** The scheduler asks this worker to compute a task. */
    record Compute(Message.ComputeTask task) implements WorkerEvent {}

    /** The scheduler asks this worker to drop these keys (data or queued tasks). */
    record Free(List<String> keys) implements WorkerEvent {}

    /**
     * A fetch from {@code peer} finished: the data for the keys of {@code nbytes} is now in the
     * shell's store; {@code missing} are the requested keys the peer did not have.
     */
    record FetchDone(String peer, Map<String, Long> nbytes, List<String> missing) implements WorkerEvent {}

    /** A fetch from {@code peer} failed as a whole (the peer could not be reached). */
    record FetchFailed(String peer, List<String> keys, String reason) implements WorkerEvent {}

    /** A task ran; its result is in the shell's store. {@code inlineValue} may be null; {@code thread} the slot that ran it. */
    record ExecuteDone(String key, long nbytes, String typeName, long startNanos, long stopNanos,
                       byte[] inlineValue, int thread) implements WorkerEvent {
        /** Run in slot 0. */
        public ExecuteDone(String key, long nbytes, String typeName, long startNanos, long stopNanos,
                           byte[] inlineValue) {
            this(key, nbytes, typeName, startNanos, stopNanos, inlineValue, 0);
        }
    }

    /** A task threw; {@code exception} is the serialized exception; {@code thread} the slot that ran it. */
    record ExecuteFailed(String key, byte[] exception, String summary, long startNanos, long stopNanos, int thread)
            implements WorkerEvent {
        /** Run in slot 0. */
        public ExecuteFailed(String key, byte[] exception, String summary, long startNanos, long stopNanos) {
            this(key, exception, summary, startNanos, stopNanos, 0);
        }
    }

    /** Data was put into the shell's store directly (scatter, replicate). */
    record DataAdded(Map<String, Long> nbytes) implements WorkerEvent {}

    /**
     * The scheduler asks for task {@code key} back (work stealing). A task not yet executing here is
     * dropped and answered {@code StealResponse(key, true)}; otherwise {@code StealResponse(key, false)}.
     */
    record Steal(String key) implements WorkerEvent {}

    /**
     * An executing task gave up its thread slot while it waits on other tasks (it keeps running and
     * is reported as usual when it ends); another ready task may start in its place.
     */
    record Seceded(String key) implements WorkerEvent {}

    /** A seceded task takes a slot again; the worker may run above its thread count until one ends. */
    record Rejoined(String key) implements WorkerEvent {}

    /**
     * The shell's memory crossed the pause fraction of its limit ({@code paused} true) or fell back
     * below it: while paused no task starts; tasks already executing carry on.
     */
    record Paused(boolean paused) implements WorkerEvent {}

    /**
     * The scheduler is retiring this worker ({@code closing} true) or gave up retiring it: while
     * closing no task starts, so the retirement waits only for the tasks already executing; the
     * queued ones go elsewhere when it closes, never having run.
     */
    record Closing(boolean closing) implements WorkerEvent {}

    /**
     * The worker registers again on a new scheduler link: the scheduler forgot what it had sent
     * here. Queued tasks, failed ones and the inputs being gathered for them are dropped; of the
     * executing tasks only those in {@code running} (executions the shell still has, queued for a
     * thread or on one) are kept, and report on the new link; the others are reset, so the
     * scheduler's next {@code ComputeTask} for them runs them. Data held here stays.
     */
    record Relinked(java.util.Set<String> running) implements WorkerEvent {}

    /** Periodic timer; a heartbeat goes out when one is due. */
    record Tick() implements WorkerEvent {}
}
