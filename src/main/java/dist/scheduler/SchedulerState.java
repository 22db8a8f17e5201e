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
 * The scheduler's state machine, without I/O: it takes events and returns the messages to send.
 * One thread owns an instance; time arrives as a value with each event, never from a clock.
 *
 * <p>Tasks move between the states released, waiting, queued, no-worker, processing, memory, erred
 * and forgotten, only along the edges of one table keyed by (from, to) ({@link #transition}); each
 * edge is a method named after it ({@code releasedToWaiting}, {@code waitingToProcessing}, ...),
 * and a pair the table lacks throws {@link ImpossibleTransition}. Transitions return their
 * follow-ups as recommendations that {@link #drain()} applies until none are left, as dask's
 * scheduler does; the loop drops those that no longer apply by explicit rules
 * ({@link #applyRecommendation}).
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
 * worker says {@link TasksStarted}, which it writes before starting it. A nanny's {@link WorkerDied}
 * says why a worker died; that reason is part of the {@code KilledWorker} error.
 *
 * <p>This class and {@link TaskLifecycle} are the core. Here: events in, messages out (dispatch,
 * the intake of graphs, the workers' reports and their task bookkeeping); there: a task's life (the
 * table of edges, each edge's work, the recommendation loop). Capabilities beside it are {@link SchedulerExtension}s registered
 * in the constructor (datasets, clients and nannies, queries, history, work stealing, plugins, keys
 * of returning workers, worker resources, restart, cancelling, the idle and no-workers timeouts); they act on the core only through
 * {@link SchedulerContext} ({@link CoreContext}). Where runnable tasks go is {@link Placement}'s;
 * the workers' time-to-live is {@link WorkerLiveness}'s; read-only questions go to {@link #view()}.
 */
public final class SchedulerState extends TaskLifecycle {
    private final SchedulerContext context = new CoreContext(this);
    private final WorkerLiveness liveness = new WorkerLiveness(context, address -> {
        ClientRegistry r = extension(ClientRegistry.class);
        return r == null ? null : r.nannyOf(address);
    });

    public SchedulerState(SchedulerConfig config) {
        super(config);
        // the capabilities beside the core: one line each
        register(new DatasetExtension());
        register(new ActorExtension());
        register(new QueueExtension());
        register(new EventExtension());
        register(new VariableExtension());
        register(new TopicExtension());
        register(new ClientRegistry());
        register(new QueryExtension());
        register(new HistoryExtension());
        if (config.workStealing()) {
            register(new WorkStealingExtension());
        }
        register(new PluginExtension());
        register(new WorkerPluginExtension());
        register(new OrphanKeys());
        register(new DataPlacementExtension());
        register(ActiveMemoryManagerExtension.fromConfig());
        register(new WorkerResourcesExtension());
        register(new ClusterRestart());
        register(new P2PShuffleExtension());
        register(new Cancellation());
        register(new FireAndForget());
        register(new Retry());
        register(new PrintForwarding());
        register(new TaskMetadata());
        register(new LockExtension(dist.config.Config.getDuration("distributed.scheduler.locks.lease-timeout"),
                dist.config.Config.getInt("distributed.scheduler.locks.max-waiters"),
                dist.config.Config.getInt("distributed.scheduler.locks.max-names")));
        register(new IdleTimeout());
        register(new NoWorkersTimeout());
        register(new AdaptiveExtension());
        register(new SpanExtension(dist.config.Config.getInt("distributed.scheduler.spans.max")));
        register(new ProfileExtension());
        register(new TaskStateMetadata());
    }

    /** Adds an extension: it starts now and from now on receives its messages, ticks and notices. */
    void register(SchedulerExtension ext) {
        extensions.register(ext, context);
    }

    /** The registered extension of this class, or null. */
    <T extends SchedulerExtension> T extension(Class<T> type) {
        return extensions.find(type);
    }

    // ================================================================ operations for extensions (see CoreContext)

    void removeRegistered(WorkerState worker, String reason) {
        removeWorker(worker, reason);
    }

    /** See {@link SchedulerContext#setClosing}: only running workers are filed for placement. */
    void setStatus(WorkerState ws, byte status) {
        if (ws.status == status) {
            return;
        }
        log(System.Logger.Level.INFO, "worker " + ws.address + " is " + WorkerState.statusName(status)
                + " (was " + WorkerState.statusName(ws.status) + ")");
        ws.status = status;
        placement.setRunning(ws, status == WorkerState.RUNNING);
        if (status == WorkerState.RUNNING) {
            retryNoWorker(); // queued tasks follow after the event, as after any
        }
    }

    void retireRegistered(WorkerState worker, String reason) {
        ClientRegistry registry = extension(ClientRegistry.class);
        if (registry != null) {
            registry.workerRetired(worker.address, reason);
        }
        out.add(Outgoing.send(worker.address, new CloseWorker(reason)));
        removeWorker(worker, reason, true); // it leaves on purpose: its tasks are not suspicious
    }

    /** Why an extension asked the cluster to shut down; null while none has. */
    private String shutdownReason;

    void askShutdown(String reason) {
        if (shutdownReason == null) {
            shutdownReason = reason;
        }
    }

    /**
     * Why the scheduler should now shut the cluster down (e.g. it was idle past its idle timeout),
     * or null; the shell reads it after each event and closes.
     */
    public String shutdownReason() {
        return shutdownReason;
    }

    /**
     * Since when (the event time, in nanoseconds) the scheduler has had nothing to run and seen no
     * change, as dask's {@code Scheduler.idle_since}; -1 while it is busy.
     */
    public long idleSince() {
        return extension(IdleTimeout.class).idleSince();
    }

    /** The client with this id, registered now if it is new. */
    ClientState client(String id) {
        return clients.computeIfAbsent(id, ClientState::new);
    }

    public SchedulerConfig config() {
        return config;
    }

    // ================================================================ events

    /** Applies one event at time {@code nowNanos} (a value, never read from a clock) and returns what to send. */
    public List<Outgoing> handle(SchedulerEvent event, long nowNanos) {
        java.util.Objects.requireNonNull(event, "event must not be null");
        now = nowNanos;
        if (!out.isEmpty()) {
            out = new ArrayList<>(); // left by an event that failed past its guard
        }
        try {
            switch (event) {
                case SchedulerEvent.FromClient c -> onClient(c.clientId(), c.message(), c.requestId());
                case SchedulerEvent.FromWorker w -> onWorker(w.worker(), w.message(), w.requestId());
                case SchedulerEvent.ClientGone g -> guarded(g.clientId(), 0, "ClientGone", () -> clientGone(g.clientId()));
                case SchedulerEvent.WorkerGone g -> guarded(g.worker(), 0, "WorkerGone", () -> workerGone(g));
                case SchedulerEvent.Tick t -> {
                    guarded(null, 0, "the worker time-to-live check", this::checkHeartbeats);
                    for (SchedulerExtension ext : extensions.all) {
                        guarded(null, 0, ext.name() + "'s tick", ext::tick);
                    }
                }
            }
        } finally {
            eventWhat = "filling the queue";
            eventIsMessage = false;
            eventMessage = null;
            eventSender = null;
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
        eventWhat = what;
        eventIsMessage = false;
        eventSender = sender;
        try {
            action.run();
            drain();
        } catch (OutOfMemoryError e) {
            throw e;
        } catch (Throwable e) {
            failed(sender, requestId, what, e);
        }
    }

    /** Handles one message's part of an event: a static handler, so guarding a message captures nothing. */
    @FunctionalInterface
    private interface MessageHandler {
        void handle(SchedulerState s, String from, Message message, long requestId);
    }

    private static final MessageHandler CLIENT_MESSAGE = SchedulerState::clientMessage;
    private static final MessageHandler WORKER_MESSAGE = SchedulerState::workerMessage;

    /** {@link #guarded(String, long, String, Runnable)} for a message: its name is made only when it fails. */
    private void guarded(String sender, long requestId, Message message, MessageHandler handler) {
        eventMessage = message;
        eventIsMessage = true;
        eventSender = sender;
        try {
            handler.handle(this, sender, message, requestId);
            drain();
        } catch (OutOfMemoryError e) {
            throw e;
        } catch (Throwable e) {
            failed(sender, requestId, typeOf(message), e);
        }
    }

    /** A handler failed: nothing of its recommendations applies; the sender hears why, the log may. */
    private void failed(String sender, long requestId, String what, Throwable e) {
        recs.clear();
        if (failFast && e instanceof ImpossibleTransition it) {
            throw it;
        }
        String why = e.getMessage() == null ? e.toString() : e.getMessage();
        if (logEvents) {
            failures.log(what, sender, e, why, now);
        }
        if (sender != null) {
            out.add(new Outgoing(sender, new ErrorReply(why), requestId));
        }
    }

    /** Whether a bug in the table surfaces to the caller of {@link #handle} instead of being logged: for tests. */
    private boolean failFast;

    /** Makes an {@link ImpossibleTransition} propagate out of {@link #handle}, so a test fails on it. */
    void failFast(boolean on) {
        failFast = on;
    }

    /** One line per kind of failed handler, at most one per interval (see {@link FailureLog}). */
    private final FailureLog failures = new FailureLog(LOG);

    private void onClient(String clientId, Message message, long requestId) {
        if (message instanceof Batch b) {
            for (Message part : b.messages()) {
                onClient(clientId, part, requestId);
            }
            return;
        }
        guarded(clientId, requestId, message, CLIENT_MESSAGE);
    }

    /** A client's message, inside its guard. */
    private void clientMessage(String clientId, Message message, long requestId) {
        if (clientId == null) {
            throw new IllegalArgumentException("client message without a client id: register the client first");
        }
        SchedulerExtension ext = extensions.forClient(message);
        if (ext != null) {
            ext.onClient(clientId, message, requestId);
            return;
        }
        switch (message) {
            case UpdateGraph u -> {
                ClientState c = client(clientId);
                List<TaskState> created;
                try {
                    created = updateGraph(c, u);
                } catch (IllegalArgumentException e) {
                    refuseGraph(c, u, e);
                    throw e;
                }
                for (SchedulerExtension x : extensions.all) {
                    x.graphUpdated(clientId, u.tasks(), created);
                }
            }
            case ReleaseKeys r -> releaseKeys(clientId, nonNull(r.keys(), "ReleaseKeys.keys"));
            case Ping p -> out.add(new Outgoing(clientId, p, requestId));
            case null -> throw new IllegalArgumentException("empty message from client " + clientId);
            default -> throw new IllegalArgumentException("the scheduler does not accept "
                    + message.getClass().getSimpleName() + " from a client");
        }
    }

    private void onWorker(String address, Message message, long requestId) {
        if (message instanceof Batch b) {
            for (Message part : b.messages()) {
                onWorker(address, part, requestId);
            }
            return;
        }
        guarded(address, requestId, message, WORKER_MESSAGE);
    }

    /** A worker's message, inside its guard. */
    private void workerMessage(String address, Message message, long requestId) {
        if (address == null) {
            throw new IllegalArgumentException("worker message without a worker address");
        }
        if (message instanceof RegisterWorker r) {
            addWorker(address, r, requestId);
            return;
        }
        WorkerState ws = workers.get(address);
        if (ws == null) {
            if (departed.containsKey(address)) {
                if (requestId == 0) {
                    // sent before it heard it was removed (its last metrics as it stops): nothing to do
                    log(System.Logger.Level.DEBUG, "dropped " + typeOf(message) + " of departed worker " + address);
                    return;
                }
                throw new IllegalArgumentException("worker " + address + " was removed; register again to go on");
            }
            throw new IllegalArgumentException("unknown worker " + address + ": send RegisterWorker first");
        }
        ws.lastSeen = now;
        SchedulerExtension ext = extensions.forWorker(message);
        if (ext != null) {
            ext.onWorker(ws, message, requestId);
            return;
        }
        switch (message) {
            case Heartbeat h -> ws.memoryBytes = h.memoryBytes();
            case Message.WorkerCustomMetrics m -> {
                ws.metrics = checkedReport(m.metrics(), "metrics");
                ws.startup = checkedReport(m.startup(), "startup");
            }
            case TaskFinished f -> taskFinished(ws, f);
            case TaskErred e -> taskErred(ws, e);
            case TasksStarted t -> tasksStarted(ws, nonNull(t.keys(), "TasksStarted.keys"));
            case TasksQueued t -> tasksQueued(ws, nonNull(t.keys(), "TasksQueued.keys"));
            case TaskSeceded t -> taskSeceded(ws, t.key());
            case MissingData m -> missingData(m.key(), m.worker());
            case AddKeys a -> addKeys(ws, nonNull(a.nbytes(), "AddKeys.nbytes"));
            case KeysReleased k -> keysReleased(ws, nonNull(k.keys(), "KeysReleased.keys"));
            case WorkerStatusChange c -> {
                if (!"paused".equals(c.status()) && !"running".equals(c.status())) {
                    throw new IllegalArgumentException("a worker's status is paused or running, not " + c.status());
                }
                ws.reportedPaused = "paused".equals(c.status());
                if (ws.status != WorkerState.CLOSING_GRACEFULLY) {
                    setStatus(ws, ws.reportedPaused ? WorkerState.PAUSED : WorkerState.RUNNING);
                }
            }
            case WorkerClosing c -> removeWorker(ws, "it closed" + (c.reason() == null ? "" : ": " + c.reason()), true);
            case Ping p -> out.add(new Outgoing(address, p, requestId));
            case Ack a -> { }
            case null -> throw new IllegalArgumentException("empty message from worker " + address);
            default -> throw new IllegalArgumentException("the scheduler does not accept "
                    + message.getClass().getSimpleName() + " from a worker");
        }
    }

    private static <T> T nonNull(T value, String what) {
        if (value == null) {
            throw new IllegalArgumentException(what + " is null: send an empty collection instead");
        }
        return value;
    }

    // ================================================================ clients

    /**
     * Adds a client's tasks and wants. The whole update is checked first (keys, options, cycles);
     * a refused update changes nothing (see {@link #refuseGraph}). Returns the tasks it made, in order.
     */
    private List<TaskState> updateGraph(ClientState c, UpdateGraph u) {
        List<TaskSpec> specs = nonNull(u.tasks(), "UpdateGraph.tasks");
        List<String> wanted = nonNull(u.wanted(), "UpdateGraph.wanted");
        GraphCheck.check(specs, tasks::get);
        ArrayList<TaskState> created = new ArrayList<>(specs.size());
        ArrayList<TaskSpec> createdSpecs = new ArrayList<>(specs.size());
        for (TaskSpec s : specs) {
            TaskPrefix p = prefixOf(s.key());
            TaskState ts = new TaskState(s.key(), null, s.priority(), s.options(), p);
            TaskState known = tasks.putIfAbsent(ts);
            if (known != null) { // same key: the same computation, done once
                if (s.run() == null && known.run == null && known.state == RELEASED) {
                    // scattered again while its old copy lingers as an input: the data is on its way, not lost
                    known.nbytes = -1;
                } else if (known.run == null && s.run() != null && (s.dependencies() == null || s.dependencies().isEmpty())) {
                    // scattered data given a recipe keeps its value, and is recomputed from it once lost
                    functionTable.store(known, s.run());
                    known.submitter = c.id;
                }
                continue;
            }
            p.live++;
            p.states[RELEASED]++;
            functionTable.store(ts, s.run());
            ts.submitter = c.id;
            created.add(ts);
            createdSpecs.add(s);
        }
        TaskState[] fresh = byKey(created);
        for (int i = 0; i < created.size(); i++) {
            link(created.get(i), createdSpecs.get(i).dependencies(), fresh);
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
                case MEMORY -> out.add(Outgoing.send(c.id, new KeyInMemory(ts.key, ts.holderAddresses(), ts.nbytes, null)));
                case ERRED -> out.add(Outgoing.send(c.id, keyErred(ts)));
                case RELEASED -> recommend(ts, WAITING);
                default -> { }
            }
        }
        for (TaskState ts : created) {
            recommendCleanup(ts);
        }
        return java.util.Collections.unmodifiableList(created);
    }

    /** Tells the client which of its futures the refused update leaves without a task (see {@link GraphCheck#refusal}). */
    private void refuseGraph(ClientState c, UpdateGraph u, IllegalArgumentException e) {
        for (KeyErred k : GraphCheck.refusal(c, u.wanted(), e, tasks::get)) {
            out.add(Outgoing.send(c.id, k));
        }
    }

    /** The prefix group of {@code key}; the tasks of one map share theirs, so the last one is tried first. */
    private TaskPrefix prefixOf(String key) {
        int n = TaskPrefix.end(key);
        TaskPrefix p = lastPrefix;
        if (n >= 0 && p != null && p.name.length() == n && key.startsWith(p.name)) {
            return p;
        }
        p = prefixes.computeIfAbsent(n >= 0 ? key.substring(0, n) : TaskPrefix.split(key), TaskPrefix::new);
        lastPrefix = p;
        return p;
    }

    /** Connects a new task to its dependencies; a missing dependency makes it erred at once. */
    /**
     * The tasks just created, in a probe table by their hash: their dependents find them there,
     * among recent objects, rather than in the task table of every task; null when none.
     */
    private static TaskState[] byKey(List<TaskState> created) {
        if (created.isEmpty()) {
            return null;
        }
        TaskState[] t = new TaskState[Integer.highestOneBit(created.size()) * 4];
        int mask = t.length - 1;
        for (int i = 0, n = created.size(); i < n; i++) {
            TaskState ts = created.get(i);
            int j = ts.hash & mask;
            while (t[j] != null) {
                j = (j + 1) & mask;
            }
            t[j] = ts;
        }
        return t;
    }

    /** The task of {@code key}: one of {@code fresh} (see {@link #byKey}), else any known one; null when unknown. */
    private TaskState find(String key, TaskState[] fresh) {
        if (fresh != null) {
            int h = TaskState.hashOf(key);
            int mask = fresh.length - 1;
            for (int j = h & mask; ; j = (j + 1) & mask) {
                TaskState ts = fresh[j];
                if (ts == null) {
                    break;
                }
                if (ts.hash == h && ts.key.equals(key)) {
                    return ts;
                }
            }
        }
        return tasks.get(key);
    }

    private void link(TaskState ts, List<String> depKeys, TaskState[] fresh) {
        if (depKeys == null || depKeys.isEmpty()) {
            return;
        }
        int n = depKeys.size();
        TaskState[] deps = new TaskState[n];
        // a key named twice is one input: above a few, a table of the inputs seen finds repeats
        TaskState[] seen = n > 8 ? new TaskState[Integer.highestOneBit(n) * 4] : null;
        int m = 0;
        List<String> missing = null;
        for (int i = 0; i < n; i++) {
            String k = depKeys.get(i);
            TaskState d = k == null ? null : find(k, fresh);
            if (d == null || d == ts) {
                if (missing == null) {
                    missing = new ArrayList<>();
                }
                missing.add(String.valueOf(k));
            } else if (firstSight(deps, m, seen, d)) {
                deps[m++] = d;
            }
        }
        if (missing != null) {
            // its dependents in this update are released yet: they fail when asked to wait (not logged: a client's mistake)
            transition(ts, ERRED, new Failure(null, "missing dependencies of " + ts.key + ": " + String.join(", ", missing)
                    + " (neither in this update nor known to the scheduler; submit them in the same update)", ts.key));
            return;
        }
        // a map over one shared input: every task holds the same one-element array (never written in place)
        ts.deps = m == 1 ? deps[0].asSoleDependency() : m == n ? deps : java.util.Arrays.copyOf(deps, m);
        for (TaskState d : ts.deps) {
            TaskSet dt = d.dependents;
            if (dt == null) {
                d.dependents = ts.asSoleDependent(); // shared by ts's inputs while they have no other
            } else {
                if (dt.frozen()) {
                    d.dependents = dt = dt.copy();
                }
                dt.add(ts);
            }
        }
    }

    /** Whether {@code d} is not among {@code deps[0..m)}: a scan, or through {@code seen} (a probe table) when given. */
    private static boolean firstSight(TaskState[] deps, int m, TaskState[] seen, TaskState d) {
        if (seen == null) {
            for (int i = 0; i < m; i++) {
                if (deps[i] == d) {
                    return false;
                }
            }
            return true;
        }
        int mask = seen.length - 1;
        for (int j = d.hash & mask; ; j = (j + 1) & mask) {
            TaskState x = seen[j];
            if (x == null) {
                seen[j] = d;
                return true;
            }
            if (x == d) {
                return false;
            }
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
        if (clientId == null) {
            return;
        }
        ClientState c = clients.remove(clientId);
        if (c != null) {
            for (TaskState ts : c.wants) {
                ts.removeWanter(c);
                recommendCleanup(ts);
            }
            c.wants.clear();
        }
        for (SchedulerExtension ext : extensions.all) { // a nanny, or a client that never submitted, has no wants
            ext.clientGone(clientId);
        }
    }

    // ================================================================ workers

    /** Addresses of the last removed workers, so their in-flight one-way messages pass quietly; bounded. */
    private final LinkedHashMap<String, Boolean> departed = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > 1024;
        }
    };

    private void addWorker(String address, RegisterWorker r, long requestId) {
        for (SchedulerExtension ext : extensions.all) {
            String why = ext.refusesWorker(address, r);
            if (why != null) {
                throw new IllegalArgumentException(why);
            }
        }
        String name = r.name() == null || r.name().isEmpty() ? address : r.name();
        String holder = workerNames.get(name);
        if (holder != null && !holder.equals(address) && workers.get(holder) != null) {
            // restrictions by name must mean one worker, as in dask
            log(System.Logger.Level.WARNING, "refused worker " + address + ": duplicate name " + name
                    + ", already used by worker " + holder);
            throw new IllegalArgumentException("name taken, '" + name + "': worker " + holder + " is registered with it");
        }
        WorkerState old = workers.get(address);
        if (old != null) {
            // a new process at a known address: what the old one was running or holding is gone
            // unless the new one reports holding it below
            removeWorker(old, "worker re-registered at the same address");
        }
        departed.remove(address);
        WorkerState ws = new WorkerState(address, replicated);
        ws.name = name;
        ws.nthreads = Math.max(1, r.nthreads());
        ws.memoryLimit = r.memoryLimit();
        ws.pid = r.pid();
        workers.put(address, ws);
        workerNames.put(name, address);
        placement.add(ws);
        log(System.Logger.Level.INFO, "worker joined: " + address + " (" + ws.name + ", " + count(ws.nthreads, "thread")
                + ", pid " + ws.pid + (r.heldKeys() == null || r.heldKeys().isEmpty() ? ""
                : ", holding " + count(r.heldKeys().size(), "key")) + ")");
        ws.lastSeen = now;
        out.add(new Outgoing(address, new WorkerAccepted(config.schedulerId(), config.heartbeatIntervalMillis()),
                requestId));
        if (r.heldKeys() != null) {
            for (Map.Entry<String, Long> e : r.heldKeys().entrySet()) {
                acceptHeld(ws, e.getKey(), e.getValue() == null ? -1 : e.getValue());
            }
        }
        retryNoWorker();
        for (SchedulerExtension ext : extensions.all) {
            ext.workerAdded(ws);
        }
    }

    /** A worker says it holds {@code key}: keep it if the key is useful, else tell the worker to drop it. */
    private void acceptHeld(WorkerState ws, String key, long nbytes) {
        TaskState ts = key == null ? null : tasks.get(key);
        if (ts == null && key != null) {
            // perhaps this scheduler restarted and the client that wants it has not re-sent its graph yet
            for (SchedulerExtension ext : extensions.all) {
                if (ext.keepsUnknownKey(ws, key, nbytes)) {
                    return;
                }
            }
        }
        if (ts == null || ts.state == ERRED) {
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
            // only a task processing on ws counts: its few tasks are searched, not the table of every task
            TaskState ts = key == null ? null : ws.processing.byKey(key, TaskState.hashOf(key));
            if (ts != null && ts.processingOn == ws) {
                ts.executing = executing;
            }
        }
    }

    /** "1 thread", "2 threads": a count for a log line. */
    static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    /** A worker's connection ended: it goes now, unless an extension holds its removal to learn why. */
    private void workerGone(SchedulerEvent.WorkerGone g) {
        WorkerState ws = g.worker() == null ? null : workers.get(g.worker());
        if (ws == null) {
            return;
        }
        String reason = g.reason() == null ? "its connection closed" : g.reason();
        for (SchedulerExtension ext : extensions.all) {
            if (ext.holdsRemoval(ws, reason)) {
                return;
            }
        }
        removeWorker(ws, reason);
    }

    /** The time-to-live check (see {@link WorkerLiveness}): each expired worker's removal settles before the next. */
    private void checkHeartbeats() {
        while (liveness.expireOne()) {
            drain();
        }
    }

    /** A worker is gone: re-place its work, recompute what only it held and someone still needs. */
    private void removeWorker(WorkerState ws, String reason) {
        removeWorker(ws, reason, false);
    }

    /** As {@link #removeWorker(WorkerState, String)}; {@code expected}: it left on purpose, so its tasks are not suspicious. */
    private void removeWorker(WorkerState ws, String reason, boolean expected) {
        log(System.Logger.Level.INFO, "worker lost: " + ws.address + " (" + ws.name + "): " + reason
                + "; it was running " + count(ws.processing.size(), "task") + " and holding "
                + count(ws.hasWhat.size(), "key"));
        WorkerLostEvent.emit(ws.address, reason, expected);
        for (SchedulerExtension ext : extensions.all) {
            ext.workerRemoved(ws);
        }
        workers.remove(ws.address);
        departed.put(ws.address, Boolean.TRUE);
        workerNames.remove(ws.name, ws.address);
        placement.remove(ws);
        dropFree(ws);
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
            // the worker is no longer registered: leaving processing frees nothing on it
            if (!ts.executing || expected) {
                transition(ts, WAITING, null); // only queued there, or it left on purpose: not suspicious
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
                fail(ts, new Failure(null, summary, ts.key));
            } else {
                transition(ts, WAITING, null);
            }
        }
        ws.clearProcessing();
    }

    private void taskFinished(WorkerState ws, TaskFinished f) {
        TaskState ts = f.key() == null ? null : reportedBy(ws, f.key());
        if (f.key() != null) {
            computed(ws, ts, f.key(), f.startNanos(), f.stopNanos(), f.thread(), f.nbytes(), false);
        }
        if (ts == null) {
            queueFree(ws, String.valueOf(f.key()));
            return;
        }
        switch (ts.state) {
            case PROCESSING -> transition(ts, MEMORY, new Arrival(ws, f.nbytes(), f.value(),
                    Math.max(0, f.stopNanos() - f.startNanos())));
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

    /**
     * The task of a key {@code ws} reports on: usually one it was sent, found among its few tasks
     * (cache lines still warm) before the table of every task (misses at a million tasks).
     */
    private TaskState reportedBy(WorkerState ws, String key) {
        TaskState ts = ws.processing.byKey(key, TaskState.hashOf(key));
        return ts != null ? ts : tasks.get(key);
    }

    private void taskErred(WorkerState ws, TaskErred e) {
        TaskState ts = e.key() == null ? null : tasks.get(e.key());
        if (ts == null || ts.state != PROCESSING || ts.processingOn != ws) {
            return; // stale: the task was released, cancelled or moved meanwhile
        }
        computed(ws, ts, ts.key, e.startNanos(), e.stopNanos(), e.thread(), 0, true);
        Trouble tr = ts.trouble();
        tr.failures++;
        int retries = ts.options == null ? 0 : ts.options.retries();
        if (tr.failures <= retries) {
            transition(ts, WAITING, null);
        } else {
            String summary = e.summary() == null ? "task " + ts.key + " failed" : e.summary();
            fail(ts, new Failure(e.exception(), summary, ts.key));
        }
    }

    private void computed(WorkerState ws, TaskState ts, String key, long startNanos, long stopNanos, int thread,
                          long nbytes, boolean erred) {
        for (SchedulerExtension ext : extensions.reporters) {
            ext.computed(ws, ts, key, startNanos, stopNanos, thread, nbytes, erred);
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

    // ================================================================ placement

    /** The placement index: for tests in this package. */
    Placement placement() {
        return placement;
    }

    // ================================================================ switches

    /** Turns work stealing on or off (on unless {@link SchedulerConfig#workStealing()} is false). */
    public void setWorkStealing(boolean on) {
        WorkStealingExtension stealing = extension(WorkStealingExtension.class);
        if (stealing != null) {
            stealing.enabled(on);
        } else if (on) {
            register(new WorkStealingExtension());
        }
    }

    /**
     * Turns queuing of runnable tasks on the scheduler on (the default) or off. Off, every runnable
     * task is sent to a worker at once and only stealing evens the load, as before queuing existed.
     */
    public void setQueuing(boolean on) {
        placement.setQueuing(on);
    }

    // ================================================================ resources

    void releaseHolder(ClientState holder) {
        for (TaskState ts : holder.wants) {
            ts.removeWanter(holder);
            recommendCleanup(ts);
        }
        holder.wants.clear();
    }

    // ================================================================ views

    private final SchedulerView view = new SchedulerView(this);

    /** Read-only questions about tasks, workers, counts and history, e.g. {@code view().stateOf("inc-1")}. */
    public SchedulerView view() {
        return view;
    }

    /** The record of {@code key}, or null: for tests in this package. */
    TaskState task(String key) {
        return tasks.get(key);
    }

    /** Logs one line per event that matters (worker joined or lost, task erred, restart); off by default. */
    public void logEvents(boolean on) {
        logEvents = on;
    }

    /**
     * Checks every internal invariant (counters, back-references) and throws naming the first broken
     * one. For tests: it walks all tasks.
     */
    void validate() {
        Invariants.check(tasks, workers, workerList, noWorker, placement::isQueued, clients.values(), replicated);
        placement.validate();
        for (SchedulerExtension ext : extensions.all) {
            ext.validate();
        }
    }

    /** Names a worker reports at most in its metrics or startup values, and characters of a name or text. */
    static final int MAX_REPORTED = 1000, MAX_REPORTED_CHARS = 10_000;

    private static <V> Map<String, V> checkedReport(Map<String, V> m, String what) {
        if (m == null || m.size() > MAX_REPORTED) {
            throw new IllegalArgumentException("a worker reports at most " + MAX_REPORTED + " " + what + " values, got "
                    + (m == null ? "none" : m.size()));
        }
        for (Map.Entry<String, V> e : m.entrySet()) {
            if (e.getKey() == null || e.getValue() == null || e.getKey().length() > MAX_REPORTED_CHARS
                    || e.getValue() instanceof String t && t.length() > MAX_REPORTED_CHARS) {
                throw new IllegalArgumentException("a worker's " + what + " entry needs a name and a value of at most "
                        + MAX_REPORTED_CHARS + " characters");
            }
        }
        return Map.copyOf(m);
    }

}
