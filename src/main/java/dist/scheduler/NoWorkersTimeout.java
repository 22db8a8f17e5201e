package dist.scheduler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * dask's {@code distributed.scheduler.no-workers-timeout}: a task that no worker can take fails once
 * it has waited that long, rather than wait for ever. A task in no-worker (its restrictions or
 * resources match no worker) fails with a NoValidWorkerError; while no worker at all is connected,
 * queued tasks fail with a NoWorkerError after the same time. Processing tasks are never touched.
 * Checked on ticks; each task's wait is counted from the first tick that saw it waiting.
 */
final class NoWorkersTimeout implements SchedulerExtension {
    private SchedulerContext core;
    /** No-worker tasks by the time they were first seen there. */
    private IdentityHashMap<TaskState, Long> since = new IdentityHashMap<>();
    /** Since when no worker is connected; -1 while some are. */
    private long noWorkersSince = -1;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public void tick() {
        Duration timeout = core.config().noWorkersTimeout();
        if (timeout == null) {
            return;
        }
        long now = core.now();
        long limit = timeout.toNanos();
        boolean none = core.workers().isEmpty();
        if (!none) {
            noWorkersSince = -1;
        } else if (noWorkersSince < 0) {
            noWorkersSince = now;
        }
        IdentityHashMap<TaskState, Long> next = new IdentityHashMap<>();
        List<TaskState> expired = new ArrayList<>();
        for (TaskState ts : core.noWorkerTasks()) {
            Long first = since.get(ts);
            long t = first == null ? now : first;
            if (now - t > limit) {
                expired.add(ts);
            } else {
                next.put(ts, t);
            }
        }
        since = next;
        List<TaskState> queued = new ArrayList<>();
        if (none && now - noWorkersSince > limit && core.queuedCount() > 0) {
            for (TaskState ts : core.tasks()) {
                if (ts.state == TaskState.QUEUED) {
                    queued.add(ts);
                }
            }
        }
        if (expired.isEmpty() && queued.isEmpty()) {
            return;
        }
        List<String> keys = new ArrayList<>();
        for (TaskState ts : expired) {
            if (ts.state == TaskState.NO_WORKER) {
                keys.add(ts.key);
                core.fail(ts, none ? noWorker(ts, timeout) : noValidWorker(ts, timeout));
            }
        }
        for (TaskState ts : queued) {
            if (ts.state == TaskState.QUEUED) {
                keys.add(ts.key);
                core.fail(ts, noWorker(ts, timeout));
            }
        }
        core.log(System.Logger.Level.WARNING, "no-workers-timeout-exceeded: keys " + keys);
    }

    private static String noWorker(TaskState ts, Duration timeout) {
        return "NoWorkerError: Attempted to run task " + ts.key + " but timed out after " + timeout.toMillis()
                + " ms waiting for any worker to connect.";
    }

    private static String noValidWorker(TaskState ts, Duration timeout) {
        StringBuilder r = new StringBuilder();
        if (ts.restricted()) {
            r.append("workers=").append(ts.options.workers());
        }
        if (!ts.resources().isEmpty()) {
            r.append(r.isEmpty() ? "" : ", ").append("resources=").append(ts.resources());
        }
        return "NoValidWorkerError: Attempted to run task " + ts.key + " but timed out after " + timeout.toMillis()
                + " ms waiting for a valid worker matching all restrictions ("
                + (r.isEmpty() ? "none" : r) + ").";
    }
}
