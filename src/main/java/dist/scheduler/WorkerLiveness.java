package dist.scheduler;

import dist.protocol.Message.CloseWorker;

/**
 * The workers' time-to-live: a worker silent for longer than {@link SchedulerConfig#workerTimeout()}
 * (no heartbeat nor any other message) is told to close and removed. The core asks on each tick,
 * before its extensions' ticks, and settles each removal before looking for the next.
 */
final class WorkerLiveness {
    private final SchedulerContext core;

    WorkerLiveness(SchedulerContext core) {
        this.core = core;
    }

    /** Removes the first worker, in registration order, silent past the time-to-live; false when none is. */
    boolean expireOne() {
        long timeout = core.config().workerTimeout().toNanos();
        for (WorkerState ws : core.workers()) {
            long silent = core.now() - ws.lastSeen;
            if (silent > timeout) {
                String reason = "no heartbeat for " + silent / 1_000_000 + " ms (timeout "
                        + core.config().workerTimeout().toMillis() + " ms)";
                core.send(ws.address, new CloseWorker(reason));
                core.removeWorker(ws, reason);
                return true;
            }
        }
        return false;
    }
}
