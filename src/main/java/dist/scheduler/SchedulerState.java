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
 * <p>Counting rule for worker deaths: only tasks executing there gain a suspicious count when it
 * dies; tasks merely queued there are placed again without one. A task sent to a worker with a free
 * thread and its inputs at hand counts as executing from the start (it is started on arrival, with
 * no message on the way) until the worker says {@link TasksQueued}; any other task counts once the
 * worker says {@link TasksStarted}, which it writes before starting it. A nanny's {@link WorkerDied} says why a worker died; that reason is part of the
 * {@code KilledWorker} error.
 */
public final class SchedulerState {
    private static final System.Logger LOG = System.getLogger("dist.scheduler");

    /** Expected run time of a task whose key prefix has no measurement yet (dask uses 0.5 s too). */
    static final long UNKNOWN_DURATION_NANOS = 500_000_000L;
    /** Above this many prefixes, prefixes without live tasks are dropped when their last task goes. */
    private static final int PREFIX_SOFT_LIMIT = 10_000;

    private final SchedulerConfig config;
    private final TaskTable tasks = new TaskTable();
    private final LinkedHashMap<String, WorkerState> workers = new LinkedHashMap<>();
    /** Where runnable tasks go: the workers filed by load, and the queue of root tasks. */
    private final Placement placement = new Placement();
    /** The workers in registration order (read-only: {@link Placement#add} and {@link Placement#remove} change it). */
    private final List<WorkerState> workerList = placement.workers();
    private final LinkedHashMap<String, ClientState> clients = new LinkedHashMap<>();
    private final LinkedHashSet<TaskState> noWorker = new LinkedHashSet<>();
    private final FunctionTable functionTable = new FunctionTable();
    private final HashMap<String, TaskPrefix> prefixes = new HashMap<>();
    /** The prefix found last (see {@link #prefixOf}); never one that was dropped from {@link #prefixes}. */
    private TaskPrefix lastPrefix;
    /** Nanny id to the address of the worker it runs (null while none runs). */
    private final LinkedHashMap<String, String> nannies = new LinkedHashMap<>();
    /** Keys held by returning workers that no task names yet, kept for a grace period. */
    private final LinkedHashMap<String, Orphan> orphans = new LinkedHashMap<>();

    private static final class Orphan {
        final long since;
        final LinkedHashMap<WorkerState, Long> holders = new LinkedHashMap<>();

        Orphan(long since) {
            this.since = since;
        }
    }

    private final ArrayDeque<TaskState> recTasks = new ArrayDeque<>();
    private final ArrayDeque<Byte> recTargets = new ArrayDeque<>();
    private final LinkedHashMap<WorkerState, ArrayList<String>> pendingFree = new LinkedHashMap<>();
    private ArrayList<Outgoing> out = new ArrayList<>();
    private long now;
    private long transitions;
    private final Datasets datasets = new Datasets();
    private boolean workStealing = true;
    /** Tasks in no-worker that need resources: they may run once a worker frees some. */
    private int noWorkerWithResources;
    /** Non-null while plugins want every state change. */
    private ArrayList<Transition> recorded;
    /** Every task's recent state changes (for stories), and the computations workers reported (for dashboards). */
    private final TransitionLog log = new TransitionLog(100_000);
    private final TaskStream stream = new TaskStream(20_000);
    /** Whether to log the events that matter (workers joining and leaving, errors, restarts); the server turns it on. */
    private boolean logEvents;

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
                case SchedulerEvent.ClientGone g -> guarded(g.clientId(), 0, "ClientGone", () -> {
                    nannies.remove(g.clientId());
                    clientGone(g.clientId());
                });
                case SchedulerEvent.WorkerGone g -> guarded(g.worker(), 0, "WorkerGone", () -> {
                    WorkerState ws = g.worker() == null ? null : workers.get(g.worker());
                    if (ws != null) {
                        removeWorker(ws, g.reason() == null ? "connection closed" : g.reason());
                    }
                });
                case SchedulerEvent.Tick t -> {
                    guarded(null, 0, "the worker time-to-live check", this::checkHeartbeats);
                    guarded(null, 0, "work stealing", this::stealWork);
                }
            }
        } finally {
            fillFromQueue();
            flushAllFree();
        }
        List<Outgoing> result = out;
        out = new ArrayList<>();
        return result;
    }

    /**
     * Runs one message's handler; bad input becomes an {@link ErrorReply} to its sender and a log
     * line naming the message and its sender, never a crash. Handlers check their input before they
     * change anything, so a refused message leaves the state as it was. Only a real out-of-memory
     * is not caught.
     */
    private void guarded(String sender, long requestId, String what, Runnable action) {
        try {
            action.run();
            drain();
        } catch (OutOfMemoryError e) {
            throw e;
        } catch (Throwable e) {
            recTasks.clear();
            recTargets.clear();
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            logFailure(what, sender, e, why);
            if (sender != null) {
                out.add(new Outgoing(sender, new ErrorReply(why), requestId));
            }
        }
    }

    /** Failures logged per kind (what failed, and how) with when each was last logged and how many since. */
    private final HashMap<String, long[]> failureLog = new HashMap<>();
    /** A failure of one kind is logged again at most this often; the line says how many were not. */
    static final long FAILURE_LOG_INTERVAL_NANOS = 10_000_000_000L;

    /**
     * One line per failed handler: the message type, the peer, and why. Refused input (a peer's
     * mistake) is a warning; anything else is a bug here and is logged with its stack. A peer that
     * repeats one mistake gets a line per {@link #FAILURE_LOG_INTERVAL_NANOS}, not one per message.
     */
    private void logFailure(String what, String sender, Throwable e, String why) {
        if (!logEvents) {
            return;
        }
        String kind = what + "/" + e.getClass().getName();
        long[] seen = failureLog.get(kind);
        if (seen != null && now - seen[0] < FAILURE_LOG_INTERVAL_NANOS) {
            seen[1]++;
            return;
        }
        long skipped = seen == null ? 0 : seen[1];
        if (failureLog.size() >= 1000) {
            failureLog.clear(); // many kinds: keep the bound, at worst a few more lines
        }
        failureLog.put(kind, new long[]{now, 0});
        boolean refused = e instanceof IllegalArgumentException;
        String line = "scheduler " + (refused ? "refused " : "failed to handle ") + what
                + (sender == null ? "" : " from " + sender) + ": " + why
                + (skipped == 0 ? "" : " (and " + skipped + " more like it since the last such line)");
        if (refused) {
            LOG.log(System.Logger.Level.WARNING, line);
        } else {
            LOG.log(System.Logger.Level.ERROR, line + "; the scheduler carries on", e);
        }
    }

    private void onClient(String clientId, Message message, long requestId) {
        if (message instanceof Batch b) {
            for (Message part : b.messages()) {
                onClient(clientId, part, requestId);
            }
            return;
        }
        guarded(clientId, requestId, typeOf(message), () -> {
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
                case UpdateGraph u -> {
                    ClientState c = client(clientId);
                    try {
                        updateGraph(c, u);
                    } catch (IllegalArgumentException e) {
                        refuseGraph(c, u, e);
                        throw e;
                    }
                }
                case RegisterNanny n -> {
                    nannies.put(clientId, n.worker());
                    if (requestId != 0) {
                        out.add(new Outgoing(clientId, new Ack(), requestId));
                    }
                }
                case WorkerDied d -> workerDied(d);
                case RestartCluster r -> restartCluster(clientId, requestId);
                case ReleaseKeys r -> releaseKeys(clientId, nonNull(r.keys(), "ReleaseKeys.keys"));
                case CancelKeys c -> cancelKeys(client(clientId), nonNull(c.keys(), "CancelKeys.keys"), c.force());
                case WhoHasRequest w -> out.add(new Outgoing(clientId, new WhoHasReply(
                        whoHas(nonNull(w.keys(), "WhoHasRequest.keys"))), requestId));
                case WorkersRequest w -> out.add(new Outgoing(clientId, new WorkersReply(workerInfos()), requestId));
                case HasWhatRequest h -> out.add(new Outgoing(clientId, new HasWhatReply(
                        hasWhat(nonNull(h.workers(), "HasWhatRequest.workers"))), requestId));
                case NbytesRequest n -> out.add(new Outgoing(clientId, new NbytesReply(
                        nbytes(nonNull(n.keys(), "NbytesRequest.keys"))), requestId));
                case DropReplicas d -> {
                    dropReplicas(nonNull(d.workersByKey(), "DropReplicas.workersByKey"));
                    out.add(new Outgoing(clientId, new Ack(), requestId));
                }
                case PublishDataset p -> {
                    publishDataset(p);
                    out.add(new Outgoing(clientId, new Ack(), requestId));
                }
                case TaskStatusRequest t -> out.add(new Outgoing(clientId,
                        taskStatus(nonNull(t.keys(), "TaskStatusRequest.keys")), requestId));
                case GetDataset g -> out.add(new Outgoing(clientId, getDataset(g.name()), requestId));
                case ListDatasets l -> out.add(new Outgoing(clientId, new DatasetNames(datasets.names()), requestId));
                case UnpublishDataset u -> {
                    unpublishDataset(u.name());
                    out.add(new Outgoing(clientId, new Ack(), requestId));
                }
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
        guarded(address, requestId, typeOf(message), () -> {
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
                case TasksStarted t -> tasksStarted(ws, nonNull(t.keys(), "TasksStarted.keys"));
                case TasksQueued t -> tasksQueued(ws, nonNull(t.keys(), "TasksQueued.keys"));
                case TaskSeceded t -> taskSeceded(ws, t.key());
                case MissingData m -> missingData(m.key(), m.worker());
                case AddKeys a -> addKeys(ws, nonNull(a.nbytes(), "AddKeys.nbytes"));
                case KeysReleased k -> keysReleased(ws, nonNull(k.keys(), "KeysReleased.keys"));
                case StealResponse r -> stealResponse(ws, r.key(), r.accepted());
                case WorkerResources r -> workerResources(ws, nonNull(r.resources(), "WorkerResources.resources"));
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

    private static String typeOf(Message m) {
        return m == null ? "an empty message" : m.getClass().getSimpleName();
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

    /**
     * Adds a client's tasks and wants. The whole update is checked first (keys, options, cycles);
     * a refused update changes nothing (see {@link #refuseGraph}).
     */
    private void updateGraph(ClientState c, UpdateGraph u) {
        List<TaskSpec> specs = nonNull(u.tasks(), "UpdateGraph.tasks");
        List<String> wanted = nonNull(u.wanted(), "UpdateGraph.wanted");
        checkGraph(specs);
        ArrayList<TaskState> created = new ArrayList<>();
        ArrayList<TaskSpec> createdSpecs = new ArrayList<>();
        for (TaskSpec s : specs) {
            TaskPrefix p = prefixOf(s.key());
            TaskState ts = new TaskState(s.key(), null, s.priority(), s.options(), p);
            if (tasks.putIfAbsent(ts) != null) {
                continue; // same key: the same computation, done once
            }
            p.live++;
            p.states[RELEASED]++;
            functionTable.store(ts, s.run());
            ts.submitter = c.id;
            created.add(ts);
            createdSpecs.add(s);
        }
        for (int i = 0; i < created.size(); i++) {
            link(created.get(i), createdSpecs.get(i).dependencies());
        }
        if (!orphans.isEmpty()) {
            for (TaskState ts : created) {
                adoptOrphan(ts);
            }
        }
        for (int i = 0; i < wanted.size(); i++) {
            String key = wanted.get(i);
            // a map wants exactly the tasks it creates, in order: those need no second look-up
            TaskState made = i < created.size() ? created.get(i) : null;
            TaskState ts = key == null ? null : made != null && made.key.equals(key) ? made : tasks.get(key);
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

    /** An update refused because of one of its tasks, named here: its futures fail with the reason. */
    private static final class GraphRefused extends IllegalArgumentException {
        final String key;

        GraphRefused(String key, String message) {
            super(message);
            this.key = key;
        }
    }

    /**
     * Checks an update before anything of it is applied: every task has a key, its options make
     * sense, and no task waits on its own result through the tasks of this update (a cycle would
     * wait forever). Tasks already known cannot depend on new ones, so a cycle lies within the update.
     */
    private void checkGraph(List<TaskSpec> specs) {
        boolean anyDeps = false;
        for (int i = 0; i < specs.size(); i++) {
            TaskSpec s = specs.get(i);
            if (s == null || s.key() == null) {
                throw new IllegalArgumentException("UpdateGraph.tasks[" + i + "] has no key: every task needs a key");
            }
            checkOptions(s);
            anyDeps |= s.dependencies() != null && !s.dependencies().isEmpty();
        }
        if (!anyDeps || !namesUnknownKeys(specs)) {
            return; // every dependency is a task known already: none leads back into this update
        }
        // the tasks this update creates: the first spec of each key not known yet (as applied below)
        HashMap<String, TaskSpec> fresh = new HashMap<>();
        for (TaskSpec s : specs) {
            if (tasks.get(s.key()) == null) {
                fresh.putIfAbsent(s.key(), s);
            }
        }
        List<String> cycle = findCycle(fresh);
        if (cycle != null) {
            throw new GraphRefused(cycle.get(0), "the graph has a cycle: " + String.join(" -> ", cycle)
                    + " (a task cannot wait on its own result); nothing of this update was applied");
        }
    }

    private boolean namesUnknownKeys(List<TaskSpec> specs) {
        for (TaskSpec s : specs) {
            if (s.dependencies() != null) {
                for (String d : s.dependencies()) {
                    if (d != null && tasks.get(d) == null) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static void checkOptions(TaskSpec s) {
        TaskOptions o = s.options();
        if (o == null || o.resources() == null) {
            return;
        }
        for (Map.Entry<String, Double> e : o.resources().entrySet()) {
            Double v = e.getValue();
            if (e.getKey() == null || v == null || !(v >= 0) || v.isInfinite()) {
                throw new GraphRefused(s.key(), "task " + s.key() + " asks for resource " + e.getKey() + "=" + v
                        + ": resources need a name and a finite amount of 0 or more, e.g. GPU=1");
            }
        }
    }

    /**
     * A cycle among {@code fresh} tasks as its keys, the first repeated at the end, or null. Iterative
     * (a chain of a million tasks must not overflow the stack); each task is visited once.
     */
    private static List<String> findCycle(HashMap<String, TaskSpec> fresh) {
        final byte onPath = 1, done = 2;
        HashMap<String, Byte> mark = new HashMap<>(fresh.size() * 2);
        ArrayList<String> path = new ArrayList<>();
        ArrayList<Integer> next = new ArrayList<>(); // per path entry: the index of its next dependency
        for (String root : fresh.keySet()) {
            if (mark.containsKey(root)) {
                continue;
            }
            path.add(root);
            next.add(0);
            mark.put(root, onPath);
            while (!path.isEmpty()) {
                int top = path.size() - 1;
                List<String> deps = fresh.get(path.get(top)).dependencies();
                int i = next.get(top);
                if (deps == null || i >= deps.size()) {
                    mark.put(path.remove(top), done);
                    next.remove(top);
                    continue;
                }
                next.set(top, i + 1);
                String d = deps.get(i);
                if (d == null || !fresh.containsKey(d)) {
                    continue; // a known task or a missing one: no way back into this update
                }
                Byte m = mark.get(d);
                if (m == null) {
                    path.add(d);
                    next.add(0);
                    mark.put(d, onPath);
                } else if (m == onPath) {
                    ArrayList<String> cycle = new ArrayList<>(path.subList(path.lastIndexOf(d), path.size()));
                    cycle.add(d);
                    return cycle;
                }
            }
        }
        return null;
    }

    /**
     * Tells the client which of its futures the refused update leaves without a task: each wanted
     * key the scheduler does not already hold for this client fails with the reason. The client's
     * futures for keys it wanted before stay as they are.
     */
    private void refuseGraph(ClientState c, UpdateGraph u, IllegalArgumentException e) {
        if (u.wanted() == null) {
            return;
        }
        String cause = e instanceof GraphRefused g ? g.key : null;
        String why = "the scheduler refused the update that submitted this key: " + e.getMessage();
        LinkedHashSet<String> told = new LinkedHashSet<>();
        for (String key : u.wanted()) {
            if (key == null || !told.add(key)) {
                continue;
            }
            TaskState ts = tasks.get(key);
            if (ts != null && c.wants.contains(ts)) {
                continue;
            }
            out.add(Outgoing.send(c.id, new KeyErred(key, null, why, cause == null ? key : cause)));
        }
    }

    /** The prefix group of {@code key}; the tasks of one map share theirs, so the last one is tried first. */
    private TaskPrefix prefixOf(String key) {
        int n = TaskPrefix.end(key);
        TaskPrefix p = lastPrefix;
        if (p != null && p.name.length() == n && key.startsWith(p.name)) {
            return p;
        }
        p = prefixes.computeIfAbsent(key.substring(0, n), TaskPrefix::new);
        lastPrefix = p;
        return p;
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
        // a map over one shared input: every task holds the same one-element array (never written in place)
        ts.deps = deps.size() == 1 ? deps.getFirst().asSoleDependency() : deps.toArray(TaskState.NO_DEPS);
        for (TaskState d : ts.deps) {
            if (d.dependents == null) {
                d.dependents = new TaskSet();
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
                    if (!w.silent) {
                        out.add(Outgoing.send(w.id, new KeyCancelled(t.key, reason)));
                    }
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
        WorkerState ws = new WorkerState(address);
        ws.name = r.name() == null || r.name().isEmpty() ? address : r.name();
        ws.nthreads = Math.max(1, r.nthreads());
        ws.memoryLimit = r.memoryLimit();
        ws.pid = r.pid();
        workers.put(address, ws);
        placement.add(ws);
        log(System.Logger.Level.INFO, "worker joined: " + address + " (" + ws.name + ", " + ws.nthreads
                + " threads, pid " + ws.pid + (r.heldKeys() == null || r.heldKeys().isEmpty() ? ""
                : ", holding " + r.heldKeys().size() + " keys") + ")");
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
        if (ts == null && key != null && config.unknownKeyGrace().toNanos() > 0) {
            // perhaps this scheduler restarted and the client that wants it has not re-sent its graph yet
            orphans.computeIfAbsent(key, k -> new Orphan(now)).holders.put(ws, nbytes);
        } else if (ts == null || ts.state == ERRED) {
            queueFree(ws, String.valueOf(key));
        } else if (ts.state == MEMORY) {
            if (ts.addHolder(ws)) {
                ws.hold(ts);
            }
            if (ts.nbytes < 0) {
                setNbytes(ts, nbytes);
            }
        } else if (ts.needed()) {
            becomeMemoryOn(ts, ws, nbytes, null);
        } else {
            queueFree(ws, key);
        }
    }

    /** A new task whose key a returning worker reported: its result is there already. */
    private void adoptOrphan(TaskState ts) {
        Orphan o = orphans.remove(ts.key);
        if (o == null || ts.state != RELEASED) {
            return;
        }
        for (Map.Entry<WorkerState, Long> e : o.holders.entrySet()) {
            WorkerState ws = e.getKey();
            if (workers.get(ws.address) != ws) {
                continue;
            }
            if (ts.state == MEMORY) {
                if (ts.addHolder(ws)) {
                    ws.hold(ts);
                }
            } else {
                becomeMemoryOn(ts, ws, e.getValue(), null);
            }
        }
    }

    private void expireOrphans() {
        long grace = config.unknownKeyGrace().toNanos();
        for (var it = orphans.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Orphan> e = it.next();
            if (now - e.getValue().since <= grace) {
                break; // insertion order: the rest are younger
            }
            for (WorkerState ws : e.getValue().holders.keySet()) {
                if (workers.get(ws.address) == ws) {
                    queueFree(ws, e.getKey());
                }
            }
            it.remove();
        }
    }

    /** The worker says these tasks began executing: from now on its death makes them suspicious. */
    private void tasksStarted(WorkerState ws, List<String> keys) {
        markExecuting(ws, keys, true);
    }

    /** The worker says these tasks, sent as starting at once, wait in its queue: its death spares them. */
    private void tasksQueued(WorkerState ws, List<String> keys) {
        markExecuting(ws, keys, false);
    }

    private void markExecuting(WorkerState ws, List<String> keys, boolean executing) {
        for (String key : keys) {
            TaskState ts = key == null ? null : tasks.get(key);
            if (ts != null && ts.processingOn == ws) {
                ts.executing = executing;
            }
        }
    }

    /** Whether {@code ts}, about to go to {@code ws}, will start there on arrival: a free thread, inputs held. */
    private static boolean startsOnArrival(TaskState ts, WorkerState ws) {
        if (ws.processing.size() - ws.seceded.size() >= ws.nthreads) {
            return false;
        }
        for (TaskState d : ts.deps) {
            if (!d.heldBy(ws)) {
                return false;
            }
        }
        return true;
    }

    /** A nanny reports how its worker died; if the scheduler still counts that worker, it goes now. */
    private void workerDied(WorkerDied d) {
        WorkerState ws = d.worker() == null ? null : workers.get(d.worker());
        if (ws != null) {
            removeWorker(ws, d.reason() == null ? "the worker process died" : d.reason());
        }
    }

    /**
     * Every client's futures are cancelled and every task forgotten. Workers with a nanny are removed
     * and restarted by it; workers without one (threads of a local cluster) stay and drop their keys.
     */
    private void restartCluster(String clientId, long requestId) {
        String reason = "the cluster was restarted by client " + clientId;
        for (TaskState ts : tasks) {
            if (ts.wantedBy != null) {
                for (ClientState c : ts.wantedBy) {
                    out.add(Outgoing.send(c.id, new KeyCancelled(ts.key, reason)));
                }
            }
        }
        for (ClientState c : clients.values()) {
            c.wants.clear();
        }
        tasks.clear();
        noWorker.clear();
        orphans.clear();
        pendingFree.clear();
        recTasks.clear();
        recTargets.clear();
        java.util.HashSet<String> nannied = new java.util.HashSet<>();
        for (Map.Entry<String, String> n : nannies.entrySet()) {
            if (n.getValue() != null) {
                nannied.add(n.getValue());
            }
            out.add(Outgoing.send(n.getKey(), new RestartWorker(reason)));
        }
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
            if (nannied.contains(ws.address)) {
                workers.remove(ws.address);
                placement.remove(ws);
            } else if (!drop.isEmpty()) {
                out.add(Outgoing.send(ws.address, new FreeKeys(drop)));
            }
        }
        for (TaskPrefix p : prefixes.values()) {
            p.live = 0;
            p.dropLive();
        }
        log(System.Logger.Level.INFO, "cluster restarted by client " + clientId);
        if (requestId != 0) {
            out.add(new Outgoing(clientId, new Ack(), requestId));
        }
    }

    private void checkHeartbeats() {
        if (!orphans.isEmpty()) {
            expireOrphans();
        }
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
        log(System.Logger.Level.INFO, "worker lost: " + ws.address + " (" + ws.name + "): " + reason
                + "; it was running " + ws.processing.size() + " tasks and holding " + ws.hasWhat.size() + " keys");
        workers.remove(ws.address);
        placement.remove(ws);
        pendingFree.remove(ws);
        if (!orphans.isEmpty()) {
            orphans.values().removeIf(o -> o.holders.remove(ws) != null && o.holders.isEmpty());
        }
        for (TaskState ts : new ArrayList<>(ws.stealingIn)) {
            cancelSteal(ts);
        }
        ArrayList<TaskState> lost = new ArrayList<>();
        for (TaskState ts : ws.hasWhat) {
            ts.removeHolder(ws);
            if (ts.whoHas == null && ts.state == MEMORY) {
                lost.add(ts);
            }
        }
        ws.clearHeld();
        for (TaskState ts : lost) {
            memoryLost(ts, ws.address);
        }
        ArrayList<TaskState> running = new ArrayList<>(ws.processing);
        for (TaskState ts : running) {
            boolean wasExecuting = ts.executing;
            detachProcessing(ts, false);
            if (!wasExecuting) {
                becomeWaiting(ts); // only queued there: not suspicious
                continue;
            }
            Trouble tr = ts.trouble();
            tr.suspicious++;
            if (tr.killedOn == null) {
                tr.killedOn = new ArrayList<>(2);
            }
            tr.killedOn.add(ws.address + " (" + reason + ")");
            tr.lastReason = reason;
            if (tr.suspicious > config.allowedFailures()) {
                String summary = "KilledWorker: task " + ts.key + " was executing on " + tr.suspicious
                        + " workers that died (allowed failures: " + config.allowedFailures() + "): "
                        + String.join(", ", tr.killedOn);
                toErred(ts, null, summary, ts.key);
            } else {
                becomeWaiting(ts);
            }
        }
        ws.clearProcessing();
    }

    private void taskFinished(WorkerState ws, TaskFinished f) {
        TaskState ts = f.key() == null ? null : tasks.get(f.key());
        if (f.key() != null) {
            // the worker's clock differs from ours: place the run so that it ended when we heard of it
            stream.add(f.key(), ws.address, now - Math.max(0, f.stopNanos() - f.startNanos()), now, f.nbytes(), false);
        }
        if (ts == null) {
            queueFree(ws, String.valueOf(f.key()));
            return;
        }
        switch (ts.state) {
            case PROCESSING -> processingToMemory(ts, ws, f);
            case MEMORY -> {
                if (ts.addHolder(ws)) {
                    ws.hold(ts);
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
        stream.add(ts.key, ws.address, now - Math.max(0, e.stopNanos() - e.startNanos()), now, 0, true);
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
            ws.unhold(ts);
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
        removeNoWorker(ts);
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
        if (placement.queueable(ts)) {
            WorkerState ws = placement.roomFor(ts);
            if (ws == null) {
                waitingToQueued(ts); // behind earlier queued work, or every worker is saturated
            } else {
                sendToWorker(ts, ws);
            }
            return;
        }
        WorkerState ws = placement.decide(ts);
        if (ws == null) {
            waitingToNoWorker(ts);
        } else {
            sendToWorker(ts, ws);
        }
    }

    private void waitingToQueued(TaskState ts) {
        setState(ts, QUEUED);
        placement.queue(ts);
    }

    private void queuedToWaiting(TaskState ts) {
        placement.unqueue(ts);
        becomeWaiting(ts);
    }

    private void queuedToReleased(TaskState ts) {
        placement.unqueue(ts);
        setState(ts, RELEASED);
        recommendCleanup(ts);
    }

    /** Sends queued tasks to workers with room, in priority order; runs after every event. */
    private void fillFromQueue() {
        placement.fillFromQueue(this::sendToWorker);
        drain();
    }

    private void waitingToNoWorker(TaskState ts) {
        setState(ts, NO_WORKER);
        addNoWorker(ts);
    }

    private void noWorkerToProcessing(TaskState ts) {
        WorkerState ws = placement.decide(ts);
        if (ws != null) {
            removeNoWorker(ts);
            sendToWorker(ts, ws);
        }
    }

    private void addNoWorker(TaskState ts) {
        if (noWorker.add(ts) && !ts.resources().isEmpty()) {
            noWorkerWithResources++;
        }
    }

    private void removeNoWorker(TaskState ts) {
        if (noWorker.remove(ts) && !ts.resources().isEmpty()) {
            noWorkerWithResources--;
        }
    }

    /** Why no worker may run {@code ts} now, in words for a person. */
    private String noWorkerReason(TaskState ts) {
        if (workerList.isEmpty()) {
            return "there are no workers; the task waits until one arrives";
        }
        StringBuilder b = new StringBuilder();
        if (ts.restricted()) {
            b.append("no connected worker matches workers=").append(ts.options.workers());
        }
        if (!ts.resources().isEmpty()) {
            boolean anyOffers = false;
            for (WorkerState w : workerList) {
                anyOffers |= w.offers(ts.resources());
            }
            if (b.length() > 0) {
                b.append(", or ");
            }
            b.append(anyOffers ? "every worker with resources " + ts.resources() + " has them in use"
                    : "no worker offers resources " + ts.resources());
        }
        if (b.length() == 0) {
            b.append("no worker may run it");
        }
        return b.append("; the task waits until one can").toString();
    }

    private void sendToWorker(TaskState ts, WorkerState ws) {
        boolean atOnce = startsOnArrival(ts, ws);
        setState(ts, PROCESSING);
        log.amendWorker(ws.address);
        ts.processingOn = ws;
        ts.expectedNanos = ts.prefix.expected(UNKNOWN_DURATION_NANOS);
        ws.assign(ts);
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
        ts.executing = atOnce; // see the counting rule in the class comment
        out.add(Outgoing.send(ws.address, new ComputeTask(ts.key, FunctionTable.runOf(ts), who, sizes, ts.priority,
                ts.submitter, !atOnce)));
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
            removeNoWorker(ts);
        } else if (ts.state == QUEUED) {
            placement.unqueue(ts);
        }
        setNbytes(ts, nbytes);
        if (ts.addHolder(ws)) {
            ws.hold(ts);
        }
        if (ts.trouble != null && ts.trouble.summary == null) {
            ts.trouble = null; // retries and suspicion are settled once the result exists
        }
        setState(ts, MEMORY);
        if (ts.wantedBy != null) {
            byte[] inline = value != null && value.length <= config.inlineResultLimit() ? value : null;
            List<String> where = List.of(ws.address);
            for (ClientState c : ts.wantedBy) {
                if (!c.silent) {
                    out.add(Outgoing.send(c.id, new KeyInMemory(ts.key, where, nbytes, inline)));
                }
            }
        }
        recommendCleanup(ts);
    }

    /** A size changes: the workers that hold the key count it anew. */
    private static void setNbytes(TaskState ts, long nbytes) {
        if (ts.whoHas != null) {
            for (WorkerState w : ts.whoHas) {
                w.heldBytes += Math.max(0, nbytes) - Math.max(0, ts.nbytes);
            }
        }
        ts.nbytes = nbytes;
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
                ws.unhold(ts);
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
        removeNoWorker(ts);
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
                removeNoWorker(t);
            } else if (s == QUEUED) {
                placement.unqueue(t);
            }
            Trouble tr = t.trouble();
            tr.exception = exception;
            tr.summary = summary;
            tr.causeKey = causeKey;
            if (t == ts) {
                log(System.Logger.Level.WARNING, "task erred: " + t.key + ": " + summary);
            }
            setState(t, ERRED);
            if (t.wantedBy != null) {
                for (ClientState c : t.wantedBy) {
                    if (!c.silent) {
                        out.add(Outgoing.send(c.id, keyErred(t)));
                    }
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
            ws.secede(ts);
        }
    }

    /** Takes {@code ts} off the worker it was sent to; {@code free} tells a live worker to drop it. */
    private void detachProcessing(TaskState ts, boolean free) {
        WorkerState ws = ts.processingOn;
        if (ws == null) {
            return;
        }
        cancelSteal(ts);
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

    /** The placement index: for tests in this package. */
    Placement placement() {
        return placement;
    }

    // ================================================================ work stealing

    /** Turns work stealing on or off (on by default). */
    public void setWorkStealing(boolean on) {
        workStealing = on;
    }

    /**
     * Turns queuing of runnable tasks on the scheduler on (the default) or off. Off, every runnable
     * task is sent to a worker at once and only stealing evens the load, as before queuing existed.
     */
    public void setQueuing(boolean on) {
        placement.setQueuing(on);
    }

    /** Most steal requests sent per tick: bounds the work of one tick on a large backlog. */
    static final int MAX_STEALS_PER_TICK = 2_000;

    /** Asks saturated workers to give queued tasks to less loaded ones (see {@link WorkStealing}). */
    private void stealWork() {
        if (!workStealing) {
            return;
        }
        for (WorkStealing.Move m : WorkStealing.plan(workerList, MAX_STEALS_PER_TICK)) {
            TaskState ts = m.task();
            long e = ts.expectedNanos;
            m.from().addOccupancy(-e);
            m.from().stealingOut++;
            m.to().addOccupancy(e);
            m.to().stealingIn.add(ts);
            ts.stealTo = m.to();
            out.add(Outgoing.send(m.from().address, new StealRequest(ts.key)));
        }
    }

    /** Forgets a steal request still out for {@code ts}: occupancy goes back to the worker that has the task. */
    private void cancelSteal(TaskState ts) {
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

    private void stealResponse(WorkerState ws, String key, boolean accepted) {
        TaskState ts = key == null ? null : tasks.get(key);
        if (ts == null || ts.state != PROCESSING || ts.processingOn != ws) {
            return; // finished, released or moved meanwhile: nothing was given back that matters
        }
        WorkerState to = ts.stealTo;
        cancelSteal(ts);
        if (!accepted) {
            return; // it runs (or already ran) where it is
        }
        detachProcessing(ts, false); // the worker dropped it already
        if (to != null && workers.get(to.address) == to && to.hasFree(ts.resources())) {
            sendToWorker(ts, to);
        } else {
            becomeWaiting(ts); // the thief left meanwhile: place it afresh
        }
    }

    // ================================================================ resources

    private void workerResources(WorkerState ws, Map<String, Double> resources) {
        LinkedHashMap<String, Double> r = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : resources.entrySet()) {
            if (e.getKey() == null || e.getValue() == null || !(e.getValue() >= 0) || e.getValue().isInfinite()) {
                throw new IllegalArgumentException("resource " + e.getKey() + "=" + e.getValue() + " of worker "
                        + ws.address + " is not a name with a finite amount of 0 or more, e.g. GPU=2");
            }
            r.put(e.getKey(), e.getValue());
        }
        ws.resources = r.isEmpty() ? null : Collections.unmodifiableMap(r);
        for (TaskState ts : new ArrayList<>(noWorker)) {
            recommend(ts, PROCESSING);
        }
    }

    /** Resources were freed: tasks waiting for resources may run now. */
    private void wakeResourceWaiters() {
        if (noWorkerWithResources == 0) {
            return;
        }
        for (TaskState ts : noWorker) {
            if (!ts.resources().isEmpty()) {
                recommend(ts, PROCESSING);
            }
        }
    }

    // ================================================================ data placement

    /** Keys held per worker; {@code which} names workers (address, host or name), empty for all. */
    public Map<String, List<String>> hasWhat(Collection<String> which) {
        LinkedHashMap<String, List<String>> m = new LinkedHashMap<>();
        for (WorkerState w : workerList) {
            boolean chosen = which.isEmpty();
            for (String r : which) {
                chosen |= r != null && w.matches(r);
            }
            if (chosen) {
                ArrayList<String> keys = new ArrayList<>(w.hasWhat.size());
                for (TaskState ts : w.hasWhat) {
                    keys.add(ts.key);
                }
                m.put(w.address, keys);
            }
        }
        return m;
    }

    /** Stored size of each key in memory; {@code keys} empty means every key in memory. */
    public Map<String, Long> nbytes(Collection<String> keys) {
        LinkedHashMap<String, Long> m = new LinkedHashMap<>();
        if (keys.isEmpty()) {
            for (TaskState ts : tasks) {
                if (ts.state == MEMORY) {
                    m.put(ts.key, Math.max(0, ts.nbytes));
                }
            }
        } else {
            for (String k : keys) {
                TaskState ts = k == null ? null : tasks.get(k);
                if (ts != null && ts.state == MEMORY) {
                    m.put(k, Math.max(0, ts.nbytes));
                }
            }
        }
        return m;
    }

    /** Lets the named workers drop their copies; the last copy of a key is always kept. */
    private void dropReplicas(Map<String, List<String>> workersByKey) {
        for (Map.Entry<String, List<String>> e : workersByKey.entrySet()) {
            TaskState ts = e.getKey() == null ? null : tasks.get(e.getKey());
            if (ts == null || ts.state != MEMORY || e.getValue() == null) {
                continue;
            }
            for (String addr : e.getValue()) {
                WorkerState ws = addr == null ? null : workers.get(addr);
                if (ws != null && ts.whoHas != null && ts.whoHas.length > 1 && ts.removeHolder(ws)) {
                    ws.unhold(ts);
                    queueFree(ws, ts.key);
                }
            }
        }
    }

    // ================================================================ datasets

    private void publishDataset(PublishDataset p) {
        String name = p.name();
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a dataset needs a non-empty name");
        }
        List<String> keys = nonNull(p.keys(), "PublishDataset.keys");
        if (datasets.get(name) != null && !p.override()) {
            throw new IllegalArgumentException("a dataset named '" + name + "' already exists; unpublish it first "
                    + "or publish with override");
        }
        ArrayList<TaskState> held = new ArrayList<>(keys.size());
        for (String k : keys) {
            TaskState ts = k == null ? null : tasks.get(k);
            if (ts == null) {
                throw new IllegalArgumentException("dataset '" + name + "' names key " + k
                        + ", which the scheduler does not know; publish futures this cluster still holds");
            }
            held.add(ts);
        }
        Datasets.Dataset old = datasets.remove(name);
        ClientState holder = new ClientState(Datasets.holderId(name), true);
        for (TaskState ts : held) {
            if (holder.wants.add(ts)) {
                ts.addWanter(holder);
            }
        }
        datasets.put(new Datasets.Dataset(name, List.copyOf(keys), p.shape(), holder));
        if (old != null) {
            releaseHolder(old.holder());
        }
    }

    private Message getDataset(String name) {
        Datasets.Dataset d = name == null ? null : datasets.get(name);
        if (d == null) {
            throw new IllegalArgumentException("no dataset named '" + name + "'; published: " + datasets.names());
        }
        return new DatasetReply(d.name(), d.keys(), d.shape());
    }

    private void unpublishDataset(String name) {
        Datasets.Dataset d = name == null ? null : datasets.remove(name);
        if (d == null) {
            throw new IllegalArgumentException("no dataset named '" + name + "'; published: " + datasets.names());
        }
        releaseHolder(d.holder());
    }

    private void releaseHolder(ClientState holder) {
        for (TaskState ts : holder.wants) {
            ts.removeWanter(holder);
            recommendCleanup(ts);
        }
        holder.wants.clear();
    }

    private TaskStatusReply taskStatus(List<String> keys) {
        LinkedHashMap<String, String> states = new LinkedHashMap<>();
        LinkedHashMap<String, String> reasons = new LinkedHashMap<>();
        for (String k : keys) {
            TaskState ts = k == null ? null : tasks.get(k);
            if (ts != null) {
                states.put(k, name(ts.state));
                if (ts.state == NO_WORKER) {
                    reasons.put(k, noWorkerReason(ts));
                }
            }
        }
        return new TaskStatusReply(states, reasons);
    }

    /** Names of the published datasets, sorted. */
    public List<String> datasetNames() {
        return datasets.names();
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

    /** The record of {@code key}, or null: for tests in this package. */
    TaskState task(String key) {
        return tasks.get(key);
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
        return placement.queuedCount();
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
        if (from == to) {
            return;
        }
        ts.prefix.moved(from, to);
        log.add(ts.key, from, to, now, to == MEMORY && ts.whoHas != null ? ts.whoHas[ts.whoHas.length - 1].address
                : ts.processingOn != null ? ts.processingOn.address : null);
        if (recorded != null) {
            recorded.add(new Transition(ts.key, name(from), name(to)));
        }
    }

    /** The client whose update created this task (whose classes its workers may ask for), or null. */
    public String submitterOf(String key) {
        TaskState ts = tasks.get(key);
        return ts == null ? null : ts.submitter;
    }

    /**
     * A snapshot for dashboards: workers, task groups, totals, and the computations numbered
     * {@code streamSince} and later (at most {@code streamMax}, the newest). It walks every worker's
     * held keys: call it a few times a second at most.
     */
    public ClusterView view(long streamSince, int streamMax) {
        return ClusterView.of(this, workerList, prefixes.values(), stream, now, streamSince, streamMax);
    }

    /** The recent state changes of task {@code key} on the scheduler, oldest first (empty when none is kept). */
    public List<StoryEntry> story(String key) {
        return key == null ? List.of() : log.story(key);
    }

    /** Logs one line per event that matters (worker joined or lost, task erred, restart); off by default. */
    public void logEvents(boolean on) {
        logEvents = on;
    }

    private void log(System.Logger.Level level, String line) {
        if (logEvents) {
            LOG.log(level, line);
        }
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
        for (TaskState ts : tasks) {
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
            check((ts.state == QUEUED) == placement.isQueued(ts), ts, "queued set does not match state");
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
            int out = 0;
            for (TaskState ts : w.processing) {
                check(ts.processingOn == w, ts, "processing on " + w + " but points elsewhere");
                if (ts.stealTo != null) {
                    out++;
                    check(ts.stealTo.stealingIn.contains(ts), ts, "steal target " + ts.stealTo + " does not know it");
                }
            }
            check(out == w.stealingOut, null, w + " counts " + w.stealingOut + " steals out, found " + out);
            for (TaskState ts : w.stealingIn) {
                check(ts.stealTo == w && ts.state == PROCESSING, ts, "in stealingIn of " + w + " but not stolen to it");
            }
            long held = 0;
            for (TaskState ts : w.hasWhat) {
                check(ts.heldBy(w), ts, "in hasWhat of " + w + " but not held");
                held += Math.max(0, ts.nbytes);
            }
            check(held == w.heldBytes, null, w + " counts " + w.heldBytes + " bytes held, found " + held);
        }
        placement.validate();
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
