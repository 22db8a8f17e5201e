package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.*;
import dist.protocol.TaskOptions;
import dist.protocol.TaskSpec;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

import static dist.scheduler.TaskState.*;

/**
 * The scheduler's state machine, without I/O: it takes events and returns the messages to send.
 * One thread owns an instance; time arrives as a value with each event, never from a clock.
 *
 * <p>Tasks move between the states released, waiting, no-worker, processing, memory, erred and
 * forgotten. Each edge is a method named after it ({@code releasedToWaiting},
 * {@code waitingToProcessing}, ...). Transitions return their follow-ups as recommendations that
 * {@link #drain()} applies until none are left, as dask's scheduler does.
 *
 * <pre>{@code
 * SchedulerState s = new SchedulerState(SchedulerConfig.defaults());
 * s.handle(new SchedulerEvent.FromWorker("10.0.0.1:9000",
 *         new Message.RegisterWorker("10.0.0.1:9000", "w1", 4, 1L << 30, 123, Map.of()), 7), now);
 * List<Outgoing> out = s.handle(new SchedulerEvent.FromClient("c1",
 *         new Message.UpdateGraph("c1", List.of(new TaskSpec("inc-1", runBytes, List.of(), 0, null)),
 *                 List.of("inc-1")), 0), now);
 * // out: ComputeTask("inc-1", ...) to 10.0.0.1:9000
 * }</pre>
 *
 * <p>Counting rule for worker deaths: the scheduler cannot tell a task executing on a worker from
 * one queued there, so every task processing on a worker that dies gains a suspicious count.
 */
public final class SchedulerState {

    /** Expected run time of a task whose key prefix has no measurement yet (dask uses 0.5 s too). */
    static final long UNKNOWN_DURATION_NANOS = 500_000_000L;
    /**
     * How much expected work a worker may hold beyond one task per thread before tasks without
     * inputs queue here instead: enough to hide the round trip for tiny tasks, about one task per
     * thread for long ones, so a new or idle worker still finds work to take.
     */
    static final long PIPELINE_NANOS = 20_000_000L;
    /** At most this many tasks beyond one per thread are sent to a worker ahead of time. */
    static final int MAX_PIPELINE = 1000;
    private static final java.util.Comparator<TaskState> QUEUE_ORDER = (a, b) -> {
        int c = Long.compare(a.priority, b.priority);
        return c != 0 ? c : a.key.compareTo(b.key);
    };
    /** Above this many prefixes, prefixes without live tasks are dropped when their last task goes. */
    private static final int PREFIX_SOFT_LIMIT = 10_000;

    private final SchedulerConfig config;
    private final HashMap<String, TaskState> tasks = new HashMap<>();
    private final LinkedHashMap<String, WorkerState> workers = new LinkedHashMap<>();
    private final ArrayList<WorkerState> workerList = new ArrayList<>();
    private final LinkedHashMap<String, ClientState> clients = new LinkedHashMap<>();
    private final LinkedHashSet<TaskState> noWorker = new LinkedHashSet<>();
    /** Runnable tasks without inputs held back while every worker is saturated, lowest priority first. */
    private final TreeSet<TaskState> queued = new TreeSet<>(QUEUE_ORDER);
    private final HashMap<String, TaskPrefix> prefixes = new HashMap<>();

    private final ArrayDeque<TaskState> recTasks = new ArrayDeque<>();
    private final ArrayDeque<Byte> recTargets = new ArrayDeque<>();
    private final LinkedHashMap<WorkerState, ArrayList<String>> pendingFree = new LinkedHashMap<>();
    private ArrayList<Outgoing> out = new ArrayList<>();
    private long now;
    private int roundRobin;
    private long transitions;
    /** Non-null while plugins want every state change. */
    private ArrayList<Transition> recorded;

    public SchedulerState(SchedulerConfig config) {
        this.config = java.util.Objects.requireNonNull(config, "config must not be null");
    }

    public SchedulerConfig config() {
        return config;
    }

    // ================================================================ events

    /** Applies one event at time {@code nowNanos} (a value, never read from a clock) and returns what to send. */
    public List<Outgoing> handle(SchedulerEvent event, long nowNanos) {
        java.util.Objects.requireNonNull(event, "event must not be null");
        now = nowNanos;
        out = new ArrayList<>();
        try {
            switch (event) {
                case SchedulerEvent.FromClient c -> onClient(c.clientId(), c.message(), c.requestId());
                case SchedulerEvent.FromWorker w -> onWorker(w.worker(), w.message(), w.requestId());
                case SchedulerEvent.ClientGone g -> guarded(g.clientId(), 0, () -> clientGone(g.clientId()));
                case SchedulerEvent.WorkerGone g -> guarded(g.worker(), 0, () -> {
                    WorkerState ws = g.worker() == null ? null : workers.get(g.worker());
                    if (ws != null) {
                        removeWorker(ws, g.reason() == null ? "connection closed" : g.reason());
                    }
                });
                case SchedulerEvent.Tick t -> guarded(null, 0, this::checkHeartbeats);
            }
        } finally {
            fillFromQueue();
            flushAllFree();
        }
        List<Outgoing> result = out;
        out = new ArrayList<>();
        return result;
    }

    /** Runs one message's handler; bad input becomes an {@link ErrorReply} to its sender, never a crash. */
    private void guarded(String sender, long requestId, Runnable action) {
        try {
            action.run();
            drain();
        } catch (RuntimeException e) {
            recTasks.clear();
            recTargets.clear();
            if (sender != null) {
                String why = e.getMessage() == null ? e.toString() : e.getMessage();
                out.add(new Outgoing(sender, new ErrorReply(why), requestId));
            }
        }
    }

    private void onClient(String clientId, Message message, long requestId) {
        if (message instanceof Batch b) {
            for (Message part : b.messages()) {
                onClient(clientId, part, requestId);
            }
            return;
        }
        guarded(clientId, requestId, () -> {
            if (clientId == null) {
                throw new IllegalArgumentException("client message without a client id: register the client first");
            }
            switch (message) {
                case RegisterClient r -> {
                    client(clientId);
                    if (requestId != 0) {
                        out.add(new Outgoing(clientId, new Ack(), requestId));
                    }
                }
                case UpdateGraph u -> updateGraph(client(clientId), u);
                case ReleaseKeys r -> releaseKeys(clientId, nonNull(r.keys(), "ReleaseKeys.keys"));
                case CancelKeys c -> cancelKeys(client(clientId), nonNull(c.keys(), "CancelKeys.keys"), c.force());
                case WhoHasRequest w -> out.add(new Outgoing(clientId, new WhoHasReply(
                        whoHas(nonNull(w.keys(), "WhoHasRequest.keys"))), requestId));
                case WorkersRequest w -> out.add(new Outgoing(clientId, new WorkersReply(workerInfos()), requestId));
                case Ping p -> out.add(new Outgoing(clientId, p, requestId));
                case null -> throw new IllegalArgumentException("empty message from client " + clientId);
                default -> throw new IllegalArgumentException("the scheduler does not accept "
                        + message.getClass().getSimpleName() + " from a client");
            }
        });
    }

    private void onWorker(String address, Message message, long requestId) {
        if (message instanceof Batch b) {
            for (Message part : b.messages()) {
                onWorker(address, part, requestId);
            }
            return;
        }
        guarded(address, requestId, () -> {
            if (address == null) {
                throw new IllegalArgumentException("worker message without a worker address");
            }
            if (message instanceof RegisterWorker r) {
                addWorker(address, r, requestId);
                return;
            }
            WorkerState ws = workers.get(address);
            if (ws == null) {
                throw new IllegalArgumentException("unknown worker " + address + ": send RegisterWorker first");
            }
            ws.lastSeen = now;
            switch (message) {
                case Heartbeat h -> ws.memoryBytes = h.memoryBytes();
                case TaskFinished f -> taskFinished(ws, f);
                case TaskErred e -> taskErred(ws, e);
                case TaskSeceded t -> taskSeceded(ws, t.key());
                case MissingData m -> missingData(m.key(), m.worker());
                case AddKeys a -> addKeys(ws, nonNull(a.nbytes(), "AddKeys.nbytes"));
                case KeysReleased k -> keysReleased(ws, nonNull(k.keys(), "KeysReleased.keys"));
                case WhoHasRequest w -> out.add(new Outgoing(address, new WhoHasReply(
                        whoHas(nonNull(w.keys(), "WhoHasRequest.keys"))), requestId));
                case WorkersRequest w -> out.add(new Outgoing(address, new WorkersReply(workerInfos()), requestId));
                case Ping p -> out.add(new Outgoing(address, p, requestId));
                case Ack a -> { }
                case null -> throw new IllegalArgumentException("empty message from worker " + address);
                default -> throw new IllegalArgumentException("the scheduler does not accept "
                        + message.getClass().getSimpleName() + " from a worker");
            }
        });
    }

    private static <T> T nonNull(T value, String what) {
        if (value == null) {
            throw new IllegalArgumentException(what + " is null: send an empty collection instead");
        }
        return value;
    }

    // ================================================================ clients

    private ClientState client(String id) {
        return clients.computeIfAbsent(id, ClientState::new);
    }

    private void updateGraph(ClientState c, UpdateGraph u) {
        List<TaskSpec> specs = nonNull(u.tasks(), "UpdateGraph.tasks");
        List<String> wanted = nonNull(u.wanted(), "UpdateGraph.wanted");
        for (int i = 0; i < specs.size(); i++) {
            TaskSpec s = specs.get(i);
            if (s == null || s.key() == null) {
                throw new IllegalArgumentException("UpdateGraph.tasks[" + i + "] has no key: every task needs a key");
            }
        }
        ArrayList<TaskState> created = new ArrayList<>();
        ArrayList<TaskSpec> createdSpecs = new ArrayList<>();
        for (TaskSpec s : specs) {
            if (tasks.containsKey(s.key())) {
                continue; // same key: the same computation, done once
            }
            TaskPrefix p = prefixes.computeIfAbsent(TaskPrefix.of(s.key()), TaskPrefix::new);
            p.live++;
            TaskState ts = new TaskState(s.key(), s.run(), s.priority(), s.options(), p);
            ts.submitter = c.id;
            tasks.put(s.key(), ts);
            created.add(ts);
            createdSpecs.add(s);
        }
        for (int i = 0; i < created.size(); i++) {
            link(created.get(i), createdSpecs.get(i).dependencies());
        }
        for (String key : wanted) {
            TaskState ts = key == null ? null : tasks.get(key);
            if (ts == null) {
                out.add(Outgoing.send(c.id, new KeyCancelled(key, "unknown key " + key
                        + ": it is neither in this update nor known to the scheduler; submit its task again")));
                continue;
            }
            if (c.wants.add(ts)) {
                ts.addWanter(c);
            }
            switch (ts.state) {
                case MEMORY -> out.add(Outgoing.send(c.id, new KeyInMemory(ts.key, holders(ts), ts.nbytes, null)));
                case ERRED -> out.add(Outgoing.send(c.id, keyErred(ts)));
                case RELEASED -> recommend(ts, WAITING);
                default -> { }
            }
        }
        for (TaskState ts : created) {
            recommendCleanup(ts);
        }
    }

    /** Connects a new task to its dependencies; a missing dependency makes it erred at once. */
    private void link(TaskState ts, List<String> depKeys) {
        if (depKeys == null || depKeys.isEmpty()) {
            return;
        }
        LinkedHashSet<TaskState> deps = new LinkedHashSet<>();
        List<String> missing = null;
        for (String k : depKeys) {
            TaskState d = k == null ? null : tasks.get(k);
            if (d == null || d == ts) {
                if (missing == null) {
                    missing = new ArrayList<>();
                }
                missing.add(String.valueOf(k));
            } else {
                deps.add(d);
            }
        }
        if (missing != null) {
            Trouble tr = ts.trouble();
            tr.summary = "missing dependencies of " + ts.key + ": " + String.join(", ", missing)
                    + " (neither in this update nor known to the scheduler; submit them in the same update)";
            tr.causeKey = ts.key;
            note(ts, ts.state, ERRED);
            ts.state = ERRED;
            transitions++;
            return;
        }
        ts.deps = deps.toArray(TaskState.NO_DEPS);
        for (TaskState d : ts.deps) {
            if (d.dependents == null) {
                d.dependents = new LinkedHashSet<>();
            }
            d.dependents.add(ts);
        }
    }

    private void releaseKeys(String clientId, List<String> keys) {
        ClientState c = clients.get(clientId);
        if (c == null) {
            return;
        }
        for (String key : keys) {
            TaskState ts = key == null ? null : tasks.get(key);
            if (ts != null && c.wants.remove(ts)) {
                ts.removeWanter(c);
                recommendCleanup(ts);
            }
        }
    }

    private void clientGone(String clientId) {
        ClientState c = clientId == null ? null : clients.remove(clientId);
        if (c == null) {
            return;
        }
        for (TaskState ts : c.wants) {
            ts.removeWanter(c);
            recommendCleanup(ts);
        }
        c.wants.clear();
    }

    private void cancelKeys(ClientState c, List<String> keys, boolean force) {
        // every cancelled task with the key it was cancelled through
        LinkedHashMap<TaskState, String> closure = new LinkedHashMap<>();
        for (String key : keys) {
            TaskState ts = key == null ? null : tasks.get(key);
            if (ts == null || closure.containsKey(ts)) {
                continue;
            }
            if (!force && wantedByOthers(ts, c)) {
                // other clients still want it: cancel only this client's interest
                if (c.wants.remove(ts)) {
                    ts.removeWanter(c);
                }
                out.add(Outgoing.send(c.id, new KeyCancelled(ts.key, "cancelled by client " + c.id)));
                recommendCleanup(ts);
                continue;
            }
            ArrayDeque<TaskState> todo = new ArrayDeque<>();
            todo.add(ts);
            closure.put(ts, ts.key);
            while (!todo.isEmpty()) {
                TaskState t = todo.poll();
                if (t.dependents != null) {
                    for (TaskState dt : t.dependents) {
                        if (closure.putIfAbsent(dt, ts.key) == null) {
                            todo.add(dt);
                        }
                    }
                }
            }
        }
        for (Map.Entry<TaskState, String> e : closure.entrySet()) {
            TaskState t = e.getKey();
            String reason = t.key.equals(e.getValue()) ? "cancelled by client " + c.id
                    : "cancelled: it depends on " + e.getValue() + ", cancelled by client " + c.id;
            if (t.wantedBy != null) {
                for (ClientState w : t.wantedBy) {
                    w.wants.remove(t);
                    out.add(Outgoing.send(w.id, new KeyCancelled(t.key, reason)));
                }
                t.wantedBy = null;
            }
        }
        ArrayList<TaskState> order = new ArrayList<>(closure.keySet());
        Collections.reverse(order); // dependents first, so their inputs are free to go
        for (TaskState t : order) {
            recommend(t, FORGOTTEN);
        }
    }

    private static boolean wantedByOthers(TaskState ts, ClientState c) {
        if (ts.wantedBy != null) {
            for (ClientState w : ts.wantedBy) {
                if (w != c) {
                    return true;
                }
            }
        }
        return false;
    }

    // ================================================================ workers

    private void addWorker(String address, RegisterWorker r, long requestId) {
        WorkerState old = workers.get(address);
        if (old != null) {
            // a new process at a known address: what the old one was running or holding is gone
            // unless the new one reports holding it below
            removeWorker(old, "worker re-registered at the same address");
        }
        WorkerState ws = workers.get(address);
        if (ws == null) {
            ws = new WorkerState(address);
            ws.index = workerList.size();
            workers.put(address, ws);
            workerList.add(ws);
        }
        ws.name = r.name() == null || r.name().isEmpty() ? address : r.name();
        ws.nthreads = Math.max(1, r.nthreads());
        ws.memoryLimit = r.memoryLimit();
        ws.pid = r.pid();
        ws.lastSeen = now;
        out.add(new Outgoing(address, new WorkerAccepted(config.schedulerId(), config.heartbeatIntervalMillis()),
                requestId));
        if (r.heldKeys() != null) {
            for (Map.Entry<String, Long> e : r.heldKeys().entrySet()) {
                acceptHeld(ws, e.getKey(), e.getValue() == null ? -1 : e.getValue());
            }
        }
        for (TaskState ts : new ArrayList<>(noWorker)) {
            recommend(ts, PROCESSING);
        }
    }

    /** A worker says it holds {@code key}: keep it if the key is useful, else tell the worker to drop it. */
    private void acceptHeld(WorkerState ws, String key, long nbytes) {
        TaskState ts = key == null ? null : tasks.get(key);
        if (ts == null || ts.state == ERRED) {
            queueFree(ws, String.valueOf(key));
        } else if (ts.state == MEMORY) {
            if (ts.addHolder(ws)) {
                ws.hasWhat.add(ts);
            }
            if (ts.nbytes < 0) {
                ts.nbytes = nbytes;
            }
        } else if (ts.needed()) {
            becomeMemoryOn(ts, ws, nbytes, null);
        } else {
            queueFree(ws, key);
        }
    }

    private void checkHeartbeats() {
        long timeout = config.workerTimeout().toNanos();
        for (WorkerState ws : new ArrayList<>(workerList)) {
            long silent = now - ws.lastSeen;
            if (silent > timeout) {
                String reason = "no heartbeat for " + silent / 1_000_000 + " ms (timeout "
                        + config.workerTimeout().toMillis() + " ms)";
                out.add(Outgoing.send(ws.address, new CloseWorker(reason)));
                removeWorker(ws, reason);
                drain();
            }
        }
    }

    /** A worker is gone: re-place its work, recompute what only it held and someone still needs. */
    private void removeWorker(WorkerState ws, String reason) {
        workers.remove(ws.address);
        workerList.remove(ws);
        for (int i = 0; i < workerList.size(); i++) {
            workerList.get(i).index = i;
        }
        pendingFree.remove(ws);
        ArrayList<TaskState> lost = new ArrayList<>();
        for (TaskState ts : ws.hasWhat) {
            ts.removeHolder(ws);
            if (ts.whoHas == null && ts.state == MEMORY) {
                lost.add(ts);
            }
        }
        ws.hasWhat.clear();
        for (TaskState ts : lost) {
            memoryLost(ts, ws.address);
        }
        ArrayList<TaskState> running = new ArrayList<>(ws.processing);
        for (TaskState ts : running) {
            detachProcessing(ts, false);
            Trouble tr = ts.trouble();
            tr.suspicious++;
            if (tr.killedOn == null) {
                tr.killedOn = new ArrayList<>(2);
            }
            tr.killedOn.add(ws.address);
            tr.lastReason = reason;
            if (tr.suspicious > config.allowedFailures()) {
                String summary = "KilledWorker: task " + ts.key + " was running on workers that died: "
                        + String.join(", ", tr.killedOn) + "; last reason: " + reason;
                toErred(ts, null, summary, ts.key);
            } else {
                becomeWaiting(ts);
            }
        }
        ws.processing.clear();
        ws.occupancy = 0;
    }

    private void taskFinished(WorkerState ws, TaskFinished f) {
        TaskState ts = f.key() == null ? null : tasks.get(f.key());
        if (ts == null) {
            queueFree(ws, String.valueOf(f.key()));
            return;
        }
        switch (ts.state) {
            case PROCESSING -> processingToMemory(ts, ws, f);
            case MEMORY -> {
                if (ts.addHolder(ws)) {
                    ws.hasWhat.add(ts);
                }
            }
            case ERRED, RELEASED -> {
                if (ts.state == RELEASED && ts.needed()) {
                    becomeMemoryOn(ts, ws, f.nbytes(), f.value());
                } else {
                    queueFree(ws, ts.key);
                }
            }
            default -> becomeMemoryOn(ts, ws, f.nbytes(), f.value());
        }
    }

    private void taskErred(WorkerState ws, TaskErred e) {
        TaskState ts = e.key() == null ? null : tasks.get(e.key());
        if (ts == null || ts.state != PROCESSING || ts.processingOn != ws) {
            return; // stale: the task was released, cancelled or moved meanwhile
        }
        Trouble tr = ts.trouble();
        tr.failures++;
        int retries = ts.options == null ? 0 : ts.options.retries();
        if (tr.failures <= retries) {
            processingToWaiting(ts);
        } else {
            String summary = e.summary() == null ? "task " + ts.key + " failed" : e.summary();
            toErred(ts, e.exception(), summary, ts.key);
        }
    }

    private void missingData(String key, String worker) {
        TaskState ts = key == null ? null : tasks.get(key);
        WorkerState ws = worker == null ? null : workers.get(worker);
        if (ts != null && ws != null) {
            dropHolder(ts, ws);
        }
    }

    private void keysReleased(WorkerState ws, List<String> keys) {
        for (String key : keys) {
            TaskState ts = key == null ? null : tasks.get(key);
            if (ts != null) {
                dropHolder(ts, ws);
            }
        }
    }

    private void dropHolder(TaskState ts, WorkerState ws) {
        if (ts.removeHolder(ws)) {
            ws.hasWhat.remove(ts);
            if (ts.whoHas == null && ts.state == MEMORY) {
                memoryLost(ts, ws.address);
            }
        }
    }

    private void addKeys(WorkerState ws, Map<String, Long> nbytes) {
        for (Map.Entry<String, Long> e : nbytes.entrySet()) {
            acceptHeld(ws, e.getKey(), e.getValue() == null ? -1 : e.getValue());
        }
    }

    // ================================================================ recommendations

    private void recommend(TaskState ts, byte target) {
        recTasks.add(ts);
        recTargets.add(target);
    }

    /** Applies recommendations until none are left. */
    private void drain() {
        TaskState ts;
        while ((ts = recTasks.poll()) != null) {
            transition(ts, recTargets.poll());
        }
    }

    /** If nobody needs {@code ts} any more, recommend letting it go. */
    private void recommendCleanup(TaskState ts) {
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
            default -> { }
        }
    }

    private void transition(TaskState ts, byte target) {
        byte s = ts.state;
        if (s == target || s == FORGOTTEN) {
            return;
        }
        switch (target) {
            case WAITING -> {
                switch (s) {
                    case RELEASED -> {
                        if (ts.needed()) { // a dependent may have failed since this was recommended
                            releasedToWaiting(ts);
                        }
                    }
                    case PROCESSING -> processingToWaiting(ts);
                    case NO_WORKER -> noWorkerToWaiting(ts);
                    case QUEUED -> queuedToWaiting(ts);
                    default -> { }
                }
            }
            case PROCESSING -> {
                switch (s) {
                    case WAITING -> waitingToProcessing(ts);
                    case NO_WORKER -> noWorkerToProcessing(ts);
                    default -> { }
                }
            }
            case RELEASED -> {
                if (ts.needed()) {
                    return; // wanted again meanwhile
                }
                switch (s) {
                    case MEMORY -> memoryToReleased(ts);
                    case WAITING -> waitingToReleased(ts);
                    case NO_WORKER -> noWorkerToReleased(ts);
                    case QUEUED -> queuedToReleased(ts);
                    case PROCESSING -> processingToReleased(ts);
                    case ERRED -> erredToReleased(ts);
                    default -> { }
                }
            }
            case FORGOTTEN -> {
                if (ts.needed()) {
                    return;
                }
                if (s != RELEASED) {
                    transition(ts, RELEASED);
                }
                if (ts.state == RELEASED && !ts.hasDependents()) {
                    releasedToForgotten(ts);
                }
            }
            default -> throw new IllegalStateException("no transition to " + name(target));
        }
    }

    /** Sets the state and keeps the dependency counters ({@code waiters}, {@code waitingOn}) exact. */
    private void setState(TaskState ts, byte to) {
        byte from = ts.state;
        note(ts, from, to);
        ts.state = to;
        transitions++;
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
        if ((from == MEMORY) != (to == MEMORY) && ts.dependents != null) {
            for (TaskState dt : ts.dependents) {
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

    private void releasedToWaiting(TaskState ts) {
        becomeWaiting(ts);
    }

    private void processingToWaiting(TaskState ts) {
        detachProcessing(ts, true);
        becomeWaiting(ts);
    }

    private void noWorkerToWaiting(TaskState ts) {
        noWorker.remove(ts);
        becomeWaiting(ts);
    }

    /** Enters waiting: counts inputs not in memory, asks for those that are released, errs on an erred input. */
    private void becomeWaiting(TaskState ts) {
        for (TaskState d : ts.deps) {
            if (d.state == ERRED) {
                Trouble c = d.trouble;
                toErred(ts, c == null ? null : c.exception, c == null ? "dependency " + d.key + " failed" : c.summary,
                        c == null || c.causeKey == null ? d.key : c.causeKey);
                return;
            }
        }
        if (ts.run == null) {
            // data without a recipe (scattered): it arrives from a worker (AddKeys) or, once lost, never
            if (ts.nbytes >= 0) {
                toErred(ts, null, "data for key " + ts.key + " was scattered and lost with its workers; it has no "
                        + "recipe to recompute it (replicate scattered data to keep copies alive)", ts.key);
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

    private void waitingToProcessing(TaskState ts) {
        if (ts.waitingOn != 0) {
            return;
        }
        if (queueable(ts) && !workerList.isEmpty()) {
            WorkerState ws = roomiest(ts);
            if (ws == null || !queued.isEmpty()) {
                waitingToQueued(ts); // behind earlier queued work, or every worker is saturated
            } else {
                sendToWorker(ts, ws);
            }
            return;
        }
        WorkerState ws = decideWorker(ts);
        if (ws == null) {
            waitingToNoWorker(ts);
        } else {
            sendToWorker(ts, ws);
        }
    }

    /** Tasks without inputs or restrictions may wait here rather than on a worker. */
    private static boolean queueable(TaskState ts) {
        return ts.deps.length == 0 && (ts.options == null || ts.options.workers() == null
                || ts.options.workers().isEmpty());
    }

    /** How many tasks a worker may hold, judged by the expected duration of {@code next}'s kind. */
    private static int saturation(WorkerState ws, TaskState next) {
        long expected = Math.max(1, next.prefix.expected(UNKNOWN_DURATION_NANOS));
        return ws.nthreads + (int) Math.min(MAX_PIPELINE, PIPELINE_NANOS / expected);
    }

    /** The least busy worker (per thread) that still has room, ties round-robin; null when all are full. */
    private WorkerState roomiest(TaskState next) {
        int n = workerList.size();
        if (n == 0) {
            return null;
        }
        int start = Math.floorMod(roundRobin, n);
        WorkerState best = null;
        int bestAt = 0;
        for (int i = 0; i < n; i++) {
            int at = (start + i) % n;
            WorkerState w = workerList.get(at);
            if (w.busy() < saturation(w, next) && (best == null || w.load() < best.load())) {
                best = w;
                bestAt = at;
            }
        }
        if (best != null) {
            roundRobin = bestAt + 1;
        }
        return best;
    }

    private void waitingToQueued(TaskState ts) {
        setState(ts, QUEUED);
        queued.add(ts);
    }

    private void queuedToWaiting(TaskState ts) {
        queued.remove(ts);
        becomeWaiting(ts);
    }

    private void queuedToReleased(TaskState ts) {
        queued.remove(ts);
        setState(ts, RELEASED);
        recommendCleanup(ts);
    }

    /** Sends queued tasks to workers with room, in priority order; runs after every event. */
    private void fillFromQueue() {
        while (!queued.isEmpty()) {
            TaskState head = queued.first();
            WorkerState ws = roomiest(head);
            if (ws == null) {
                return;
            }
            queued.pollFirst();
            sendToWorker(head, ws);
        }
        drain();
    }

    private void waitingToNoWorker(TaskState ts) {
        setState(ts, NO_WORKER);
        noWorker.add(ts);
    }

    private void noWorkerToProcessing(TaskState ts) {
        WorkerState ws = decideWorker(ts);
        if (ws != null) {
            noWorker.remove(ts);
            sendToWorker(ts, ws);
        }
    }

    private void sendToWorker(TaskState ts, WorkerState ws) {
        setState(ts, PROCESSING);
        ts.processingOn = ws;
        ts.expectedNanos = ts.prefix.expected(UNKNOWN_DURATION_NANOS);
        ws.occupancy += ts.expectedNanos;
        ws.processing.add(ts);
        Map<String, List<String>> who;
        Map<String, Long> sizes;
        if (ts.deps.length == 0) {
            who = Map.of();
            sizes = Map.of();
        } else {
            who = new LinkedHashMap<>();
            sizes = new LinkedHashMap<>();
            for (TaskState d : ts.deps) {
                who.put(d.key, holders(d));
                sizes.put(d.key, d.nbytes);
            }
        }
        flushFree(ws); // a FreeKeys for this key must reach the worker before the new ComputeTask
        out.add(Outgoing.send(ws.address, new ComputeTask(ts.key, ts.run, who, sizes, ts.priority)));
    }

    private void processingToMemory(TaskState ts, WorkerState ws, TaskFinished f) {
        WorkerState was = ts.processingOn;
        detachProcessing(ts, false);
        if (was != ws && was != null && workers.get(was.address) == was) {
            queueFree(was, ts.key); // it finished elsewhere first; drop the other copy of the work
        }
        if (f.stopNanos() > f.startNanos()) {
            ts.prefix.record(f.stopNanos() - f.startNanos());
        }
        becomeMemoryOn(ts, ws, f.nbytes(), f.value());
    }

    /** The result of {@code ts} now lives on {@code ws}; clients that want it hear so. */
    private void becomeMemoryOn(TaskState ts, WorkerState ws, long nbytes, byte[] value) {
        if (ts.state == PROCESSING) {
            detachProcessing(ts, true);
        } else if (ts.state == NO_WORKER) {
            noWorker.remove(ts);
        } else if (ts.state == QUEUED) {
            queued.remove(ts);
        }
        ts.nbytes = nbytes;
        if (ts.addHolder(ws)) {
            ws.hasWhat.add(ts);
        }
        if (ts.trouble != null && ts.trouble.summary == null) {
            ts.trouble = null; // retries and suspicion are settled once the result exists
        }
        setState(ts, MEMORY);
        if (ts.wantedBy != null) {
            byte[] inline = value != null && value.length <= config.inlineResultLimit() ? value : null;
            List<String> where = List.of(ws.address);
            for (ClientState c : ts.wantedBy) {
                out.add(Outgoing.send(c.id, new KeyInMemory(ts.key, where, nbytes, inline)));
            }
        }
        recommendCleanup(ts);
    }

    /** The last copy of a result disappeared. */
    private void memoryLost(TaskState ts, String lastHolder) {
        setState(ts, RELEASED);
        if (ts.run == null) {
            if (ts.needed()) {
                toErred(ts, null, "data for key " + ts.key + " was scattered and lost with worker " + lastHolder
                        + "; it has no recipe to recompute it (replicate scattered data to keep copies alive)", ts.key);
            } else {
                recommendCleanup(ts);
            }
            return;
        }
        if (ts.needed()) {
            recommend(ts, WAITING); // recompute from its recipe
        } else {
            recommendCleanup(ts);
        }
    }

    private void memoryToReleased(TaskState ts) {
        if (ts.whoHas != null) {
            for (WorkerState ws : ts.whoHas) {
                ws.hasWhat.remove(ts);
                queueFree(ws, ts.key);
            }
            ts.whoHas = null;
        }
        setState(ts, RELEASED);
        recommendCleanup(ts);
    }

    private void waitingToReleased(TaskState ts) {
        setState(ts, RELEASED);
        recommendCleanup(ts);
    }

    private void noWorkerToReleased(TaskState ts) {
        noWorker.remove(ts);
        setState(ts, RELEASED);
        recommendCleanup(ts);
    }

    private void processingToReleased(TaskState ts) {
        detachProcessing(ts, true);
        setState(ts, RELEASED);
        recommendCleanup(ts);
    }

    private void erredToReleased(TaskState ts) {
        ts.trouble = null;
        setState(ts, RELEASED);
        recommendCleanup(ts);
    }

    private void releasedToForgotten(TaskState ts) {
        note(ts, ts.state, FORGOTTEN);
        ts.state = FORGOTTEN;
        transitions++;
        tasks.remove(ts.key);
        ts.run = null;
        ts.trouble = null;
        TaskPrefix p = ts.prefix;
        if (--p.live == 0 && prefixes.size() > PREFIX_SOFT_LIMIT) {
            prefixes.remove(p.name);
        }
        for (TaskState d : ts.deps) {
            if (d.dependents != null) {
                d.dependents.remove(ts);
                if (d.dependents.isEmpty()) {
                    d.dependents = null;
                    recommendCleanup(d);
                }
            }
        }
        ts.deps = TaskState.NO_DEPS;
    }

    /**
     * {@code ts} fails, and with it every dependent still waiting for it, transitively; every client
     * that wants one of them hears {@link KeyErred}.
     */
    private void toErred(TaskState ts, byte[] exception, String summary, String causeKey) {
        ArrayDeque<TaskState> todo = new ArrayDeque<>();
        todo.add(ts);
        while (!todo.isEmpty()) {
            TaskState t = todo.poll();
            byte s = t.state;
            if (s == ERRED || s == MEMORY || s == FORGOTTEN) {
                continue;
            }
            if (s == PROCESSING) {
                detachProcessing(t, true);
            } else if (s == NO_WORKER) {
                noWorker.remove(t);
            } else if (s == QUEUED) {
                queued.remove(t);
            }
            Trouble tr = t.trouble();
            tr.exception = exception;
            tr.summary = summary;
            tr.causeKey = causeKey;
            setState(t, ERRED);
            if (t.wantedBy != null) {
                for (ClientState c : t.wantedBy) {
                    out.add(Outgoing.send(c.id, keyErred(t)));
                }
            }
            if (t.dependents != null) {
                for (TaskState dt : t.dependents) {
                    if (active(dt.state)) {
                        todo.add(dt);
                    }
                }
            }
            recommendCleanup(t);
        }
    }

    // ================================================================ helpers

    /** A task waits on others without a slot: its worker has room for more (see {@link WorkerState#busy()}). */
    private void taskSeceded(WorkerState ws, String key) {
        TaskState ts = key == null ? null : tasks.get(key);
        if (ts != null && ts.processingOn == ws) {
            ws.seceded.add(ts);
        }
    }

    /** Takes {@code ts} off the worker it was sent to; {@code free} tells a live worker to drop it. */
    private void detachProcessing(TaskState ts, boolean free) {
        WorkerState ws = ts.processingOn;
        if (ws == null) {
            return;
        }
        ws.processing.remove(ts);
        ws.seceded.remove(ts);
        ws.occupancy -= ts.expectedNanos;
        ts.processingOn = null;
        ts.expectedNanos = 0;
        if (free && workers.get(ws.address) == ws) {
            queueFree(ws, ts.key);
        }
    }

    private void queueFree(WorkerState ws, String key) {
        pendingFree.computeIfAbsent(ws, w -> new ArrayList<>()).add(key);
    }

    private void flushFree(WorkerState ws) {
        ArrayList<String> keys = pendingFree.remove(ws);
        if (keys != null) {
            out.add(Outgoing.send(ws.address, new FreeKeys(keys)));
        }
    }

    private void flushAllFree() {
        for (Map.Entry<WorkerState, ArrayList<String>> e : pendingFree.entrySet()) {
            out.add(Outgoing.send(e.getKey().address, new FreeKeys(e.getValue())));
        }
        pendingFree.clear();
    }

    private static KeyErred keyErred(TaskState ts) {
        Trouble tr = ts.trouble;
        if (tr == null) {
            return new KeyErred(ts.key, null, "task " + ts.key + " failed", ts.key);
        }
        return new KeyErred(ts.key, tr.exception, tr.summary, tr.causeKey == null ? ts.key : tr.causeKey);
    }

    private static List<String> holders(TaskState ts) {
        if (ts.whoHas == null) {
            return List.of();
        }
        if (ts.whoHas.length == 1) {
            return List.of(ts.whoHas[0].address);
        }
        String[] a = new String[ts.whoHas.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = ts.whoHas[i].address;
        }
        return List.of(a);
    }

    // ================================================================ placement

    /**
     * Picks the worker for a runnable task, or null when none may run it. Among the workers holding
     * its inputs, the one that must receive the fewest bytes, then the least busy; without inputs
     * (or when no holder may run it), the least busy of the allowed workers, ties taken round-robin.
     */
    WorkerState decideWorker(TaskState ts) {
        if (workerList.isEmpty()) {
            return null;
        }
        List<WorkerState> allowed = null; // null: every worker
        TaskOptions o = ts.options;
        if (o != null && o.workers() != null && !o.workers().isEmpty()) {
            allowed = new ArrayList<>();
            for (WorkerState w : workerList) {
                for (String r : o.workers()) {
                    if (r != null && w.matches(r)) {
                        allowed.add(w);
                        break;
                    }
                }
            }
            if (allowed.isEmpty()) {
                if (!o.allowOtherWorkers()) {
                    return null;
                }
                allowed = null;
            }
        }
        if (ts.deps.length > 0) {
            WorkerState best = null;
            long bestBytes = Long.MAX_VALUE;
            ArrayList<WorkerState> seen = new ArrayList<>(4);
            for (TaskState d : ts.deps) {
                if (d.whoHas == null) {
                    continue;
                }
                for (WorkerState w : d.whoHas) {
                    if (seen.contains(w) || (allowed != null && !allowed.contains(w))) {
                        continue;
                    }
                    seen.add(w);
                    long bytes = bytesToFetch(ts, w);
                    if (best == null || bytes < bestBytes || (bytes == bestBytes && w.load() < best.load())) {
                        best = w;
                        bestBytes = bytes;
                    }
                }
            }
            if (best != null) {
                return best;
            }
        }
        return leastBusy(allowed == null ? workerList : allowed);
    }

    private static long bytesToFetch(TaskState ts, WorkerState w) {
        long sum = 0;
        for (TaskState d : ts.deps) {
            if (!d.heldBy(w)) {
                sum += Math.max(0, d.nbytes);
            }
        }
        return sum;
    }

    private WorkerState leastBusy(List<WorkerState> pool) {
        int n = pool.size();
        int start = Math.floorMod(roundRobin, n);
        WorkerState best = null;
        int bestAt = 0;
        for (int i = 0; i < n; i++) {
            int at = (start + i) % n;
            WorkerState w = pool.get(at);
            if (best == null || w.load() < best.load()) {
                best = w;
                bestAt = at;
            }
        }
        roundRobin = bestAt + 1;
        return best;
    }

    // ================================================================ views

    /** "released", "waiting", "queued", "no-worker", "processing", "memory" or "erred"; null when unknown. */
    public String stateOf(String key) {
        TaskState ts = tasks.get(key);
        return ts == null ? null : name(ts.state);
    }

    /** Addresses of the registered workers, in registration order. */
    public Set<String> workers() {
        return Collections.unmodifiableSet(new LinkedHashSet<>(workers.keySet()));
    }

    /** For each key, the addresses of the workers holding it (empty when none or unknown). */
    public Map<String, List<String>> whoHas(Collection<String> keys) {
        LinkedHashMap<String, List<String>> m = new LinkedHashMap<>();
        for (String k : keys) {
            TaskState ts = k == null ? null : tasks.get(k);
            m.put(k, ts == null ? List.of() : holders(ts));
        }
        return m;
    }

    /** Tasks the scheduler knows (every state but forgotten). */
    public int taskCount() {
        return tasks.size();
    }

    /** The worker a task was sent to, or null when it is not processing. */
    public String processingOn(String key) {
        TaskState ts = tasks.get(key);
        return ts == null || ts.processingOn == null ? null : ts.processingOn.address;
    }

    /** How many workers died while this task was processing on them. */
    public int suspiciousCount(String key) {
        TaskState ts = tasks.get(key);
        return ts == null || ts.trouble == null ? 0 : ts.trouble.suspicious;
    }

    /** Tasks held back on the scheduler while every worker is saturated. */
    public int queuedCount() {
        return queued.size();
    }

    /** Tasks that no current worker may run. */
    public int noWorkerCount() {
        return noWorker.size();
    }

    /** Mean measured run time of tasks whose key starts with {@code prefix} (the key up to its last '-'). */
    public OptionalLong averageDurationNanos(String prefix) {
        TaskPrefix p = prefixes.get(prefix);
        return p == null || p.count == 0 ? OptionalLong.empty() : OptionalLong.of(p.totalNanos / p.count);
    }

    /** One state change of a task, as {@link #drainTransitions()} reports it (state names as in {@link #stateOf}). */
    public record Transition(String key, String from, String to) {}

    /** Starts or stops keeping a log of every state change for {@link #drainTransitions()} (off by default). */
    public void recordTransitions(boolean on) {
        recorded = on ? (recorded == null ? new ArrayList<>() : recorded) : null;
    }

    /** The state changes since the last call, in order; empty when recording is off. */
    public List<Transition> drainTransitions() {
        if (recorded == null || recorded.isEmpty()) {
            return List.of();
        }
        List<Transition> l = List.copyOf(recorded);
        recorded.clear();
        return l;
    }

    private void note(TaskState ts, byte from, byte to) {
        if (recorded != null && from != to) {
            recorded.add(new Transition(ts.key, name(from), name(to)));
        }
    }

    /** The client whose update created this task (whose classes its workers may ask for), or null. */
    public String submitterOf(String key) {
        TaskState ts = tasks.get(key);
        return ts == null ? null : ts.submitter;
    }

    /** Number of state changes applied so far. */
    public long transitionCount() {
        return transitions;
    }

    /** Information on every worker, as {@link WorkersReply} carries it. */
    public List<WorkerInfo> workerInfos() {
        ArrayList<WorkerInfo> l = new ArrayList<>(workerList.size());
        for (WorkerState w : workerList) {
            l.add(new WorkerInfo(w.address, w.name, w.nthreads, w.memoryLimit, w.pid, w.memoryBytes,
                    w.processing.size(), w.hasWhat.size()));
        }
        return l;
    }

    /**
     * Checks every internal invariant (counters, back-references) and throws naming the first broken
     * one. For tests: it walks all tasks.
     */
    void validate() {
        for (TaskState ts : tasks.values()) {
            check(ts.state != FORGOTTEN, ts, "forgotten task still known");
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
            check((ts.state == QUEUED) == queued.contains(ts), ts, "queued set does not match state");
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
            for (TaskState ts : w.hasWhat) {
                check(ts.heldBy(w), ts, "in hasWhat of " + w + " but not held");
            }
        }
        for (ClientState c : clients.values()) {
            for (TaskState ts : c.wants) {
                check(tasks.get(ts.key) == ts, ts, "wanted by " + c.id + " but forgotten");
            }
        }
    }

    private static void check(boolean ok, TaskState ts, String what) {
        if (!ok) {
            throw new IllegalStateException(ts + ": " + what);
        }
    }
}
