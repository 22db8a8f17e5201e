package dist.scheduler;

import dist.protocol.TaskOptions;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * Where runnable tasks go, as dask's {@code decide_worker}: among the workers holding a task's
 * inputs, the one that must fetch the fewest bytes, then the least busy; without inputs (or when no
 * holder may run it), the least busy worker it may use. Root tasks (no inputs, restrictions or
 * resources) wait in a queue here while every worker is saturated, and go to the least busy worker
 * with room as soon as one has it.
 *
 * <p>Workers are filed by load (expected work per thread) in heaps, so an unrestricted choice is a
 * look at the top and a load change costs O(log workers), instead of a scan of every worker per
 * choice. A worker is filed under a snapshot of its load; {@link WorkerState}'s mutators
 * ({@code assign}, {@code unassign}, {@code secede}, {@code addOccupancy}, ...) file it again
 * whenever that changes, behind the workers of equal load, so ties are taken round-robin. A
 * restricted task looks only at the workers it names; a task needing resources scans the workers
 * that may run it for free ones.
 *
 * <pre>{@code
 * Placement p = new Placement();
 * p.add(worker);                    // filed by load
 * WorkerState w = p.decide(task);   // null: no worker may run it now
 * }</pre>
 */
final class Placement {
    /**
     * How much expected work a worker may hold beyond one task per thread before tasks without
     * inputs queue here instead: enough to hide the round trip for tiny tasks, about one task per
     * thread for long ones, so a new or idle worker still finds work to take.
     */
    static final long PIPELINE_NANOS = 20_000_000L;
    /** At most this many tasks beyond one per thread are sent to a worker ahead of time. */
    static final int MAX_PIPELINE = 1000;

    /** By filed load, then by when the worker was last filed: among equals, the longest unchanged first. */
    static final Comparator<WorkerState> BY_LOAD = (a, b) -> {
        int c = Double.compare(a.loadKey, b.loadKey);
        return c != 0 ? c : Long.compare(a.seqKey, b.seqKey);
    };
    private static final Comparator<TaskState> QUEUE_ORDER = (a, b) -> {
        int c = Long.compare(a.priority, b.priority);
        return c != 0 ? c : a.key.compareTo(b.key);
    };

    /** Registration order, for views and for the scans of restricted work. */
    private final ArrayList<WorkerState> workers = new ArrayList<>();
    private final List<WorkerState> workersView = Collections.unmodifiableList(workers);
    private final WorkerHeap byLoad = new WorkerHeap(false);
    /**
     * Workers whose load changed since {@link #byLoad} was last read: it is put in order when read
     * ({@link #settled}), not at every change, since most decisions read only the spare groups.
     */
    private final ArrayList<WorkerState> unsettled = new ArrayList<>();
    /**
     * The same workers grouped by how many tasks they hold beyond one per thread: the workers with
     * room for a root task are the groups below its pipeline allowance.
     */
    private final SpareGroups bySpare = new SpareGroups();
    /** Address, host and name to the workers they name, for restrictions. */
    private final HashMap<String, ArrayList<WorkerState>> byTag = new HashMap<>();
    /** Runnable root tasks held back while every worker is saturated, lowest priority first. */
    private final TreeSet<TaskState> queued = new TreeSet<>(QUEUE_ORDER);
    /** The task {@link #fillFromQueue} took off the queue and is sending: its {@link #unqueue} is done already. */
    private TaskState sending;
    /** {@code queued.first()} when known, else null (the queue is read after every event: spare the tree walk). */
    private TaskState head;
    /**
     * A walk over the queue from its front, valid while {@link #changes} is {@link #cursorAt}: its
     * last task is {@link #head} when {@link #headFromCursor}, else its next is the queue's first.
     * Taking the head through it removes the tree entry without a search, and finds the next task
     * one step on, instead of two walks down the tree per task sent.
     */
    private java.util.Iterator<TaskState> cursor;
    private long changes;
    private long cursorAt = -1;
    private boolean headFromCursor;
    /** Filing counter: a worker filed later sorts after its equals. */
    private long filed;
    /** Passes of {@link #nearestHolder} so far, and its list of holders (reused: no allocation per decision). */
    private long passes;
    private final ArrayList<WorkerState> candidates = new ArrayList<>();
    /** Threads of all filed workers. */
    private int threads;
    private boolean queuing = true;
    /**
     * At least the largest {@link WorkerState#worstWaiting} of any worker: a queued task more urgent
     * than this may jump ahead of a task waiting on a worker (see {@link #aheadOfLessUrgent}).
     */
    private long worstWaiting = Long.MIN_VALUE;

    // ================================================================ workers

    /** The registered workers in registration order (read-only). */
    List<WorkerState> workers() {
        return workersView;
    }

    /** Files a new worker (its name and threads set) at its current load. */
    void add(WorkerState w) {
        workers.add(w);
        threads += w.nthreads;
        w.placement = this;
        for (String tag : tags(w)) {
            byTag.computeIfAbsent(tag, t -> new ArrayList<>(1)).add(w);
        }
        w.loadKey = w.load();
        w.spareKey = w.spare();
        w.seqKey = ++filed;
        file(w);
    }

    /**
     * A worker paused or began closing ({@code running} false), or runs again: only running workers
     * are filed by load and spare room, so no choice below can pick the others; they stay
     * registered (their data stays readable) and are filed afresh when they run again.
     */
    void setRunning(WorkerState w, boolean running) {
        if (w.placement != this || running == byLoad.contains(w)) {
            return;
        }
        if (running) {
            threads += w.nthreads;
            w.loadKey = w.load();
            w.spareKey = w.spare();
            w.seqKey = ++filed;
            if (w.spareKey <= 0) {
                w.worstWaiting = Long.MIN_VALUE;
            }
            file(w);
        } else {
            threads -= w.nthreads;
            if (w.loadUnsettled) {
                unsettled.remove(w);
                w.loadUnsettled = false;
            }
            unfile(w);
        }
    }

    /** Forgets a worker; its later load changes no longer touch the index. */
    void remove(WorkerState w) {
        if (w.placement != this) {
            return;
        }
        workers.remove(w);
        if (byLoad.contains(w)) {
            threads -= w.nthreads;
        }
        if (w.loadUnsettled) {
            unsettled.remove(w); // a worker gone is not kept until the next read
            w.loadUnsettled = false;
        }
        unfile(w);
        for (String tag : tags(w)) {
            ArrayList<WorkerState> l = byTag.get(tag);
            if (l != null && l.remove(w) && l.isEmpty()) {
                byTag.remove(tag);
            }
        }
        w.placement = null;
    }

    private static Set<String> tags(WorkerState w) {
        LinkedHashSet<String> t = new LinkedHashSet<>(4);
        t.add(w.address);
        t.add(w.host);
        if (w.name != null) {
            t.add(w.name);
        }
        return t;
    }

    /** Files {@code w} again after its load or task count changed (WorkerState's mutators call this). */
    void refile(WorkerState w) {
        if (!w.running()) {
            return; // not filed: filed afresh when it runs again
        }
        double load = w.load();
        int spare = w.spare();
        if (spare <= 0) {
            w.worstWaiting = Long.MIN_VALUE; // a thread for every task: none waits
        }
        if (load == w.loadKey && spare == w.spareKey) {
            return;
        }
        w.loadKey = load;
        w.seqKey = ++filed;
        if (!w.loadUnsettled) {
            w.loadUnsettled = true;
            unsettled.add(w);
        }
        if (spare == w.spareKey) {
            bySpare.changed(w);
        } else {
            bySpare.remove(w);
            w.spareKey = spare;
            bySpare.add(w);
        }
    }

    /** {@link #byLoad}, in order under every worker's current load. */
    private WorkerHeap settled() {
        if (!unsettled.isEmpty()) {
            for (int i = 0, n = unsettled.size(); i < n; i++) {
                WorkerState w = unsettled.get(i);
                w.loadUnsettled = false;
                if (byLoad.contains(w)) { // else it left meanwhile
                    byLoad.changed(w);
                }
            }
            unsettled.clear();
        }
        return byLoad;
    }

    private void file(WorkerState w) {
        byLoad.add(w);
        bySpare.add(w);
    }

    private void unfile(WorkerState w) {
        byLoad.remove(w);
        bySpare.remove(w);
    }

    // ================================================================ decisions

    /**
     * Picks the worker for a runnable task, or null when none may run it. Among the workers holding
     * its inputs, the one that must receive the fewest bytes, then the least busy; without inputs
     * (or when no holder may run it), the least busy of the allowed workers, ties round-robin.
     */
    WorkerState decide(TaskState ts) {
        if (workers.isEmpty()) {
            return null;
        }
        Set<WorkerState> allowed = null; // null: every worker
        if (ts.restricted()) {
            TaskOptions o = ts.options;
            allowed = matching(o.workers());
            if (allowed.isEmpty()) {
                if (!o.allowOtherWorkers()) {
                    return null;
                }
                allowed = null;
            }
        }
        Map<String, Double> need = ts.resources();
        if (!need.isEmpty()) {
            LinkedHashSet<WorkerState> fit = new LinkedHashSet<>();
            for (WorkerState w : allowed == null ? workers : allowed) {
                if (w.running() && w.hasFree(need)) {
                    fit.add(w);
                }
            }
            if (fit.isEmpty()) {
                return null; // waits in no-worker until a worker frees or offers them
            }
            allowed = fit;
        }
        if (ts.deps.length > 0) {
            WorkerState best = nearestHolder(ts, allowed);
            if (best != null) {
                return best;
            }
        }
        return allowed == null ? settled().first() : leastBusy(allowed);
    }

    /** The workers a restriction names (by address, host or name), each once. */
    private Set<WorkerState> matching(List<String> restriction) {
        LinkedHashSet<WorkerState> m = new LinkedHashSet<>();
        for (String r : restriction) {
            List<WorkerState> l = r == null ? null : byTag.get(r);
            if (l != null) {
                m.addAll(l);
            }
        }
        return m;
    }

    /**
     * The holder of {@code ts}'s inputs that must fetch the fewest bytes, then the least busy, the first
     * seen on ties; null when no allowed worker holds any. One pass over the inputs' holders.
     */
    private WorkerState nearestHolder(TaskState ts, Set<WorkerState> allowed) {
        WorkerState best = null;
        if (ts.deps.length == 1) { // every holder has all of it: only the load decides
            WorkerState[] holders = ts.deps[0].whoHas;
            if (holders != null) {
                for (WorkerState w : holders) {
                    if (w.running() && (allowed == null || allowed.contains(w))
                            && (best == null || w.load() < best.load())) {
                        best = w;
                    }
                }
            }
            return best;
        }
        long total = 0;
        long pass = ++passes; // marks the holders seen in this pass, so none needs a map
        ArrayList<WorkerState> seen = candidates;
        seen.clear();
        for (TaskState d : ts.deps) {
            long b = Math.max(0, d.nbytes);
            total += b;
            if (d.whoHas == null) {
                continue;
            }
            for (WorkerState w : d.whoHas) {
                if (w.running() && (allowed == null || allowed.contains(w))) {
                    if (w.pass != pass) {
                        w.pass = pass;
                        w.passBytes = 0;
                        seen.add(w);
                    }
                    w.passBytes += b;
                }
            }
        }
        long bestBytes = Long.MAX_VALUE;
        for (WorkerState w : seen) {
            long bytes = total - w.passBytes;
            if (best == null || bytes < bestBytes || (bytes == bestBytes && w.load() < best.load())) {
                best = w;
                bestBytes = bytes;
            }
        }
        seen.clear();
        return best;
    }

    /** The least busy worker (per thread) of any, ties round-robin; null when there is none. */
    WorkerState leastBusy() {
        return settled().first();
    }

    /**
     * The least busy of {@code pool} (a scan: restricted pools are small); of equally busy ones the
     * one holding the fewest bytes, as dask's worker objective, so data spreads; then as the index
     * takes them.
     */
    private static WorkerState leastBusy(Collection<WorkerState> pool) {
        WorkerState best = null;
        for (WorkerState w : pool) {
            if (!w.running()) {
                continue;
            }
            if (best == null) {
                best = w;
                continue;
            }
            int load = Double.compare(w.loadKey, best.loadKey);
            if (load < 0 || load == 0 && (w.heldBytes < best.heldBytes
                    || w.heldBytes == best.heldBytes && w.seqKey < best.seqKey)) {
                best = w;
            }
        }
        return best;
    }

    /**
     * How many tasks beyond one per thread a worker may hold, judged by the expected duration of
     * {@code next}'s kind.
     */
    static int pipeline(TaskState next) {
        TaskPrefix p = next.prefix;
        if (p.pipelineAt != p.count) { // changes only when a run time is recorded: asked per decision
            long expected = Math.max(1, p.expected(SchedulerState.UNKNOWN_DURATION_NANOS));
            p.pipeline = (int) Math.min(MAX_PIPELINE, PIPELINE_NANOS / expected);
            p.pipelineAt = p.count;
        }
        return p.pipeline;
    }

    /** How many tasks a worker may hold, judged by the expected duration of {@code next}'s kind. */
    static int saturation(WorkerState ws, TaskState next) {
        return ws.nthreads + pipeline(next);
    }

    /**
     * The least busy worker (per thread) that still has room for {@code next} (see {@link #saturation}),
     * ties round-robin; null when all are full. One look per distinct spare key below the allowance.
     */
    WorkerState roomiest(TaskState next) {
        return bySpare.firstBelow(pipeline(next));
    }

    /**
     * Where the queue's next task {@code next} goes now, or null: while the backlog (the queue) holds
     * at least one task per thread of the cluster besides {@code next}, the roomiest worker within its
     * pipeline (it would wait for a thread anyway, and is there when one frees); below that, only a
     * worker with a free thread. A task sent ahead to a busy worker cannot yield to a task of higher
     * priority that arrives after it, so a short backlog stays here, where priorities still order it. At the end of a computation some threads go idle before the backlog is gone, and a
     * task parked behind a busy worker's running tasks then delays the whole computation; held here,
     * it goes to the first thread that frees.
     */
    private WorkerState roomNow(TaskState next) {
        // as dask's is_rootish: co-assignment only for a group larger than twice the cluster's threads
        boolean large = next.prefix.live > 2 * threads;
        WorkerState ws = large ? siblingsWorker(next) : null;
        if (ws == null && large) {
            ws = runsOn(next);
        }
        if (ws == null) {
            ws = queued.size() > threads ? roomiest(next) : bySpare.firstBelow(0);
        }
        if (ws == null && next.priority < worstWaiting) {
            ws = aheadOfLessUrgent(next);
        }
        if (ws != null) {
            if (ws != runWorker || next.prefix != runPrefix) {
                runWorker = ws;
                runPrefix = next.prefix;
                runLeft = RUN;
            }
            runLeft--;
        }
        return ws;
    }

    /**
     * The worker the previous root tasks of {@code next}'s kind went to, while their run is shorter
     * than {@link #RUN} and the worker has room within its pipeline; else null. Neighbours in
     * priority order are mostly inputs of the same sums (a tree reduction's leaves): sent in runs,
     * the sums of the lower levels find every input where they run, where handing the queue out one
     * task per freed thread would alternate between workers.
     */
    private WorkerState runsOn(TaskState next) {
        WorkerState w = runWorker;
        if (w == null || w.placement != this || w.status != WorkerState.RUNNING || next.prefix != runPrefix || runLeft <= 0
                || queued.size() <= threads) {
            return null;
        }
        return w.spare() < pipeline(next) ? w : null;
    }

    /**
     * Co-assignment, as dask's root-task placement aims at: the worker where a sibling of {@code next}
     * (another input of a task that {@code next} feeds) runs or is held, while that worker holds at
     * most one task beyond its pipeline; null when none. The pair of a tree reduction's leaves then
     * meets on one worker and the sum fetches nothing. Looked for only among few dependents with few
     * inputs: a wide fan-in is a shuffle, where one worker cannot hold every sibling anyway.
     */
    private WorkerState siblingsWorker(TaskState next) {
        TaskSet ds = next.dependents;
        if (ds == null || ds.size() > MAX_COASSIGN_DEPENDENTS) {
            return null;
        }
        int room = pipeline(next) + 1;
        for (int i = 0, n = ds.end(); i < n; i++) {
            TaskState d = ds.at(i);
            if (d == null || d.deps.length > MAX_COASSIGN_INPUTS) {
                continue;
            }
            for (TaskState s : d.deps) {
                if (s == next) {
                    continue;
                }
                WorkerState w = s.processingOn != null ? s.processingOn
                        : s.whoHas != null && s.whoHas.length == 1 ? s.whoHas[0] : null;
                if (w != null && w.placement == this && w.status == WorkerState.RUNNING && w.spare() < room) {
                    return w;
                }
            }
        }
        return null;
    }

    /** Root tasks of a kind sent to one worker in a row at most (see {@link #runsOn}). */
    static final int RUN = 16;
    private WorkerState runWorker;
    private TaskPrefix runPrefix;
    private int runLeft;

    /** Co-assignment looks at the siblings of a root task with at most this many dependents... */
    static final int MAX_COASSIGN_DEPENDENTS = 4;
    /** ... each with at most this many inputs. */
    static final int MAX_COASSIGN_INPUTS = 8;

    /** A task of priority {@code priority} was sent to a worker to wait for a thread there. */
    void waitingAt(long priority) {
        if (priority > worstWaiting) {
            worstWaiting = priority;
        }
    }

    /**
     * A worker where a less urgent task than {@code next} waits for a thread, the one with the fewest
     * waiting; null when none. Sent there, {@code next} runs before that task (a worker runs its
     * waiting tasks most urgent first), where held here it would run after it: the priority inversion
     * dask's test_priorities.py::test_map guards against, when tasks of a kind known to be short went
     * ahead while a more urgent one of unknown length arrived later. The scan runs only while some
     * worker may hold such a task, and leaves {@link #worstWaiting} exact.
     */
    private WorkerState aheadOfLessUrgent(TaskState next) {
        WorkerState best = null;
        long worst = Long.MIN_VALUE;
        for (int i = 0, n = workers.size(); i < n; i++) {
            WorkerState w = workers.get(i);
            worst = Math.max(worst, w.worstWaiting);
            if (w.running() && w.worstWaiting > next.priority && (best == null || w.spare() < best.spare())) {
                best = w;
            }
        }
        worstWaiting = worst;
        return best;
    }

    // ================================================================ the queue of root tasks

    /** Turns queuing of root tasks on (the default) or off. */
    void setQueuing(boolean on) {
        queuing = on;
    }

    /** Tasks without inputs, restrictions or resources may wait here rather than on a worker. */
    boolean queueable(TaskState ts) {
        return queuing && !workers.isEmpty() && ts.deps.length == 0 && ts.resources().isEmpty()
                && !ts.restricted();
    }

    /** Where a queueable task goes now: null when it must queue (earlier tasks wait, or every worker is full). */
    WorkerState roomFor(TaskState ts) {
        return queued.isEmpty() ? roomNow(ts) : null;
    }

    void queue(TaskState ts) {
        if (queued.add(ts)) {
            changes++;
            if (head != null && QUEUE_ORDER.compare(ts, head) < 0) {
                head = ts;
                headFromCursor = false;
            }
        }
    }

    /** The first queued task, or null when none. */
    private TaskState head() {
        TaskState h = head;
        if (h == null && !queued.isEmpty()) {
            if (cursor == null || cursorAt != changes) {
                cursor = queued.iterator();
                cursorAt = changes;
            }
            h = head = cursor.next();
            headFromCursor = true;
        }
        return h;
    }

    void unqueue(TaskState ts) {
        if (ts == sending) {
            sending = null; // polled already: a second search of the tree would find nothing
            return;
        }
        if (queued.remove(ts)) {
            changes++;
            if (ts == head) {
                head = null;
            }
        }
    }

    /** Forgets every queued task (a restart forgot them all). */
    void clearQueue() {
        queued.clear();
        changes++;
        head = null;
    }

    boolean isQueued(TaskState ts) {
        return queued.contains(ts);
    }

    int queuedCount() {
        return queued.size();
    }

    /** Sends queued tasks to workers with room, in priority order, until none has room. */
    void fillFromQueue(BiConsumer<TaskState, WorkerState> send) {
        TaskState next;
        while ((next = head()) != null) {
            WorkerState ws = roomNow(next);
            if (ws == null) {
                return;
            }
            if (headFromCursor && cursorAt == changes) {
                cursor.remove(); // the cursor's next is now the new first
            } else {
                queued.pollFirst();
                cursor = null;
            }
            head = null;
            sending = next;
            try {
                send.accept(next, ws);
            } finally {
                sending = null;
            }
        }
    }

    // ================================================================ checks

    /** Throws unless every worker is filed under its current load and task count, once. */
    void validate() {
        int grouped = bySpare.checkedSize();
        settled();
        check(byLoad.ordered(), null, "the load heap is out of order");
        long running = workers.stream().filter(WorkerState::running).count();
        check(byLoad.size() == running && grouped == running, null,
                "index holds " + byLoad.size() + " by load and " + grouped + " by spare, not the "
                        + running + " running workers");
        int tagged = 0;
        for (List<WorkerState> l : byTag.values()) {
            tagged += l.size();
        }
        int tags = 0;
        for (WorkerState w : workers) {
            tags += tags(w).size();
            check(w.placement == this, w, "not marked as filed");
            if (!w.running()) {
                check(!byLoad.contains(w) && !bySpare.contains(w), w, "filed though not running");
                for (String tag : tags(w)) {
                    List<WorkerState> l = byTag.get(tag);
                    check(l != null && l.contains(w), w, "not found by " + tag);
                }
                continue;
            }
            check(w.loadKey == w.load(), w, "filed at load " + w.loadKey + " but has " + w.load());
            check(w.spareKey == w.spare(), w, "filed at spare " + w.spareKey + " but has " + w.spare());
            check(byLoad.contains(w), w, "missing from the load index");
            check(w.worstWaiting <= worstWaiting, w, "a task waits here less urgent than the bound " + worstWaiting);
            check(w.spare() > 0 || w.worstWaiting == Long.MIN_VALUE, w, "no task waits here, yet one is recorded");
            check(bySpare.contains(w), w, "missing from its spare group");
            for (String tag : tags(w)) {
                List<WorkerState> l = byTag.get(tag);
                check(l != null && l.contains(w), w, "not found by " + tag);
            }
        }
        check(tagged == tags, null, "names and hosts list " + tagged + " workers, not " + tags + " (one gone?)");
    }

    private static void check(boolean ok, WorkerState w, String what) {
        if (!ok) {
            throw new IllegalStateException("placement index: " + (w == null ? "" : w + ": ") + what);
        }
    }
}
