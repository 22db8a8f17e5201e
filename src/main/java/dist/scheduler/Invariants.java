package dist.scheduler;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dist.scheduler.TaskState.*;

/** The scheduler core's invariants, checked by tests after every event (see {@link SchedulerState#validate()}). */
final class Invariants {
    private Invariants() {
    }

    /**
     * Checks every internal invariant (counters, back-references) and throws naming the first broken
     * one. For tests: it walks all tasks.
     */
    static void check(TaskTable tasks, Map<String, WorkerState> workers, List<WorkerState> workerList,
                      Set<TaskState> noWorker, java.util.function.Predicate<TaskState> queued,
                      Collection<ClientState> clients, Set<TaskState> replicated) {
        int copied = 0;
        for (TaskState ts : tasks) {
            check(ts.state != FORGOTTEN, ts, "forgotten task still known");
            boolean many = ts.whoHas != null && ts.whoHas.length > 1;
            check(many == replicated.contains(ts), ts, "held by " + (ts.whoHas == null ? 0 : ts.whoHas.length)
                    + " workers but " + (many ? "missing from" : "in") + " the replicated set");
            copied += many ? 1 : 0;
            int waiters = 0;
            if (ts.dependents != null) {
                for (TaskState dt : ts.dependents) {
                    check(tasks.get(dt.key) == dt, ts, "dependent " + dt.key + " not known");
                    if (active(dt.state)) {
                        waiters++;
                    }
                }
            }
            check(waiters == ts.waiters, ts, "waiters " + ts.waiters + " but counted " + waiters);
            for (TaskState d : ts.deps) {
                check(d.dependents != null && d.dependents.contains(ts), ts, "not in dependents of " + d.key);
                check(tasks.get(d.key) == d, ts, "dependency " + d.key + " forgotten");
            }
            if (ts.state == WAITING) {
                int missing = 0;
                for (TaskState d : ts.deps) {
                    if (d.state != MEMORY) {
                        missing++;
                    }
                }
                check(missing == ts.waitingOn, ts, "waitingOn " + ts.waitingOn + " but counted " + missing);
            }
            if (active(ts.state)) {
                for (TaskState d : ts.deps) {
                    check(d.state != ERRED && d.state != FORGOTTEN, ts, "active with erred input " + d.key);
                }
            }
            check((ts.state == MEMORY) == (ts.whoHas != null), ts, "holders do not match state");
            check((ts.state == PROCESSING) == (ts.processingOn != null), ts, "processingOn does not match state");
            check((ts.state == NO_WORKER) == noWorker.contains(ts), ts, "no-worker set does not match state");
            check((ts.state == QUEUED) == queued.test(ts), ts, "queued set does not match state");
            if (ts.state == PROCESSING) {
                check(ts.processingOn.processing.contains(ts), ts, "missing from its worker's processing");
                for (TaskState d : ts.deps) {
                    check(d.state == MEMORY, ts, "processing while input " + d.key + " is " + name(d.state));
                }
            }
            if (ts.whoHas != null) {
                for (WorkerState w : ts.whoHas) {
                    check(w.hasWhat.contains(ts) && workers.get(w.address) == w, ts, "holder " + w + " inconsistent");
                }
            }
            if (!ts.needed() && !ts.hasDependents()) {
                check(ts.state != RELEASED && ts.state != ERRED, ts, "unneeded task not forgotten");
            }
            if (!ts.needed()) {
                check(ts.state != MEMORY && !active(ts.state), ts, "unneeded task kept in " + name(ts.state));
            }
        }
        for (WorkerState w : workerList) {
            for (TaskState ts : w.processing) {
                check(ts.processingOn == w, ts, "processing on " + w + " but points elsewhere");
            }
            long held = 0;
            for (TaskState ts : w.hasWhat) {
                check(ts.heldBy(w), ts, "in hasWhat of " + w + " but not held");
                held += Math.max(0, ts.nbytes);
            }
            check(held == w.heldBytes, null, w + " counts " + w.heldBytes + " bytes held, found " + held);
        }
        for (ClientState c : clients) {
            for (TaskState ts : c.wants) {
                check(tasks.get(ts.key) == ts, ts, "wanted by " + c.id + " but forgotten");
            }
        }
        check(copied == replicated.size(), null, "the replicated set has " + replicated.size() + " tasks, "
                + copied + " are held twice or more");
    }

    static void check(boolean ok, TaskState ts, String what) {
        if (!ok) {
            throw new IllegalStateException(ts + ": " + what);
        }
    }
}
