package dist.scheduler;

import dist.protocol.Message.CloseWorker;
import dist.protocol.Message.RestartWorker;

import java.util.function.UnaryOperator;

/**
 * The workers' time-to-live: a worker silent for longer than {@link SchedulerConfig#workerTimeout()}
 * (no heartbeat nor any other message) is removed: told to close, or, when a nanny runs it, restarted
 * by its nanny (a worker that closes by itself ends its nanny too). The core asks on each tick,
 * before its extensions' ticks, and settles each removal before looking for the next.
 */
final class WorkerLiveness {
    private final SchedulerContext core;
    /** The nanny running a worker (by address), or null. */
    private final UnaryOperator<String> nannyOf;

    WorkerLiveness(SchedulerContext core, UnaryOperator<String> nannyOf) {
        this.core = core;
        this.nannyOf = nannyOf;
    }

    /** Removes the first worker, in registration order, silent past the time-to-live; false when none is. */
    boolean expireOne() {
        long timeout = core.config().workerTimeout().toNanos();
        for (WorkerState ws : core.workers()) {
            long silent = core.now() - ws.lastSeen;
            if (silent > timeout) {
                String reason = "no heartbeat for " + silent / 1_000_000 + " ms (timeout "
                        + core.config().workerTimeout().toMillis() + " ms)";
                String nanny = nannyOf.apply(ws.address);
                if (nanny == null) {
                    core.send(ws.address, new CloseWorker(reason));
                } else {
                    core.send(nanny, new RestartWorker(reason));
                }
                core.removeWorker(ws, reason);
                return true;
            }
        }
        return false;
    }
}
