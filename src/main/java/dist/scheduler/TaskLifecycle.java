package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.*;
import dist.protocol.TaskSpec;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import static dist.scheduler.TaskState.*;
/**
 * A task's life in the scheduler: the states, the one table of edges between them keyed by (from,
 * to), each edge's work, and the recommendation loop that applies follow-ups until none are left.
 * A pair the table lacks throws {@link ImpossibleTransition}; the loop drops recommendations that
 * no longer apply by explicit rules ({@link #applyRecommendation}). {@link SchedulerState} feeds it
 * events; nothing here reads a clock or does I/O.
 */
abstract class TaskLifecycle {

    static final System.Logger LOG = System.getLogger("dist.scheduler");

    /** Expected run time of a task whose key prefix has no measurement yet (dask uses 0.5 s too). */
    static final long UNKNOWN_DURATION_NANOS = 500_000_000L;
    /** Above this many prefixes, prefixes without live tasks are dropped when their last task goes. */
    static final int PREFIX_SOFT_LIMIT = 10_000;

    final SchedulerConfig config;
    final TaskTable tasks = new TaskTable();
    /** The results two workers or more hold, kept by {@link TaskState#addHolder} and removeHolder (dask's replicated_tasks). */
    final TaskSet replicated = new TaskSet();
    final LinkedHashMap<String, WorkerState> workers = new LinkedHashMap<>();
    /** Each registered worker's name to its address: a name belongs to one worker at a time. */
    final java.util.HashMap<String, String> workerNames = new java.util.HashMap<>();
    /** Where runnable tasks go: the workers filed by load, and the queue of root tasks. */
    final Placement placement = new Placement();
    /** The workers in registration order (read-only: {@link Placement#add} and {@link Placement#remove} change it). */
    final List<WorkerState> workerList = placement.workers();
    final LinkedHashMap<String, ClientState> clients = new LinkedHashMap<>();
    final LinkedHashSet<TaskState> noWorker = new LinkedHashSet<>();
    final FunctionTable functionTable = new FunctionTable();
    final HashMap<String, TaskPrefix> prefixes = new HashMap<>();
    /** The prefix found last (see {@link #prefixOf}); never one that was dropped from {@link #prefixes}. */
    TaskPrefix lastPrefix;

    final Recommendations recs = new Recommendations();
    /**
     * Workers with keys to free not yet sent ({@link WorkerState#pendingFree}), in the order their
     * first key came; null where one was flushed early. A list, not a map: every placement asks for
     * its worker's pending keys, and a field read costs less than a lookup.
     */
    final ArrayList<WorkerState> freeing = new ArrayList<>();
    /** Sends a queued task to the worker the queue's filling chose: made once, not per event. */
    private final java.util.function.BiConsumer<TaskState, WorkerState> sendToWorker = this::sendToWorker;
    ArrayList<Outgoing> out = new ArrayList<>();
    long now;
    long transitions;
    final Extensions extensions = new Extensions();
    /** Tasks in no-worker that need resources: they may run once a worker frees some. */
    int noWorkerWithResources;
    /** Whether to log the events that matter (workers joining and leaving, errors, restarts); the server turns it on. */
    boolean logEvents;

    // ================================================================ recommendations

    void recommend(TaskState ts, byte target) {
        recs.add(ts, target);
    }

    /** Applies recommendations until none are left. */
    void drain() {
        TaskState ts;
        while ((ts = recs.poll()) != null) {
            applyRecommendation(ts, recs.target());
        }
    }

    /** If nobody needs {@code ts} any more, recommend letting it go. */
    void recommendCleanup(TaskState ts) {
        if (ts.needed()) {
            return;
        }
        switch (ts.state) {
            case MEMORY, WAITING, NO_WORKER, PROCESSING, QUEUED -> recommend(ts, RELEASED);
            case RELEASED, ERRED -> {
                if (!ts.hasDependents()) {
                    recommend(ts, FORGOTTEN);
                }
            }
            default -> { } // forgotten: nothing is left to let go
        }
    }

    /**
     * The rules of the recommendation loop. A recommendation was right when it was made, but the
     * transitions applied since may have overtaken it; then it no longer applies and is dropped:
     * <ul>
     * <li>the task was forgotten meanwhile, or is already in the recommended state;</li>
     * <li>a pair marked in {@link #OBSOLETE}: the task moved on to a state the recommendation did not foresee;</li>
     * <li>to released or forgotten: the task is needed again (a client wants it, or a dependent waits);</li>
     * <li>released to waiting: nobody needs it any more (a dependent failed or was released since);</li>
     * <li>waiting to processing: an input it counted was lost again since (it waits for that input).</li>
     * </ul>
     * Forgetting is releasing, then forgetting; a released task with dependents stays until they go.
     * Any other pair goes to {@link #transition}, which throws on a pair missing from its table.
     */
    void applyRecommendation(TaskState ts, byte to) {
        byte from = ts.state;
        if (from == to || from == FORGOTTEN || OBSOLETE[from * STATES + to]) {
            return;
        }
        switch (to) {
            case RELEASED -> {
                if (ts.needed()) {
                    return;
                }
            }
            case FORGOTTEN -> {
                if (ts.needed()) {
                    return;
                }
                if (from != RELEASED) {
                    transition(ts, RELEASED, null);
                }
                if (ts.state != RELEASED || ts.hasDependents()) {
                    return;
                }
            }
            case WAITING -> {
                if (from == RELEASED && !ts.needed()) {
                    return;
                }
            }
            case PROCESSING -> {
                if (from == WAITING && ts.waitingOn != 0) {
                    return;
                }
            }
            default -> { }
        }
        transition(ts, to, null);
    }

    // ================================================================ the transition table

    /** Number of task states: the table has one slot per (from, to) pair. */
    static final int STATES = 8;

    /**
     * One edge of the task state machine: leaves the task's state (the first half) and enters the
     * target's (the second half, shared by the edges into one state). {@code detail} is what the
     * target needs: the chosen {@link WorkerState} or null into processing, an {@link Arrival} into
     * memory, a {@link Failure} into erred, null otherwise.
     */
    @FunctionalInterface
    interface Edge {
        void apply(TaskLifecycle s, TaskState ts, Object detail);
    }

    /** The edges, at {@code from * STATES + to}; null: no such edge (see {@link ImpossibleTransition}). */
    static final Edge[] EDGES = new Edge[STATES * STATES];
    /** Recommendations that no longer apply when they find the task in {@code from} (see {@link #applyRecommendation}). */
    static final boolean[] OBSOLETE = new boolean[STATES * STATES];

    static void edge(byte from, byte to, Edge e) {
        EDGES[from * STATES + to] = e;
    }

    static {
        edge(RELEASED, WAITING, (s, ts, d) -> s.releasedToWaiting(ts));
        edge(RELEASED, MEMORY, (s, ts, d) -> s.enterMemory(ts, (Arrival) d)); // a worker reports it held
        edge(RELEASED, ERRED, (s, ts, d) -> s.enterErred(ts, (Failure) d));
        edge(RELEASED, FORGOTTEN, (s, ts, d) -> s.releasedToForgotten(ts));

        edge(WAITING, PROCESSING, (s, ts, d) -> s.waitingToProcessing(ts, (WorkerState) d));
        edge(WAITING, QUEUED, (s, ts, d) -> s.waitingToQueued(ts));
        edge(WAITING, NO_WORKER, (s, ts, d) -> s.waitingToNoWorker(ts));
        edge(WAITING, MEMORY, (s, ts, d) -> s.enterMemory(ts, (Arrival) d));
        edge(WAITING, RELEASED, (s, ts, d) -> s.waitingToReleased(ts));
        edge(WAITING, ERRED, (s, ts, d) -> s.enterErred(ts, (Failure) d));

        edge(NO_WORKER, WAITING, (s, ts, d) -> s.noWorkerToWaiting(ts));
        edge(NO_WORKER, PROCESSING, (s, ts, d) -> s.noWorkerToProcessing(ts, (WorkerState) d));
        edge(NO_WORKER, QUEUED, (s, ts, d) -> s.noWorkerToQueued(ts));
        edge(NO_WORKER, MEMORY, (s, ts, d) -> s.noWorkerToMemory(ts, (Arrival) d));
        edge(NO_WORKER, RELEASED, (s, ts, d) -> s.noWorkerToReleased(ts));
        edge(NO_WORKER, ERRED, (s, ts, d) -> s.noWorkerToErred(ts, (Failure) d));

        edge(QUEUED, WAITING, (s, ts, d) -> s.queuedToWaiting(ts));
        edge(QUEUED, PROCESSING, (s, ts, d) -> s.queuedToProcessing(ts, java.util.Objects.requireNonNull(
                (WorkerState) d, "a queued task leaves only for the worker the queue's filling chose")));
        edge(QUEUED, MEMORY, (s, ts, d) -> s.queuedToMemory(ts, (Arrival) d));
        edge(QUEUED, RELEASED, (s, ts, d) -> s.queuedToReleased(ts));
        edge(QUEUED, ERRED, (s, ts, d) -> s.queuedToErred(ts, (Failure) d));

        edge(PROCESSING, WAITING, (s, ts, d) -> s.processingToWaiting(ts));
        edge(PROCESSING, MEMORY, (s, ts, d) -> s.processingToMemory(ts, (Arrival) d));
        edge(PROCESSING, RELEASED, (s, ts, d) -> s.processingToReleased(ts));
        edge(PROCESSING, ERRED, (s, ts, d) -> s.processingToErred(ts, (Failure) d));

        edge(MEMORY, RELEASED, (s, ts, d) -> s.memoryToReleased(ts));

        edge(ERRED, RELEASED, (s, ts, d) -> s.erredToReleased(ts));

        // waiting was asked while an input was missing; the task got its result or failed since
        OBSOLETE[MEMORY * STATES + WAITING] = true;
        OBSOLETE[ERRED * STATES + WAITING] = true;
        // processing was asked when the last input arrived or a worker joined; since then the task got
        // its result, failed, was released, or went to the queue, which it leaves only in its turn
        OBSOLETE[MEMORY * STATES + PROCESSING] = true;
        OBSOLETE[ERRED * STATES + PROCESSING] = true;
        OBSOLETE[RELEASED * STATES + PROCESSING] = true;
        OBSOLETE[QUEUED * STATES + PROCESSING] = true;
    }

    /** Whether the table has the edge {@code from -> to}: for tests. */
    static boolean hasEdge(byte from, byte to) {
        return EDGES[from * STATES + to] != null;
    }

    /**
     * Moves {@code ts} to {@code to} through the table: every state change goes through here.
     *
     * @throws ImpossibleTransition when the table has no such edge: a bug, named with the event that asked
     */
    void transition(TaskState ts, byte to, Object detail) {
        byte from = ts.state;
        Edge e = EDGES[from * STATES + to];
        if (e == null) {
            throw new ImpossibleTransition(ts.key, from, to, currentEvent());
        }
        e.apply(this, ts, detail);
    }

    /** A result arriving on {@code worker}: its size, its bytes when small, and how long it ran (0: unknown). */
    record Arrival(WorkerState worker, long nbytes, byte[] value, long runNanos) {}

    /** Why a task fails: the serialized exception (or null), a summary, and the key whose failure caused it. */
    record Failure(byte[] exception, String summary, String causeKey) {}

    /** The event being handled, in words, for errors: set by {@link #guarded}, built only when asked. */
    String eventWhat;
    /** When set, the event is {@link #eventMessage}, named by {@link #typeOf} only when an error asks. */
    boolean eventIsMessage;
    Message eventMessage;
    String eventSender;

    String currentEvent() {
        String what = eventIsMessage ? typeOf(eventMessage) : eventWhat;
        return what == null ? "no event" : what + (eventSender == null ? "" : " from " + eventSender);
    }

    /** Sets the state and keeps the dependency counters ({@code waiters}, {@code waitingOn}) exact. */
    void setState(TaskState ts, byte to) {
        byte from = ts.state;
        ts.prefix.moved(from, to);
        ts.state = to;
        transitions++;
        for (SchedulerExtension w : extensions.watchers) {
            w.transition(ts, from, to);
        }
        boolean wasActive = active(from);
        if (wasActive != active(to)) {
            for (TaskState d : ts.deps) {
                if (!wasActive) {
                    d.waiters++;
                } else if (--d.waiters == 0) {
                    recommendCleanup(d);
                }
            }
        }
        TaskSet dependents = ts.dependents;
        if ((from == MEMORY) != (to == MEMORY) && dependents != null) {
            for (int i = 0, end = dependents.end(); i < end; i++) { // no iterator: this runs per transition
                TaskState dt = dependents.at(i);
                if (dt == null) {
                    continue;
                }
                if (dt.state == WAITING) {
                    if (to == MEMORY) {
                        if (--dt.waitingOn == 0) {
                            recommend(dt, PROCESSING);
                        }
                    } else {
                        dt.waitingOn++;
                    }
                } else if (to != MEMORY && (dt.state == PROCESSING || dt.state == NO_WORKER)) {
                    recommend(dt, WAITING); // its input is gone: it must wait again
                }
            }
        }
    }

    // ================================================================ transitions

    void releasedToWaiting(TaskState ts) {
        enterWaiting(ts);
    }

    void processingToWaiting(TaskState ts) {
        detachProcessing(ts, true);
        enterWaiting(ts);
    }

    void noWorkerToWaiting(TaskState ts) {
        removeNoWorker(ts);
        enterWaiting(ts);
    }

    /**
     * Enters waiting, the second half of every edge into it: counts inputs not in memory, asks for
     * those that are released. An erred input makes it erred instead, and data without a recipe
     * (scattered) stays where it is: it arrives from a worker or, once lost, never.
     */
    void enterWaiting(TaskState ts) {
        for (TaskState d : ts.deps) {
            if (d.state == ERRED) {
                Trouble c = d.trouble;
                fail(ts, new Failure(c == null ? null : c.exception,
                        c == null ? "dependency " + d.key + " failed" : c.summary,
                        c == null || c.causeKey == null ? d.key : c.causeKey));
                return;
            }
        }
        if (ts.run == null) {
            if (ts.nbytes >= 0) {
                fail(ts, new Failure(null, "data for key " + ts.key + " was scattered and lost with its workers; it "
                        + "has no recipe to recompute it (replicate scattered data to keep copies alive)", ts.key));
            }
            return;
        }
        setState(ts, WAITING);
        int missing = 0;
        for (TaskState d : ts.deps) {
            if (d.state != MEMORY) {
                missing++;
                if (d.state == RELEASED) {
                    recommend(d, WAITING);
                }
            }
        }
        ts.waitingOn = missing;
        if (missing == 0) {
            recommend(ts, PROCESSING);
        }
    }

    /**
     * Places a runnable task: on {@code chosen} when given, else where placement decides. It may
     * divert to queued (every worker saturated) or no-worker (none may run it), both edges of the table.
     */
    void waitingToProcessing(TaskState ts, WorkerState chosen) {
        if (chosen != null) {
            enterProcessing(ts, chosen);
            return;
        }
        if (placement.queueable(ts)) {
            WorkerState ws = placement.roomFor(ts);
            if (ws == null) {
                transition(ts, QUEUED, null); // behind earlier queued work, or every worker is saturated
            } else {
                enterProcessing(ts, ws);
            }
            return;
        }
        WorkerState ws = placement.decide(ts);
        if (ws == null) {
            transition(ts, NO_WORKER, null);
        } else if (refusedAsHuge(ts, ws)) {
            return; // failed instead
        } else {
            enterProcessing(ts, ws);
        }
    }

    /**
     * As dask: a task whose inputs together exceed the memory limit of {@code ws} and of every other
     * worker would only make the worker that runs it spill, pause or die: it fails with a MemoryError
     * instead, never sent. Workers without a limit take anything.
     */
    boolean refusedAsHuge(TaskState ts, WorkerState ws) {
        if (ws.memoryLimit <= 0 || ts.deps.length == 0) {
            return false;
        }
        long bytes = 0;
        for (TaskState d : ts.deps) {
            bytes += Math.max(0, d.nbytes);
        }
        if (bytes <= ws.memoryLimit) {
            return false;
        }
        for (WorkerState w : workerList) {
            if (w.memoryLimit <= 0 || bytes <= w.memoryLimit) {
                return false; // another worker could hold them: placement's choice stands
            }
        }
        String msg = "MemoryError: Task " + ts.key + " has " + bytes + " bytes worth of input dependencies, but worker "
                + ws.address + " has memory_limit set to " + ws.memoryLimit + " bytes (as has every other worker)";
        fail(ts, new Failure(null, msg, ts.key));
        return true;
    }

    void waitingToQueued(TaskState ts) {
        setState(ts, QUEUED);
        placement.queue(ts);
    }

    void queuedToWaiting(TaskState ts) {
        placement.unqueue(ts);
        enterWaiting(ts);
    }

    /** Leaves the queue for {@code ws}, which the queue's filling chose. */
    void queuedToProcessing(TaskState ts, WorkerState ws) {
        placement.unqueue(ts);
        enterProcessing(ts, ws);
    }

    void queuedToReleased(TaskState ts) {
        placement.unqueue(ts);
        setState(ts, RELEASED);
        recommendCleanup(ts);
    }

    /** Sends queued tasks to workers with room, in priority order; runs after every event. */
    void fillFromQueue() {
        placement.fillFromQueue(sendToWorker);
        drain();
    }

    void waitingToNoWorker(TaskState ts) {
        setState(ts, NO_WORKER);
        addNoWorker(ts);
    }

    /** A worker may run it now; while none may, it stays in no-worker (woken again by workers and resources). */
    void noWorkerToProcessing(TaskState ts, WorkerState chosen) {
        if (chosen == null && placement.queueable(ts)) {
            // as dask's bulk_schedule_unrunnable_after_adding_worker: the first worker to join takes
            // what it has slots for and the rest queue for whoever joins next, not all of it
            WorkerState ws = placement.roomFor(ts);
            if (ws == null) {
                transition(ts, QUEUED, null);
            } else {
                removeNoWorker(ts);
                enterProcessing(ts, ws);
            }
            return;
        }
        WorkerState ws = chosen != null ? chosen : placement.decide(ts);
        if (ws != null && !refusedAsHuge(ts, ws)) {
            removeNoWorker(ts);
            enterProcessing(ts, ws);
        }
    }

    void noWorkerToQueued(TaskState ts) {
        removeNoWorker(ts);
        waitingToQueued(ts);
    }

    void addNoWorker(TaskState ts) {
        if (noWorker.add(ts) && !ts.resources().isEmpty()) {
            noWorkerWithResources++;
        }
    }

    void removeNoWorker(TaskState ts) {
        if (noWorker.remove(ts) && !ts.resources().isEmpty()) {
            noWorkerWithResources--;
        }
    }

    /** Sends {@code ts} (waiting, no-worker or queued) to {@code ws}, through the table's edge into processing. */
    void sendToWorker(TaskState ts, WorkerState ws) {
        transition(ts, PROCESSING, ws);
    }

    /** Enters processing on {@code ws}, the second half of every edge into it. */
    void enterProcessing(TaskState ts, WorkerState ws) {
        ts.processingOn = ws; // set first: who observes the transition sees where it goes
        setState(ts, PROCESSING);
        assign(ts, ws);
    }

    /** Gives a processing task to {@code ws}: the worker's bookkeeping and the ComputeTask. */
    void assign(TaskState ts, WorkerState ws) {
        boolean atOnce = startsOnArrival(ts, ws);
        ts.processingOn = ws;
        ts.expectedNanos = ts.prefix.expected(UNKNOWN_DURATION_NANOS);
        ws.assign(ts);
        Map<String, List<String>> who;
        Map<String, Long> sizes;
        if (ts.deps.length == 0) {
            who = Map.of();
            sizes = Map.of();
        } else {
            TaskState[] deps = ts.deps; // distinct (see SchedulerState#link): a key each
            String[] keys = new String[deps.length];
            Object[] holders = new Object[deps.length];
            Object[] nbytes = new Object[deps.length];
            for (int i = 0; i < deps.length; i++) {
                TaskState d = deps[i];
                keys[i] = d.key;
                holders[i] = d.holderAddresses();
                nbytes[i] = d.nbytes;
            }
            who = new InputMap<>(keys, holders);
            sizes = new InputMap<>(keys, nbytes);
        }
        flushFree(ws); // a FreeKeys for this key must reach the worker before the new ComputeTask
        ts.executing = atOnce; // see the counting rule in the class comment
        out.add(Outgoing.send(ws.address, new ComputeTask(ts.key, FunctionTable.runOf(ts), who, sizes, ts.priority,
                ts.submitter, !atOnce, ts.resources().isEmpty() ? null : ts.resources(), innermostSpan(ts))));
    }

    /** The span the worker counts {@code ts}'s time in: the innermost of its path; null when none. */
    private static String innermostSpan(TaskState ts) {
        java.util.List<String> path = ts.options == null ? null : ts.options.span();
        return path == null || path.isEmpty() ? null : path.get(path.size() - 1);
    }

    void processingToMemory(TaskState ts, Arrival a) {
        WorkerState was = ts.processingOn;
        detachProcessing(ts, false);
        if (was != a.worker() && was != null && workers.get(was.address) == was) {
            queueFree(was, ts.key); // it finished elsewhere first; drop the other copy of the work
        }
        if (a.runNanos() > 0) {
            ts.prefix.record(a.runNanos());
        }
        enterMemory(ts, a);
    }

    void noWorkerToMemory(TaskState ts, Arrival a) {
        removeNoWorker(ts);
        enterMemory(ts, a);
    }

    void queuedToMemory(TaskState ts, Arrival a) {
        placement.unqueue(ts);
        enterMemory(ts, a);
    }

    /** The result of {@code ts} now lives on the arrival's worker; clients that want it hear so. */
    void enterMemory(TaskState ts, Arrival a) {
        WorkerState ws = a.worker();
        setNbytes(ts, a.nbytes());
        if (ts.addHolder(ws)) {
            ws.holdNew(ts); // the holders and the held keys mirror each other
        }
        if (ts.trouble != null && ts.trouble.summary == null) {
            ts.trouble = null; // retries and suspicion are settled once the result exists
        }
        setState(ts, MEMORY);
        if (ts.wantedBy != null) {
            byte[] value = a.value();
            byte[] inline = value != null && value.length <= config.inlineResultLimit() ? value : null;
            List<String> where = ws.addressAlone;
            for (ClientState c : ts.wantedBy) {
                if (!c.silent) {
                    out.add(Outgoing.send(c.id, new KeyInMemory(ts.key, where, a.nbytes(), inline)));
                }
            }
        }
        recommendCleanup(ts);
    }

    /** {@code ts}'s result is on {@code ws}: it enters memory from whatever state it was in. */
    void becomeMemoryOn(TaskState ts, WorkerState ws, long nbytes, byte[] value) {
        transition(ts, MEMORY, new Arrival(ws, nbytes, value, 0));
    }

    /** A size changes: the workers that hold the key count it anew. */
    static void setNbytes(TaskState ts, long nbytes) {
        if (ts.whoHas != null) {
            for (WorkerState w : ts.whoHas) {
                w.heldBytes += Math.max(0, nbytes) - Math.max(0, ts.nbytes);
            }
        }
        ts.nbytes = nbytes;
    }

    /** The last copy of a result disappeared: released, then recomputed from its recipe if needed. */
    void memoryLost(TaskState ts, String lastHolder) {
        transition(ts, RELEASED, null); // no holders left to free; unneeded, it is let go
        if (!ts.needed()) {
            return;
        }
        if (ts.run == null) {
            fail(ts, new Failure(null, "data for key " + ts.key + " was scattered and lost with worker " + lastHolder
                    + "; it has no recipe to recompute it (replicate scattered data to keep copies alive)", ts.key));
        } else {
            recommend(ts, WAITING);
        }
    }

    void memoryToReleased(TaskState ts) {
        if (ts.whoHas != null) {
            for (WorkerState ws : ts.whoHas) {
                ws.unhold(ts);
                queueFree(ws, ts.key);
            }
            if (ts.whoHas.length > 1) {
                ts.whoHas[0].replicated.remove(ts);
            }
            ts.whoHas = null;
        }
        setState(ts, RELEASED);
        recommendCleanup(ts);
    }

    void waitingToReleased(TaskState ts) {
        setState(ts, RELEASED);
        recommendCleanup(ts);
    }

    void noWorkerToReleased(TaskState ts) {
        removeNoWorker(ts);
        setState(ts, RELEASED);
        recommendCleanup(ts);
    }

    void processingToReleased(TaskState ts) {
        detachProcessing(ts, true);
        setState(ts, RELEASED);
        recommendCleanup(ts);
    }

    void erredToReleased(TaskState ts) {
        ts.trouble = null;
        setState(ts, RELEASED);
        recommendCleanup(ts);
    }

    void releasedToForgotten(TaskState ts) {
        setState(ts, FORGOTTEN);
        tasks.remove(ts);
        functionTable.release(ts);
        ts.run = null;
        ts.trouble = null;
        TaskPrefix p = ts.prefix;
        if (--p.live == 0 && prefixes.size() > PREFIX_SOFT_LIMIT) {
            prefixes.remove(p.name);
            if (lastPrefix == p) {
                lastPrefix = null;
            }
        }
        for (TaskState d : ts.deps) {
            TaskSet dt = d.dependents;
            if (dt != null) {
                if (dt.frozen()) {
                    if (dt.contains(ts)) {
                        d.dependents = null; // {ts}, shared: ts was its only dependent
                        recommendCleanup(d);
                    }
                    continue;
                }
                dt.remove(ts);
                if (dt.isEmpty()) {
                    d.dependents = null;
                    recommendCleanup(d);
                }
            }
        }
        ts.deps = TaskState.NO_DEPS;
    }

    /**
     * {@code ts} fails, and with it every dependent still waiting for it, transitively (a work list,
     * not recursion: a chain of a million tasks must not overflow the stack); every client that
     * wants one of them hears {@link KeyErred}.
     */
    void fail(TaskState ts, Failure f) {
        log(System.Logger.Level.WARNING, "task erred: " + ts.key + ": " + f.summary());
        transition(ts, ERRED, f);
        ArrayDeque<TaskState> todo = new ArrayDeque<>();
        addActiveDependents(ts, todo);
        TaskState t;
        while ((t = todo.poll()) != null) {
            if (t.state == ERRED) {
                continue; // reached through two inputs
            }
            transition(t, ERRED, f);
            addActiveDependents(t, todo);
        }
    }

    static void addActiveDependents(TaskState ts, ArrayDeque<TaskState> todo) {
        if (ts.dependents != null) {
            for (TaskState dt : ts.dependents) {
                if (active(dt.state)) {
                    todo.add(dt);
                }
            }
        }
    }

    void processingToErred(TaskState ts, Failure f) {
        detachProcessing(ts, true);
        enterErred(ts, f);
    }

    void noWorkerToErred(TaskState ts, Failure f) {
        removeNoWorker(ts);
        enterErred(ts, f);
    }

    void queuedToErred(TaskState ts, Failure f) {
        placement.unqueue(ts);
        enterErred(ts, f);
    }

    /** Enters erred, the second half of every edge into it: the failure is kept and its wanters told. */
    void enterErred(TaskState ts, Failure f) {
        Trouble tr = ts.trouble();
        tr.exception = f.exception();
        tr.summary = f.summary();
        tr.causeKey = f.causeKey();
        setState(ts, ERRED);
        if (ts.wantedBy != null) {
            for (ClientState c : ts.wantedBy) {
                if (!c.silent) {
                    out.add(Outgoing.send(c.id, keyErred(ts)));
                }
            }
        }
        recommendCleanup(ts);
    }

    // ================================================================ helpers

    /** A task waits on others without a slot: its worker has room for more (see {@link WorkerState#busy()}). */
    void taskSeceded(WorkerState ws, String key) {
        TaskState ts = key == null ? null : tasks.get(key);
        if (ts != null && ts.processingOn == ws) {
            ws.secede(ts);
        }
    }

    /** Takes {@code ts} off the worker it was sent to; {@code free} tells a live worker to drop it. */
    void detachProcessing(TaskState ts, boolean free) {
        WorkerState ws = ts.processingOn;
        if (ws == null) {
            return;
        }
        for (SchedulerExtension ext : extensions.leavers) {
            ext.leavingWorker(ts);
        }
        ws.unassign(ts);
        if (!ts.resources().isEmpty()) {
            wakeResourceWaiters();
        }
        ts.processingOn = null;
        ts.executing = false;
        ts.expectedNanos = 0;
        if (free && workers.get(ws.address) == ws) {
            queueFree(ws, ts.key);
        }
    }

    void queueFree(WorkerState ws, String key) {
        ArrayList<String> keys = ws.pendingFree;
        if (keys == null) {
            keys = ws.pendingFree = new ArrayList<>();
            ws.freeingAt = freeing.size();
            freeing.add(ws);
        }
        keys.add(key);
    }

    /** Takes {@code ws}'s pending keys back unsent (it is gone, or they are sent now); null when none. */
    ArrayList<String> dropFree(WorkerState ws) {
        ArrayList<String> keys = ws.pendingFree;
        if (keys != null) {
            freeing.set(ws.freeingAt, null);
            ws.pendingFree = null;
        }
        return keys;
    }

    void flushFree(WorkerState ws) {
        ArrayList<String> keys = dropFree(ws);
        if (keys != null) {
            out.add(Outgoing.send(ws.address, new FreeKeys(keys)));
        }
    }

    void flushAllFree() {
        if (freeing.isEmpty()) {
            return; // most events free nothing
        }
        for (int i = 0, n = freeing.size(); i < n; i++) {
            WorkerState ws = freeing.get(i);
            if (ws != null) {
                out.add(Outgoing.send(ws.address, new FreeKeys(ws.pendingFree)));
                ws.pendingFree = null;
            }
        }
        freeing.clear();
    }

    /** Forgets every pending key unsent. */
    void clearFree() {
        for (WorkerState ws : freeing) {
            if (ws != null) {
                ws.pendingFree = null;
            }
        }
        freeing.clear();
    }

    static KeyErred keyErred(TaskState ts) {
        Trouble tr = ts.trouble;
        if (tr == null) {
            return new KeyErred(ts.key, null, "task " + ts.key + " failed", ts.key);
        }
        return new KeyErred(ts.key, tr.exception, tr.summary, tr.causeKey == null ? ts.key : tr.causeKey);
    }

    TaskLifecycle(SchedulerConfig config) {
        this.config = java.util.Objects.requireNonNull(config, "config must not be null");
    }

    /**
     * Resources were freed: tasks waiting for resources may run now, the most important first, so
     * that they, not the earliest submitted, take what was freed.
     */
    void wakeResourceWaiters() {
        if (noWorkerWithResources == 0) {
            return;
        }
        ArrayList<TaskState> waiters = new ArrayList<>(noWorkerWithResources);
        for (TaskState ts : noWorker) {
            if (!ts.resources().isEmpty()) {
                waiters.add(ts);
            }
        }
        waiters.sort(BY_PRIORITY);
        for (TaskState ts : waiters) {
            recommend(ts, PROCESSING);
        }
    }

    /** Most important first (the lowest priority value), then by key for a stable order. */
    static final java.util.Comparator<TaskState> BY_PRIORITY = (a, b) -> {
        int c = Long.compare(a.priority, b.priority);
        return c != 0 ? c : a.key.compareTo(b.key);
    };

    void log(System.Logger.Level level, String line) {
        if (logEvents) {
            LOG.log(level, line);
        }
    }

    /** Whether {@code ts}, about to go to {@code ws}, will start there on arrival: a free thread, inputs held. */
    static boolean startsOnArrival(TaskState ts, WorkerState ws) {
        if (ws.busy() >= ws.nthreads) {
            return false;
        }
        for (TaskState d : ts.deps) {
            if (!d.heldBy(ws)) {
                return false;
            }
        }
        return true;
    }

    static String typeOf(Message m) {
        return m == null ? "an empty message" : m.getClass().getSimpleName();
    }

    // ================================================================ operations for extensions (see CoreContext)

    /** Moves a processing task its worker dropped to {@code to}, or places it afresh if {@code to} cannot take it. */
    void moveProcessing(TaskState task, WorkerState to) {
        detachProcessing(task, false);
        if (to != null && workers.get(to.address) == to && to.running() && to.hasFree(task.resources())) {
            assign(task, to); // still processing: no state changes
        } else {
            transition(task, WAITING, null); // the worker left meanwhile: place it afresh
        }
    }

    /** {@code worker} holds {@code task}'s result: a released task enters memory there, one in memory gains a holder. */
    void adoptResult(TaskState task, WorkerState worker, long nbytes) {
        if (task.state == MEMORY) {
            if (task.addHolder(worker)) {
                worker.hold(task);
            }
        } else if (task.state == RELEASED) {
            becomeMemoryOn(task, worker, nbytes, null);
        }
    }

    /**
     * Forgets every task at once, without transitions: clients want nothing, workers are told to
     * drop what they run and hold, and extensions hear {@link SchedulerExtension#clusterRestarted}
     * (nannies restart their workers: those are removed then).
     */
    void forgetEverything(String clientId, String reason) {
        for (ClientState c : clients.values()) {
            c.wants.clear();
        }
        tasks.clear();
        noWorker.clear();
        noWorkerWithResources = 0;
        placement.clearQueue(); // else the queue's filling would send tasks no one knows any more
        clearFree();
        recs.clear();
        for (WorkerState ws : new ArrayList<>(workerList)) {
            ArrayList<String> drop = new ArrayList<>();
            for (TaskState ts : ws.processing) {
                drop.add(ts.key);
            }
            for (TaskState ts : ws.hasWhat) {
                drop.add(ts.key);
            }
            ws.clearProcessing();
            ws.clearHeld();
            if (!drop.isEmpty()) {
                out.add(Outgoing.send(ws.address, new FreeKeys(drop)));
            }
        }
        for (TaskPrefix p : prefixes.values()) {
            p.live = 0;
            p.dropLive();
        }
        for (SchedulerExtension ext : extensions.all) {
            ext.clusterRestarted(clientId, reason);
        }
    }

    /** {@code holder} no longer wants {@code task}: if nobody else needs it, it is let go. */
    void unhold(ClientState holder, TaskState task) {
        if (holder.wants.remove(task)) {
            task.removeWanter(holder);
        }
        recommendCleanup(task);
    }

    /** Every task in no-worker is recommended for processing again: a worker joined or declared new resources. */
    void retryNoWorker() {
        for (TaskState ts : new ArrayList<>(noWorker)) {
            recommend(ts, PROCESSING);
        }
    }
}
