package dist.scheduler;

import java.util.ArrayList;
import java.util.List;

/**
 * What happened, for people: every task's recent state changes (stories), the computations workers
 * reported (the task stream), and, while asked, a list of every state change. It observes and never
 * acts; recording one change is a few array stores.
 */
final class HistoryExtension implements SchedulerExtension {
    private final TransitionLog log = new TransitionLog(100_000);
    private final TaskStream stream = new TaskStream(20_000);
    /** Non-null while someone wants every state change (see {@link #recordTransitions}). */
    private ArrayList<SchedulerView.Transition> recorded;
    private SchedulerContext core;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public boolean observesTransitions() {
        return true;
    }

    @Override
    public void transition(TaskState ts, byte from, byte to) {
        log.add(ts.key, from, to, core.now(), to == TaskState.MEMORY && ts.whoHas != null
                ? ts.whoHas[ts.whoHas.length - 1].address : ts.processingOn != null ? ts.processingOn.address : null);
        if (recorded != null) {
            recorded.add(new SchedulerView.Transition(ts.key, TaskState.name(from), TaskState.name(to)));
        }
    }

    @Override
    public void computed(WorkerState worker, String key, long startNanos, long stopNanos, int thread, long nbytes,
                         boolean erred) {
        long now = core.now();
        if (startNanos == 0 && stopNanos == 0) { // a result it held already: no run
            stream.add(key, worker.address, now, now, nbytes, erred, thread);
            return;
        }
        // the worker's clock differs from ours: a report arrives after its stop, so now - stop bounds the
        // offset from above, and the least such bound seen (offset plus the quickest delivery) places the
        // worker's runs on our clock without the delays of later reports
        long bound = now - stopNanos;
        if (bound < worker.clockOffset) {
            worker.clockOffset = bound;
        }
        long offset = worker.clockOffset;
        stream.add(key, worker.address, startNanos + offset, stopNanos + offset, nbytes, erred, thread);
    }

    /** The recent state changes of {@code key}, oldest first. */
    List<StoryEntry> story(String key) {
        return log.story(key);
    }

    /** A dashboard's snapshot (see {@link SchedulerView#cluster}). */
    ClusterView view(long streamSince, int streamMax) {
        return ClusterView.of(core.transitionCount(), core.workers(), core.prefixes(), stream, core.now(),
                streamSince, streamMax);
    }

    List<ClusterView.Computation> stream(long since, int max) {
        return stream.since(since, max);
    }

    long streamNext() {
        return stream.next();
    }

    void recordTransitions(boolean on) {
        recorded = on ? (recorded == null ? new ArrayList<>() : recorded) : null;
    }

    List<SchedulerView.Transition> drainTransitions() {
        if (recorded == null || recorded.isEmpty()) {
            return List.of();
        }
        List<SchedulerView.Transition> l = List.copyOf(recorded);
        recorded.clear();
        return l;
    }
}
