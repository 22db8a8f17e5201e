package dist.scheduler;

import java.time.Duration;

/**
 * dask's {@code distributed.scheduler.idle-timeout}: a scheduler that has had nothing to run (no
 * task processing, queued or in no-worker) and seen no transition for that long shuts the cluster
 * down, so a forgotten cluster stops by itself. Checked on ticks, as dask's {@code check_idle}: the
 * scheduler counts as idle from the second tick in a row that finds no change, so work that came and
 * went between two ticks (a graph update) still makes it busy. Tracked even without a timeout.
 */
final class IdleTimeout implements SchedulerExtension {
    private SchedulerContext core;
    private long seenTransitions = -1;
    private long idleSince = -1;
    private boolean asked;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    /** Since when the scheduler is idle (event time, ns), or -1. */
    long idleSince() {
        // between ticks, work that arrived since the last one already makes it busy
        if (idleSince >= 0 && (core.transitionCount() != seenTransitions || busy())) {
            return -1;
        }
        return idleSince;
    }

    @Override
    public void tick() {
        long t = core.transitionCount();
        if (t != seenTransitions) {
            seenTransitions = t;
            idleSince = -1;
            return;
        }
        if (busy()) {
            idleSince = -1;
            return;
        }
        if (idleSince < 0) {
            idleSince = core.now();
            return;
        }
        Duration timeout = core.config().idleTimeout();
        if (timeout != null && !asked && core.now() - idleSince > timeout.toNanos()) {
            asked = true;
            String reason = "idle-timeout-exceeded";
            core.log(System.Logger.Level.INFO, "Scheduler closing after being idle for " + timeout.toMillis()
                    + " ms (" + reason + ")");
            core.shutdown(reason);
        }
    }

    private boolean busy() {
        if (!core.noWorkerTasks().isEmpty() || core.queuedCount() > 0) {
            return true;
        }
        for (WorkerState ws : core.workers()) {
            if (ws.processing.size() > 0) {
                return true;
            }
        }
        return false;
    }
}
