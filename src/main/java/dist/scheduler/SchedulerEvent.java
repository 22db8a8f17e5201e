package dist.scheduler;

import dist.protocol.Message;

/**
 * What the I/O shell feeds into {@link SchedulerState#handle}. A {@link Message.Batch} inside
 * {@link FromClient} or {@link FromWorker} is unwrapped and its parts handled in order.
 *
 * <pre>{@code
 * state.handle(new SchedulerEvent.FromWorker("10.0.0.5:9000", heartbeat, 0), System.nanoTime());
 * }</pre>
 */
public sealed interface SchedulerEvent {

    /** A message from a client; {@code requestId} 0 means one-way, otherwise the reply carries it. */
    record FromClient(String clientId, Message message, long requestId) implements SchedulerEvent {}

    /** A message from a worker, named by its contact address; {@code RegisterWorker} comes first. */
    record FromWorker(String worker, Message message, long requestId) implements SchedulerEvent {}

    /** A client's connection ended: everything it wanted is released. */
    record ClientGone(String clientId) implements SchedulerEvent {}

    /** A worker's connection ended (or it was closed): its work is re-placed, its data recomputed. */
    record WorkerGone(String worker, String reason) implements SchedulerEvent {}

    /**
     * Periodic: removes workers that stayed silent longer than the configured timeout, and lets the
     * extensions act on time (work stealing, deadlines for a nanny's report, the grace for unknown keys).
     */
    record Tick() implements SchedulerEvent {}
}
