package dist.worker;

import dist.protocol.Message;
import dist.worker.WorkerEvent.Compute;
import dist.worker.WorkerEvent.DataAdded;
import dist.worker.WorkerEvent.ExecuteDone;
import dist.worker.WorkerEvent.ExecuteFailed;
import dist.worker.WorkerEvent.FetchDone;
import dist.worker.WorkerEvent.FetchFailed;
import dist.worker.WorkerEvent.Free;
import dist.worker.WorkerEvent.Rejoined;
import dist.worker.WorkerEvent.Seceded;
import dist.worker.WorkerEvent.Tick;
import dist.worker.WorkerInstruction.DropData;
import dist.worker.WorkerInstruction.Execute;
import dist.worker.WorkerInstruction.Fetch;
import dist.worker.WorkerInstruction.SendToScheduler;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * The worker's bookkeeping as a pure state machine: events in, instructions out. It reads no
 * clock, opens no socket and runs nothing; the I/O shell feeds it {@link WorkerEvent}s from one
 * thread and carries out the returned {@link WorkerInstruction}s in order.
 *
 * <pre>{@code
 * WorkerMachine ws = new WorkerMachine("10.0.0.1:9000", 4, WorkerConfig.defaults());
 * for (WorkerInstruction i : ws.handle(new WorkerEvent.Compute(computeTask), System.nanoTime())) {
 *     switch (i) { case WorkerInstruction.Execute e -> pool.submit(...); ... }
 * }
 * }</pre>
 *
 * <h2>Key states</h2>
 * A key the scheduler asked to compute here is <b>waiting</b> (some input not here yet),
 * <b>ready</b> (queued for a thread, lower priority first, then arrival), <b>executing</b>,
 * then <b>memory</b> or <b>error</b>. A key needed only as an input is <b>fetch</b> (queued for
 * a transfer), <b>flight</b> (a transfer is under way), then <b>memory</b>; when every peer said
 * to hold it has failed it is <b>waiting</b> again, for fresh who-has.
 *
 * <h2>Decisions the scheduler relies on</h2>
 * <ul>
 * <li>A {@code ComputeTask} for a key already in memory here is answered with
 *     {@code TaskFinished} again, every time (start and stop 0, no inline value): the scheduler
 *     asks only when it does not know, e.g. after a reconnect.</li>
 * <li>A {@code ComputeTask} for a key whose transfer is in flight waits for the transfer:
 *     arrival reports {@code TaskFinished}; failure makes it an ordinary task run here.</li>
 * <li>{@code FreeKeys} for an executing task changes nothing: it finishes and is reported as
 *     usual ({@code TaskFinished} or {@code TaskErred}); the scheduler answers a result it no
 *     longer wants with {@code FreeKeys}, which then drops the data. This never leaves the
 *     scheduler counting a slot that is free, whatever it did on release.</li>
 * <li>{@code FreeKeys} for data a queued task here still needs drops it once no queued task
 *     needs it. Replicas fetched as inputs are reported with {@code AddKeys} and kept until
 *     {@code FreeKeys}; transfers that arrive after every task needing them was freed are
 *     dropped without a report.</li>
 * <li>When every holder of an input has failed (said it was missing, or could not be reached),
 *     one {@code MissingData(key, peer)} goes out per failed peer ({@code peer} empty when no
 *     holder was ever named) and the key waits. It resumes when any later {@code ComputeTask}
 *     names holders for it (the scheduler re-sends after recomputing), or is dropped when
 *     {@code FreeKeys} frees every task here that needs it.</li>
 * <li>A task here that waits on a key that failed here stays waiting: the scheduler, told by
 *     {@code TaskErred}, errs or frees it.</li>
 * <li>{@code DataAdded} keys are reported with {@code AddKeys}, or with {@code TaskFinished}
 *     when they complete a task queued here.</li>
 * <li>On re-registration ({@code Relinked}) the scheduler has forgotten what it sent here: queued
 *     and failed tasks are dropped, executions nothing runs any more are reset (a later
 *     {@code ComputeTask} runs them again), executions still running are kept and report as usual,
 *     and a result of one that was reset but ran after all is reported with {@code TaskFinished}
 *     and kept until the scheduler frees it.</li>
 * </ul>
 *
 * <p>Not thread-safe: one thread owns an instance.
 */
public final class WorkerMachine {

    private enum State {
        WAITING("waiting"), READY("ready"), EXECUTING("executing"), FETCH("fetch"), FLIGHT("flight"),
        MISSING("waiting"), MEMORY("memory"), ERROR("error");

        final String label;

        State(String label) {
            this.label = label;
        }
    }

    /** One key known here: a task to compute, an input to fetch, or data held. */
    private static final class Task {
        final String key;
        final long seq;
        State state;
        long priority;
        byte[] run;                      // non-null: the scheduler asked to compute it here
        String clientId;                 // who submitted it: whose classes it may need
        String span;                     // the innermost span it was submitted in; null: none
        long readyAt;                    // when it last became ready (the time handed in)
        List<String> depKeys = List.of();
        List<Task> deps = List.of();
        int missingDeps;                 // inputs not in memory yet
        Set<Task> dependents;            // queued or executing tasks here that need this key
        Set<String> holders;             // peers said to hold it
        Set<String> failedPeers;         // peers that failed since the last MissingData
        String flightPeer;
        Message.ComputeTask deferred;    // compute asked for while a transfer was in flight
        long nbytes;
        String typeName;
        boolean freed;                   // released by the scheduler while a queued task needs it
        boolean seceded;                 // executing without holding a thread slot
        boolean blamed;                  // the scheduler counts it as executing (see reportPlacement)
        Map<String, Double> needs;       // resources it holds while executing; null: none

        Task(String key, long seq, long priority) {
            this.key = key;
            this.seq = seq;
            this.priority = priority;
        }

        Set<Task> dependents() {
            if (dependents == null) dependents = new LinkedHashSet<>(4);
            return dependents;
        }

        boolean hasDependents() {
            return dependents != null && !dependents.isEmpty();
        }

        Set<String> holders() {
            if (holders == null) holders = new LinkedHashSet<>(4);
            return holders;
        }

        boolean hasHolders() {
            return holders != null && !holders.isEmpty();
        }
    }

    private static final Comparator<Task> ORDER = (a, b) -> {
        int c = Long.compare(a.priority, b.priority);
        return c != 0 ? c : Long.compare(a.seq, b.seq);
    };

    private final String address;
    private final int nthreads;
    private final WorkerConfig config;
    private final SplittableRandom random;

    private final Map<String, Task> tasks = new HashMap<>();
    private final TreeSet<Task> ready = new TreeSet<>(ORDER);
    /** Ready tasks that need resources: they start when a thread and their resources are free. */
    private final TreeSet<Task> constrained = new TreeSet<>(ORDER);
    private final ResourceLedger resources = new ResourceLedger();
    private final TreeSet<Task> fetchQueue = new TreeSet<>(ORDER);
    private final Map<String, TreeSet<Task>> wantedFrom = new HashMap<>();
    private final Map<String, Set<Task>> flightFrom = new HashMap<>();
    private final Map<String, Integer> requestsTo = new HashMap<>();
    private int requestsInFlight;
    private int executing;
    /** Memory is past the pause fraction: no task starts until it falls. */
    private boolean paused;
    /** The scheduler is retiring this worker: no task starts (see {@link WorkerEvent.Closing}). */
    private boolean closing;
    private long memoryBytes;
    private int inMemory;
    private long nextSeq;
    private boolean heartbeatSent;
    private long lastHeartbeat;

    private List<WorkerInstruction> out;
    /** The time of the event being handled. */
    private long now;
    /** Steps kept for stories, the newest this many. */
    static final int STORY_STEPS = 50_000;
    private final WorkerStory story = new WorkerStory(STORY_STEPS);

    /**
     * @param address  this worker's contact address; ignored where who-has names it
     * @param nthreads tasks that may execute at once
     */
    public WorkerMachine(String address, int nthreads, WorkerConfig config) {
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("worker address must be a non-empty \"host:port\"");
        }
        if (nthreads < 1) {
            throw new IllegalArgumentException("nthreads must be at least 1, got " + nthreads);
        }
        this.address = address;
        this.nthreads = nthreads;
        this.config = Objects.requireNonNull(config, "config must not be null; use WorkerConfig.defaults()");
        this.random = new SplittableRandom(config.seed());
    }

    /**
     * Declares what this worker offers (e.g. {@code GPU=2}): a task that needs some starts only when
     * they are free here, and a task the scheduler let go of keeps its share until its code ends.
     */
    public WorkerMachine offering(Map<String, Double> offered) {
        resources.offer(offered);
        return this;
    }

    /**
     * Applies one event at time {@code nowNanos} (a value, never a clock read) and returns what
     * the shell must do, in order. A malformed event is rejected with an
     * {@link IllegalArgumentException} before anything changes.
     */
    public List<WorkerInstruction> handle(WorkerEvent event, long nowNanos) {
        validate(event);
        out = new ArrayList<>(4);
        now = nowNanos;
        remember(event, nowNanos);
        try {
            Task computed = null;
            switch (event) {
                case Compute c -> computed = onCompute(c.task());
                case Free f -> onFree(f.keys());
                case FetchDone d -> onFetchDone(d.peer(), orEmpty(d.nbytes()), orEmpty(d.missing()));
                case FetchFailed f -> onFetchFailed(f.peer(), orEmpty(f.keys()));
                case ExecuteDone d -> onExecuteDone(d);
                case ExecuteFailed f -> onExecuteFailed(f);
                case DataAdded a -> onDataAdded(a.nbytes());
                case WorkerEvent.Steal st -> onSteal(st.key());
                case Tick t -> onTick(nowNanos);
                case Seceded s -> onSeceded(s.key());
                case Rejoined r -> onRejoined(r.key());
                case WorkerEvent.Paused p -> {
                    if (paused != p.paused()) { // the scheduler places nothing new on a paused worker
                        send(new Message.WorkerStatusChange(p.paused() ? "paused" : "running"));
                    }
                    paused = p.paused();
                }
                case WorkerEvent.Closing c -> closing = c.closing();
                case WorkerEvent.Relinked r -> onRelinked(r.running());
            }
            startReady();
            startFetches();
            if (computed != null) reportPlacement(computed);
            rememberInstructions(nowNanos);
            return out;
        } finally {
            out = null;
        }
    }

    // ------------------------------------------------------------------ story

    /**
     * What happened here to {@code key}, oldest first, each step with the time value it happened
     * at. The one method safe to call from any thread (a story request is answered on a reader).
     */
    List<WorkerStory.Step> story(String key) {
        return story.steps(key);
    }

    /** Records what matters for the story of each key an event is about; no text is built here. */
    private void remember(WorkerEvent e, long now) {
        switch (e) {
            case Compute c -> story.add(c.task().key(), WorkerStory.RECEIVED, now, null, 0, null);
            case FetchDone f -> {
                for (Map.Entry<String, Long> k : orEmpty(f.nbytes()).entrySet()) {
                    story.add(k.getKey(), WorkerStory.FETCHED, now, f.peer(), k.getValue(), null);
                }
            }
            case FetchFailed f -> {
                for (String k : orEmpty(f.keys())) {
                    story.add(k, WorkerStory.FETCH_FAILED, now, f.peer(), 0, f.reason());
                }
            }
            case ExecuteDone d -> story.add(d.key(), WorkerStory.DONE, now, null, d.nbytes(), null);
            case ExecuteFailed f -> story.add(f.key(), WorkerStory.ERRED, now, null, 0, f.summary());
            case Free f -> {
                for (String k : f.keys()) {
                    story.add(k, WorkerStory.RELEASED, now, null, 0, null);
                }
            }
            case WorkerEvent.Steal st -> story.add(st.key(), WorkerStory.STEAL_ASKED, now, null, 0, null);
            case DataAdded d -> {
                for (Map.Entry<String, Long> k : d.nbytes().entrySet()) {
                    story.add(k.getKey(), WorkerStory.DATA_ADDED, now, null, k.getValue(), null);
                }
            }
            default -> { }
        }
    }

    /** Records the transfers and executions this event started. */
    private void rememberInstructions(long now) {
        for (WorkerInstruction i : out) {
            switch (i) {
                case Fetch f -> {
                    for (String k : f.keys()) {
                        story.add(k, WorkerStory.FETCHING, now, f.peer(), 0, null);
                    }
                }
                case Execute x -> story.add(x.key(), WorkerStory.EXECUTING, now, null, 0, null);
                default -> { }
            }
        }
    }

    // ------------------------------------------------------------------ read-only views

    /**
     * Its tasks as plain values for a dump file, by key (state, priority, dependencies, size, type, peers
     * said to hold it), without the fields named in {@code exclude}; never a task's recipe or value.
     */
    public Map<String, Object> dump(java.util.Collection<String> exclude) {
        Set<String> out = Set.copyOf(exclude);
        Map<String, Object> all = new java.util.TreeMap<>();
        for (Task t : tasks.values()) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            put(m, out, "key", t.key);
            put(m, out, "state", t.state == null ? null : t.state.label);
            put(m, out, "priority", t.priority);
            put(m, out, "dependencies", List.copyOf(t.depKeys));
            put(m, out, "nbytes", t.nbytes);
            put(m, out, "type", t.typeName);
            put(m, out, "who_has", t.holders == null ? List.of() : List.copyOf(new java.util.TreeSet<>(t.holders)));
            put(m, out, "seceded", t.seceded);
            all.put(t.key, m);
        }
        return all;
    }

    private static void put(Map<String, Object> m, Set<String> exclude, String field, Object value) {
        if (!exclude.contains(field)) {
            m.put(field, value);
        }
    }

    /** When task {@code key} last became ready to run (the time handed to {@link #handle}); 0 if unknown. */
    public long readySince(String key) {
        Task t = tasks.get(key);
        return t == null ? 0 : t.readyAt;
    }

    /** The innermost span task {@code key} was submitted in; null when none or unknown. */
    public String spanOf(String key) {
        Task t = tasks.get(key);
        return t == null ? null : t.span;
    }

    /** A task here waiting for {@code key} (an input it fetches), the first found; null when none. */
    public String neededBy(String key) {
        Task t = tasks.get(key);
        if (t == null || !t.hasDependents()) {
            return null;
        }
        return t.dependents.iterator().next().key;
    }

    /** "waiting", "ready", "executing", "fetch", "flight", "memory", "error", or null if unknown. */
    public String stateOf(String key) {
        Task t = tasks.get(key);
        return t == null || t.state == null ? null : t.state.label;
    }

    public int executingCount() {
        return executing;
    }

    /** Executing tasks that gave up their slot ({@link WorkerEvent.Seceded}) and have not rejoined. */
    public int secededCount() {
        int n = 0;
        for (Task t : tasks.values()) {
            if (t.seceded) n++;
        }
        return n;
    }

    /** True while a {@link WorkerEvent.Paused} holds tasks back. */
    public boolean isPaused() {
        return paused;
    }

    public int readyCount() {
        return ready.size() + constrained.size();
    }

    /** Sum of nbytes of the keys in memory. */
    public long memoryBytes() {
        return memoryBytes;
    }

    /** Keys whose data is held here. */
    public Set<String> keysInMemory() {
        Set<String> keys = new LinkedHashSet<>();
        for (Task t : tasks.values()) {
            if (t.state == State.MEMORY) keys.add(t.key);
        }
        return keys;
    }

    /** Keys held here with their sizes, as {@code RegisterWorker} reports them. */
    public Map<String, Long> heldKeys() {
        Map<String, Long> held = new LinkedHashMap<>();
        for (Task t : tasks.values()) {
            if (t.state == State.MEMORY) held.put(t.key, t.nbytes);
        }
        return held;
    }

    /** Transfers under way (Fetch instructions not yet answered). */
    public int fetchesInFlight() {
        return requestsInFlight;
    }

    public String address() {
        return address;
    }

    public int nthreads() {
        return nthreads;
    }

    public WorkerConfig config() {
        return config;
    }

    // ------------------------------------------------------------------ events

    /** Records a compute request; returns its task, for {@link #reportPlacement} once tasks have started. */
    private Task onCompute(Message.ComputeTask ct) {
        Task t = tasks.get(ct.key());
        boolean known = t != null;
        if (!known) {
            t = newTask(ct.key(), ct.priority());
        }
        t.blamed = !ct.announceStart(); // the latest request is what the scheduler assumes now
        if (!known) {
            becomeTask(t, ct);
            return t;
        }
        switch (t.state) {
            case MEMORY -> {
                t.freed = false;
                send(new Message.TaskFinished(t.key, t.nbytes, t.typeName, 0, 0, null));
            }
            case WAITING, READY, EXECUTING -> {
                mergeWhoHas(ct);
                if (t.state != State.EXECUTING) setPriority(t, ct.priority());
            }
            case FLIGHT -> {
                t.deferred = ct;
                mergeWhoHas(ct);
            }
            case FETCH, MISSING, ERROR -> {
                if (t.state == State.FETCH) leaveFetch(t);
                becomeTask(t, ct);
            }
        }
        return t;
    }

    private void onFree(List<String> keys) {
        for (String key : keys) {
            Task t = tasks.get(key);
            if (t == null) continue;
            switch (t.state) {
                case WAITING, READY, ERROR -> {
                    if (t.state == State.READY) unready(t);
                    releaseDeps(t);
                    t.run = null;
                    move(t, null);
                    if (t.hasDependents()) needData(t);
                    else forget(t);
                }
                case EXECUTING -> { }  // reported when it finishes; see the class comment
                case MEMORY -> {
                    if (t.hasDependents()) {
                        t.freed = true;
                    } else {
                        dropMemory(t);
                        forget(t);
                    }
                }
                case FETCH, MISSING -> {
                    if (!t.hasDependents()) {
                        if (t.state == State.FETCH) leaveFetch(t);
                        forget(t);
                    }
                }
                case FLIGHT -> t.deferred = null;  // dropped on arrival if nothing needs it
            }
        }
    }

    /** Gives a task back to the scheduler if it has not started; its inputs are kept only while needed. */
    private void onSteal(String key) {
        Task t = tasks.get(key);
        boolean give = t != null && t.run != null && (t.state == State.WAITING || t.state == State.READY);
        if (give) {
            onFree(List.of(key));
        }
        send(new Message.StealResponse(key, give));
    }

    private void onExecuteDone(ExecuteDone d) {
        Task t = tasks.get(d.key());
        if (t == null) {
            // an execution reset on re-registration that ran after all: the scheduler decides whether
            // anyone wants its result (it answers FreeKeys when nobody does)
            t = newTask(d.key(), Long.MAX_VALUE);
            t.typeName = d.typeName();
            toMemory(t, d.nbytes());
            send(new Message.TaskFinished(t.key, t.nbytes, d.typeName(), d.startNanos(), d.stopNanos(),
                    d.inlineValue(), d.thread()));
            return;
        }
        if (t.state != State.EXECUTING) return;  // stale report
        leaveSlot(t);
        t.typeName = d.typeName();
        t.run = null; // a result held here is never run again from it (a rerun comes as a new ComputeTask)
        toMemory(t, d.nbytes());
        send(new Message.TaskFinished(t.key, t.nbytes, d.typeName(), d.startNanos(), d.stopNanos(),
                d.inlineValue(), d.thread()));
        releaseDeps(t);
    }

    private void onExecuteFailed(ExecuteFailed f) {
        Task t = tasks.get(f.key());
        if (t == null || t.state != State.EXECUTING) return;
        leaveSlot(t);
        releaseDeps(t);
        move(t, State.ERROR);
        // A task here waiting on this key stays waiting: the scheduler errs or frees it.
        send(new Message.TaskErred(t.key, f.exception(), f.summary(), f.startNanos(), f.stopNanos(), f.thread()));
    }

    /** An ending task frees its slot, unless it gave it up already by seceding. */
    private void leaveSlot(Task t) {
        resources.release(t.needs);
        if (t.seceded) {
            t.seceded = false;
        } else {
            executing--;
        }
    }

    private void onSeceded(String key) {
        Task t = tasks.get(key);
        if (t == null || t.state != State.EXECUTING || t.seceded) return;  // stale or repeated
        t.seceded = true;
        executing--;
        send(new Message.TaskSeceded(key));
    }

    private void onRejoined(String key) {
        Task t = tasks.get(key);
        if (t == null || t.state != State.EXECUTING || !t.seceded) return;
        t.seceded = false;
        executing++;
    }

    /** See {@link WorkerEvent.Relinked}. */
    private void onRelinked(Set<String> running) {
        if (paused) { // a scheduler that registered this worker anew takes it as running
            send(new Message.WorkerStatusChange("paused"));
        }
        // what the scheduler no longer knows is here: queued or failed tasks, executions nothing runs
        List<Task> dropped = new ArrayList<>();
        for (Task t : tasks.values()) {
            if (t.state == null) continue;
            boolean drop = switch (t.state) {
                case WAITING, READY, ERROR -> true;
                case EXECUTING -> !running.contains(t.key);
                default -> false;
            };
            if (drop) dropped.add(t);
        }
        for (Task t : dropped) {
            if (t.state == State.READY) unready(t);
            if (t.state == State.EXECUTING) leaveSlot(t);
            for (Task d : t.deps) {
                if (d.dependents != null) d.dependents.remove(t);
            }
            t.deps = List.of();
        }
        // each dropped task's dependents wait on it, so they are dropped too
        for (Task t : dropped) forget(t);
        // inputs no task here needs any more; transfers under way end as usual and are dropped then
        for (Task t : new ArrayList<>(tasks.values())) {
            if (t.hasDependents() || t.state == null) continue;
            switch (t.state) {
                case FETCH -> {
                    leaveFetch(t);
                    forget(t);
                }
                case MISSING -> forget(t);
                case FLIGHT -> t.deferred = null;
                case MEMORY -> {
                    if (t.freed) {
                        dropMemory(t);
                        forget(t);
                    }
                }
                default -> { }
            }
        }
    }

    private void onFetchDone(String peer, Map<String, Long> nbytes, List<String> missing) {
        Map<String, Long> added = new LinkedHashMap<>();
        for (Map.Entry<String, Long> e : nbytes.entrySet()) {
            String key = e.getKey();
            long nb = e.getValue() == null ? 0 : e.getValue();
            Task t = tasks.get(key);
            if (t == null) {
                out.add(new DropData(key));
                continue;
            }
            switch (t.state) {
                case FLIGHT, FETCH, MISSING -> arrived(t, nb, added);
                case WAITING, READY, ERROR -> out.add(new DropData(key));  // not asked for; it is computed here
                case MEMORY, EXECUTING -> { }  // same data already held, or about to be replaced
            }
        }
        for (String key : missing) {
            Task t = tasks.get(key);
            if (t != null) lostFrom(t, peer);
        }
        requestEnded(peer);
        if (!added.isEmpty()) send(new Message.AddKeys(added));
    }

    private void onFetchFailed(String peer, List<String> keys) {
        for (String key : keys) {
            Task t = tasks.get(key);
            if (t != null) lostFrom(t, peer);
        }
        requestEnded(peer);
    }

    private void onDataAdded(Map<String, Long> nbytes) {
        Map<String, Long> added = new LinkedHashMap<>();
        for (Map.Entry<String, Long> e : nbytes.entrySet()) {
            long nb = e.getValue() == null ? 0 : Math.max(0, e.getValue());
            Task t = tasks.get(e.getKey());
            if (t == null) {
                t = newTask(e.getKey(), Long.MAX_VALUE);
                toMemory(t, nb);
                added.put(t.key, t.nbytes);
                continue;
            }
            switch (t.state) {
                case MEMORY -> {
                    memoryBytes += nb - t.nbytes;
                    t.nbytes = nb;
                }
                case EXECUTING -> { }  // its result will replace it
                case WAITING, READY -> {
                    if (t.state == State.READY) unready(t);
                    releaseDeps(t);
                    toMemory(t, nb);
                    send(new Message.TaskFinished(t.key, t.nbytes, null, 0, 0, null));
                }
                case FETCH, FLIGHT, MISSING, ERROR -> {
                    if (t.state == State.FETCH) leaveFetch(t);
                    if (t.state == State.FLIGHT) leaveFlight(t);
                    if (t.deferred != null) {
                        t.run = t.deferred.run();
                        t.clientId = lastClient = same(t.deferred.clientId(), lastClient);
                        t.deferred = null;
                        toMemory(t, nb);
                        send(new Message.TaskFinished(t.key, t.nbytes, null, 0, 0, null));
                    } else {
                        toMemory(t, nb);
                        added.put(t.key, t.nbytes);
                    }
                }
            }
        }
        if (!added.isEmpty()) send(new Message.AddKeys(added));
    }

    private void onTick(long now) {
        if (heartbeatSent && now - lastHeartbeat < config.heartbeatIntervalNanos()) return;
        heartbeatSent = true;
        lastHeartbeat = now;
        send(new Message.Heartbeat(memoryBytes, executing, ready.size() + constrained.size(), inMemory));
    }

    // ------------------------------------------------------------------ transitions

    private Task newTask(String key, long priority) {
        Task t = new Task(key, nextSeq++, priority);
        tasks.put(key, t);
        return t;
    }

    private void forget(Task t) {
        tasks.remove(t.key);
        if (moves != null) {
            moves.add(new String[]{t.key, label(t, t.state), "forgotten"});
        }
    }

    // ------------------------------------------------------------------ transitions, for plugins

    /** Transitions since the last {@link #drainTransitions()}; null while nobody watches. */
    private List<String[]> moves;

    /** Starts or stops recording each key's state changes (for worker plugins); off, it costs nothing. */
    public void watchTransitions(boolean on) {
        moves = on ? (moves == null ? new ArrayList<>() : moves) : null;
    }

    /** The transitions recorded since the last call, each {key, from, to} in dask's state names; empty when off. */
    public List<String[]> drainTransitions() {
        if (moves == null || moves.isEmpty()) {
            return List.of();
        }
        List<String[]> out = moves;
        moves = new ArrayList<>();
        return out;
    }

    private void move(Task t, State to) {
        if (moves != null && t.state != to) {
            String from = label(t, t.state);
            if (t.state == null && to == State.READY) {
                moves.add(new String[]{t.key, from, "waiting"}); // dask's tasks pass through waiting
                from = "waiting";
            }
            moves.add(new String[]{t.key, from, label(t, to)});
        }
        t.state = to;
    }

    /** dask's name of a key's state; released for none, constrained for a ready task that needs resources. */
    private static String label(Task t, State s) {
        return s == null ? "released" : s == State.MISSING ? "missing"
                : s == State.READY && t.needs != null ? "constrained" : s.label;
    }

    /**
     * The span and the client of the last task received. Each decoded message brings its own copy of
     * both: the tasks of one span or client share the instance kept here (a worker holding a million
     * results held a million copies of its client's id; a span's hash is computed once, compared by identity).
     */
    private String lastSpan, lastClient;

    /** {@code s}, or {@code last} when they are equal: the instance to keep. */
    private static String same(String s, String last) {
        return s != null && s.equals(last) ? last : s;
    }

    /** Records a compute request: inputs are linked, missing ones fetched; then waiting or ready. */
    private void becomeTask(Task t, Message.ComputeTask ct) {
        t.run = ct.run();
        t.clientId = lastClient = same(ct.clientId(), lastClient);
        t.span = lastSpan = same(ct.span(), lastSpan);
        t.deferred = null;
        t.freed = false;
        t.flightPeer = null;
        t.failedPeers = null;
        t.priority = ct.priority();  // in no ordered set here
        t.needs = resources.relevant(ct.resources());
        Map<String, List<String>> whoHas = orEmpty(ct.whoHas());
        Map<String, Long> sizes = orEmpty(ct.nbytes());
        List<String> depKeys = List.copyOf(whoHas.keySet());
        List<Task> deps = new ArrayList<>(depKeys.size());
        int missing = 0;
        for (String dk : depKeys) {
            Task d = tasks.get(dk);
            if (d == null) d = newTask(dk, t.priority);
            deps.add(d);
            d.dependents().add(t);
            if (d.state != State.MEMORY) {
                Long nb = sizes.get(dk);
                if (nb != null) d.nbytes = nb;
                addHolders(d, whoHas.get(dk));
                if (t.priority < d.priority) setPriority(d, t.priority);
                missing++;
                needData(d);
            }
        }
        t.depKeys = depKeys;
        t.deps = deps;
        t.missingDeps = missing;
        if (missing == 0) {
            toReady(t);
        } else {
            move(t, State.WAITING);
        }
    }

    /** An input that is not here: fetch it, or wait for holders. Local producers are waited for. */
    private void needData(Task d) {
        if (d.state == null || d.state == State.ERROR) {
            d.run = null;
            if (d.hasHolders()) toFetch(d);
            else toMissing(d);
        } else if (d.state == State.MISSING && d.hasHolders()) {
            toFetch(d);
        }
    }

    private void toReady(Task t) {
        move(t, State.READY);
        t.readyAt = now;
        (t.needs == null ? ready : constrained).add(t);
    }

    private void unready(Task t) {
        (t.needs == null ? ready : constrained).remove(t);
    }

    private void toMemory(Task t, long nbytes) {
        move(t, State.MEMORY);
        t.nbytes = Math.max(0, nbytes);
        t.failedPeers = null;
        memoryBytes += t.nbytes;
        inMemory++;
        if (t.dependents != null) {
            for (Task d : t.dependents) {
                if (--d.missingDeps == 0 && d.state == State.WAITING) toReady(d);
            }
        }
    }

    private void dropMemory(Task t) {
        memoryBytes -= t.nbytes;
        inMemory--;
        move(t, null);
        out.add(new DropData(t.key));
    }

    /** A task here no longer needs its inputs (it finished or was freed). */
    private void releaseDeps(Task t) {
        for (Task d : t.deps) {
            d.dependents.remove(t);
            if (!d.hasDependents()) releaseUnneeded(d);
        }
        t.deps = List.of();
    }

    private void releaseUnneeded(Task d) {
        switch (d.state) {
            case FETCH -> {
                leaveFetch(d);
                forget(d);
            }
            case MISSING -> forget(d);
            case MEMORY -> {
                if (d.freed) {
                    dropMemory(d);
                    forget(d);
                }
            }
            default -> { }  // in flight: decided on arrival; tasks of their own stay
        }
    }

    /**
     * Starts the most important ready tasks while threads are free: a task needing resources
     * competes by priority with the others when its resources are free, and is passed over
     * (not blocking the rest) when they are not.
     */
    private void startReady() {
        while (!paused && !closing && executing < nthreads) {
            Task t = ready.isEmpty() ? null : ready.first();
            Task c = constrained.isEmpty() ? null : firstFitting(t);
            if (c != null) {
                constrained.remove(c);
                resources.acquire(c.needs);
                t = c;
            } else if (t != null) {
                ready.pollFirst();
            } else {
                break;
            }
            move(t, State.EXECUTING);
            executing++;
            out.add(new Execute(t.key, t.run, t.depKeys, t.clientId, !t.blamed, t.span));
            t.blamed = true;
        }
    }

    /** The first constrained task ahead of {@code rival} (or of all, when null) whose resources are free. */
    private Task firstFitting(Task rival) {
        for (Task c : constrained) {
            if (rival != null && ORDER.compare(c, rival) > 0) {
                return null;
            }
            if (resources.fits(c.needs)) {
                return c;
            }
        }
        return null;
    }

    /**
     * Corrects the scheduler's assumption about a task it just sent: one sent as starting at once
     * that waits here is reported queued; one sent as queued that runs already (asked again while
     * executing) is reported started.
     */
    private void reportPlacement(Task t) {
        if (t.state == null) return;
        switch (t.state) {
            case EXECUTING -> {
                if (!t.blamed) {
                    t.blamed = true;
                    send(new Message.TasksStarted(List.of(t.key)));
                }
                if (t.seceded) {
                    // asked again (after a re-registration): the scheduler must not count its slot as taken
                    send(new Message.TaskSeceded(t.key));
                }
            }
            case WAITING, READY, FLIGHT -> {
                if (t.blamed) {
                    t.blamed = false;
                    send(new Message.TasksQueued(List.of(t.key)));
                }
            }
            default -> { }  // finished or failed: its report says so
        }
    }

    private void setPriority(Task t, long priority) {
        if (t.priority == priority) return;
        boolean inReady = t.state == State.READY;
        boolean inFetch = t.state == State.FETCH;
        if (inReady) unready(t);
        if (inFetch) leaveFetch(t);
        t.priority = priority;
        if (inReady) toReady(t);
        if (inFetch) toFetch(t);
    }

    private void send(Message m) {
        out.add(new SendToScheduler(m));
    }

    // ------------------------------------------------------------------ fetching

    private void mergeWhoHas(Message.ComputeTask ct) {
        for (Map.Entry<String, List<String>> e : orEmpty(ct.whoHas()).entrySet()) {
            Task d = tasks.get(e.getKey());
            if (d == null || d.state == State.MEMORY) continue;
            addHolders(d, e.getValue());
            if (d.state == State.MISSING && d.hasHolders() && d.hasDependents()) toFetch(d);
        }
    }

    private void addHolders(Task t, List<String> peers) {
        if (peers == null) return;
        for (String p : peers) {
            if (p == null || p.equals(address)) continue;
            if (t.holders().add(p) && t.state == State.FETCH) {
                wantedFrom.computeIfAbsent(p, k -> new TreeSet<>(ORDER)).add(t);
            }
        }
    }

    private void toFetch(Task t) {
        move(t, State.FETCH);
        fetchQueue.add(t);
        for (String p : t.holders) {
            wantedFrom.computeIfAbsent(p, k -> new TreeSet<>(ORDER)).add(t);
        }
    }

    private void leaveFetch(Task t) {
        fetchQueue.remove(t);
        if (t.holders == null) return;
        for (String p : t.holders) unwant(p, t);
    }

    private void unwant(String peer, Task t) {
        TreeSet<Task> set = wantedFrom.get(peer);
        if (set != null && set.remove(t) && set.isEmpty()) wantedFrom.remove(peer);
    }

    private void leaveFlight(Task t) {
        Set<Task> set = flightFrom.get(t.flightPeer);
        if (set != null && set.remove(t) && set.isEmpty()) flightFrom.remove(t.flightPeer);
        t.flightPeer = null;
    }

    /** No holder left: tell the scheduler about each peer that failed, then wait for who-has. */
    private void toMissing(Task t) {
        move(t, State.MISSING);
        if (t.failedPeers == null || t.failedPeers.isEmpty()) {
            send(new Message.MissingData(t.key, ""));
        } else {
            for (String p : t.failedPeers) send(new Message.MissingData(t.key, p));
        }
        t.failedPeers = null;
    }

    /** Data for an input arrived (usually the one in flight). */
    private void arrived(Task t, long nbytes, Map<String, Long> added) {
        if (t.state == State.FLIGHT) leaveFlight(t);
        if (t.state == State.FETCH) leaveFetch(t);
        if (!t.hasDependents() && t.deferred == null) {
            out.add(new DropData(t.key));  // every task that wanted it was freed meanwhile
            forget(t);
            return;
        }
        toMemory(t, nbytes);
        if (t.deferred != null) {
            t.run = t.deferred.run();
            t.clientId = lastClient = same(t.deferred.clientId(), lastClient);
            t.deferred = null;
            send(new Message.TaskFinished(t.key, t.nbytes, null, 0, 0, null));
        } else {
            added.put(t.key, t.nbytes);
        }
    }

    /** {@code peer} does not have {@code t} (or cannot be reached): try another holder. */
    private void lostFrom(Task t, String peer) {
        boolean wasHolder = t.holders != null && t.holders.remove(peer);
        if (t.state == State.FETCH) {
            if (!wasHolder) return;
            unwant(peer, t);
            failed(t, peer);
            if (!t.hasHolders()) {
                leaveFetch(t);
                toMissing(t);
            }
            return;
        }
        if (t.state != State.FLIGHT || !peer.equals(t.flightPeer)) return;
        leaveFlight(t);
        failed(t, peer);
        move(t, null);
        if (t.deferred != null) {
            Message.ComputeTask ct = t.deferred;
            becomeTask(t, ct);  // compute it here instead
        } else if (!t.hasDependents()) {
            forget(t);
        } else if (t.hasHolders()) {
            toFetch(t);
        } else {
            toMissing(t);
        }
    }

    private static void failed(Task t, String peer) {
        if (t.failedPeers == null) t.failedPeers = new LinkedHashSet<>(2);
        t.failedPeers.add(peer);
    }

    /** One request to {@code peer} ended; keys it left unanswered count as missing there. */
    private void requestEnded(String peer) {
        Integer n = requestsTo.get(peer);
        if (n != null) {
            requestsInFlight--;
            if (n == 1) requestsTo.remove(peer);
            else requestsTo.put(peer, n - 1);
        }
        if (n == null || n == 1) {
            Set<Task> left = flightFrom.get(peer);
            if (left != null) {
                for (Task t : new ArrayList<>(left)) lostFrom(t, peer);
            }
        }
    }

    private void startFetches() {
        if (fetchQueue.isEmpty()) return;
        Task t = fetchQueue.first();
        // higher(t) still works once t has left the queue: the order is total
        while (t != null && requestsInFlight < config.maxConcurrentFetches()) {
            String peer = choosePeer(t);
            if (peer != null) fetchFrom(peer);
            t = fetchQueue.higher(t);
        }
    }

    /** The least busy holder that can take another request; ties broken by the seeded random. */
    private String choosePeer(Task t) {
        String best = null;
        int bestLoad = Integer.MAX_VALUE;
        int ties = 0;
        for (String p : t.holders) {
            int load = requestsTo.getOrDefault(p, 0);
            if (load >= config.maxConcurrentFetchesPerPeer()) continue;
            if (load < bestLoad) {
                best = p;
                bestLoad = load;
                ties = 1;
            } else if (load == bestLoad && random.nextInt(++ties) == 0) {
                best = p;
            }
        }
        return best;
    }

    /** One request to {@code peer} for its most urgent wanted keys, up to maxFetchBytes. */
    private void fetchFrom(String peer) {
        List<Task> batch = new ArrayList<>();
        long bytes = 0;
        long limit = config.maxFetchBytes();
        for (Task c : wantedFrom.get(peer)) {
            long nb = Math.max(0, c.nbytes);
            if (!batch.isEmpty() && nb > limit - bytes) break;
            batch.add(c);
            bytes += Math.min(nb, limit);
        }
        List<String> keys = new ArrayList<>(batch.size());
        Set<Task> flying = flightFrom.computeIfAbsent(peer, k -> new LinkedHashSet<>());
        for (Task c : batch) {
            leaveFetch(c);
            move(c, State.FLIGHT);
            c.flightPeer = peer;
            flying.add(c);
            keys.add(c.key);
        }
        requestsTo.merge(peer, 1, Integer::sum);
        requestsInFlight++;
        out.add(new Fetch(peer, Collections.unmodifiableList(keys)));
    }

    // ------------------------------------------------------------------ input checks

    private static void validate(WorkerEvent event) {
        if (event == null) throw new IllegalArgumentException("event must not be null");
        switch (event) {
            case Compute c -> {
                Message.ComputeTask ct = c.task();
                if (ct == null) throw new IllegalArgumentException("Compute event carries no ComputeTask");
                if (ct.key() == null) throw new IllegalArgumentException("ComputeTask has no key");
                if (ct.run() == null) {
                    throw new IllegalArgumentException("ComputeTask '" + ct.key() + "' has no run bytes");
                }
                if (ct.whoHas() != null) {
                    for (String dep : ct.whoHas().keySet()) {
                        if (dep == null) {
                            throw new IllegalArgumentException("ComputeTask '" + ct.key() + "' names a null dependency");
                        }
                        if (dep.equals(ct.key())) {
                            throw new IllegalArgumentException("ComputeTask '" + ct.key() + "' depends on itself");
                        }
                    }
                }
            }
            case Free f -> requireKeys(f.keys(), "Free");
            case FetchDone d -> {
                if (d.peer() == null) throw new IllegalArgumentException("FetchDone names no peer");
                if (d.nbytes() != null) requireKeys(d.nbytes().keySet(), "FetchDone.nbytes");
                if (d.missing() != null) requireKeys(d.missing(), "FetchDone.missing");
            }
            case FetchFailed f -> {
                if (f.peer() == null) throw new IllegalArgumentException("FetchFailed names no peer");
                if (f.keys() != null) requireKeys(f.keys(), "FetchFailed");
            }
            case ExecuteDone d -> {
                if (d.key() == null) throw new IllegalArgumentException("ExecuteDone has no key");
            }
            case ExecuteFailed f -> {
                if (f.key() == null) throw new IllegalArgumentException("ExecuteFailed has no key");
            }
            case DataAdded a -> requireKeys(a.nbytes() == null ? null : a.nbytes().keySet(), "DataAdded");
            case WorkerEvent.Steal st -> {
                if (st.key() == null) throw new IllegalArgumentException("StealRequest has no key");
            }
            case Tick t -> { }
            case WorkerEvent.Paused p -> { }
            case WorkerEvent.Closing c -> { }
            case Seceded s -> {
                if (s.key() == null) throw new IllegalArgumentException("Seceded has no key");
            }
            case Rejoined r -> {
                if (r.key() == null) throw new IllegalArgumentException("Rejoined has no key");
            }
            case WorkerEvent.Relinked r -> requireKeys(r.running(), "Relinked.running");
        }
    }

    private static void requireKeys(java.util.Collection<String> keys, String what) {
        if (keys == null) throw new IllegalArgumentException(what + " carries no key list (null)");
        for (String k : keys) {
            if (k == null) throw new IllegalArgumentException(what + " contains a null key");
        }
    }

    private static <T> List<T> orEmpty(List<T> l) {
        return l == null ? List.of() : l;
    }

    private static <K, V> Map<K, V> orEmpty(Map<K, V> m) {
        return m == null ? Map.of() : m;
    }
}
