package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.StealRequest;
import dist.protocol.Message.StealResponse;

import java.util.ArrayList;
import java.util.Set;

/**
 * Work stealing, as dask's {@code WorkStealing} extension: on each tick it asks saturated workers to
 * give tasks that have not started to less loaded ones ({@link WorkStealing} plans the moves), and
 * applies a worker's answer. While a request is out, the thief's occupancy already counts the task
 * ({@link TaskState#stealTo}, {@link WorkerState#stealingIn}); the reservation is undone when the
 * task leaves its worker any other way.
 */
final class WorkStealingExtension implements SchedulerExtension {
    /** Most steal requests sent per tick: bounds the work of one tick on a large backlog. */
    static final int MAX_STEALS_PER_TICK = 2_000;

    private SchedulerContext core;
    private boolean enabled = true;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    /** Turns stealing on or off; requests already out are still answered. */
    void enabled(boolean on) {
        enabled = on;
    }

    @Override
    public Set<Class<? extends Message>> workerMessages() {
        return Set.of(StealResponse.class);
    }

    @Override
    public void onWorker(WorkerState worker, Message message, long requestId) {
        StealResponse r = (StealResponse) message;
        respond(worker, r.key(), r.accepted());
    }

    @Override
    public void tick() {
        if (!enabled) {
            return;
        }
        for (WorkStealing.Move m : WorkStealing.plan(core.workers(), MAX_STEALS_PER_TICK)) {
            TaskState ts = m.task();
            long e = ts.expectedNanos;
            m.from().addOccupancy(-e);
            m.from().stealingOut++;
            m.to().addOccupancy(e);
            m.to().stealingIn.add(ts);
            ts.stealTo = m.to();
            core.send(m.from().address, new StealRequest(ts.key));
        }
    }

    @Override
    public void leavingWorker(TaskState task) {
        cancel(task);
    }

    @Override
    public void workerRemoved(WorkerState worker) {
        for (TaskState ts : new ArrayList<>(worker.stealingIn)) {
            cancel(ts);
        }
    }

    @Override
    public void clusterRestarted(String clientId, String reason) {
        for (WorkerState w : core.workers()) {
            for (TaskState ts : w.stealingIn) {
                ts.stealTo = null;
            }
            w.stealingIn.clear();
            w.stealingOut = 0;
        }
    }

    /** Forgets a steal request still out for {@code ts}: occupancy goes back to the worker that has the task. */
    private void cancel(TaskState ts) {
        WorkerState to = ts.stealTo;
        if (to == null) {
            return;
        }
        ts.stealTo = null;
        to.stealingIn.remove(ts);
        to.addOccupancy(-ts.expectedNanos);
        WorkerState from = ts.processingOn;
        if (from != null) {
            from.addOccupancy(ts.expectedNanos);
            from.stealingOut--;
        }
    }

    private void respond(WorkerState ws, String key, boolean accepted) {
        TaskState ts = key == null ? null : core.task(key);
        if (ts == null || ts.state != TaskState.PROCESSING || ts.processingOn != ws) {
            return; // finished, released or moved meanwhile: nothing was given back that matters
        }
        WorkerState to = ts.stealTo;
        cancel(ts);
        if (accepted) {
            core.moveProcessing(ts, to); // the worker dropped it already
        } // else it runs (or already ran) where it is
    }

    @Override
    public void validate() {
        for (WorkerState w : core.workers()) {
            int out = 0;
            for (TaskState ts : w.processing) {
                if (ts.stealTo != null) {
                    out++;
                    check(ts.stealTo.stealingIn.contains(ts), ts + ": steal target " + ts.stealTo + " does not know it");
                }
            }
            check(out == w.stealingOut, w + " counts " + w.stealingOut + " steals out, found " + out);
            for (TaskState ts : w.stealingIn) {
                check(ts.stealTo == w && ts.state == TaskState.PROCESSING, ts + ": in stealingIn of " + w
                        + " but not stolen to it");
            }
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what);
        }
    }
}
