package dist.scheduler;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.EventLoop;
import dist.comm.ConnectionClosedException;
import dist.comm.Handler;
import dist.comm.Peer;
import dist.comm.Server;
import dist.comm.Ticker;
import dist.protocol.Message;
import dist.protocol.Role;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * The scheduler's I/O shell: accepts connections, turns what arrives into {@link SchedulerEvent}s
 * handled one batch at a time by {@link SchedulerState} through an {@link EventLoop} (one thread
 * at a time: the thread that received a message handles it when the loop is free), and sends what
 * the state returns.
 * All scheduling logic lives in the state machine.
 */
public final class SchedulerServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dist.scheduler");

    /** A read of the state, run inside the event loop. */
    private record Query<T>(Function<SchedulerState, T> read, CompletableFuture<T> answer) {
        void run(SchedulerState state) {
            try {
                answer.complete(read.apply(state));
            } catch (Throwable e) {
                answer.completeExceptionally(e);
                if (e instanceof OutOfMemoryError) {
                    throw e;
                }
            }
        }
    }

    private final SchedulerState state;
    private final Server server;
    private final String host;
    private final EventLoop<Object> events = new EventLoop<>(this::handle, 4096);
    /** Destinations by name: worker address, client id, or a connection's own id before it registers. */
    private final Map<String, Peer> routes = new ConcurrentHashMap<>();
    /** Clients in this process (see {@link #attach}): closed with the scheduler. */
    private final java.util.Set<Peer> attached = ConcurrentHashMap.newKeySet();
    private final AtomicLong connectionIds = new AtomicLong();
    private final AtomicInteger workerCount = new AtomicInteger();
    private final ReentrantLock workersLock = new ReentrantLock();
    private final Condition workersChanged = workersLock.newCondition();
    private volatile Ticker ticker;
    private volatile boolean closing;
    /** Whether plugins were added: only then does closing ask the state to close them. */
    private volatile boolean hasPlugins;
    private final CodeRelay code;
    private final WorkerReports reports = new WorkerReports(20_000, 10_000);
    /** Story requests gathered at once ({@link #operability}); more are refused with an error. */
    static final int STORIES = 8;
    private final java.util.concurrent.Semaphore stories = new java.util.concurrent.Semaphore(STORIES);
    /** When a refusal was last logged as a warning: a peer that repeats one cannot flood the log. */
    private final AtomicLong lastRefusalWarning = new AtomicLong(System.nanoTime() - REFUSAL_WARNING_NANOS);
    private static final long REFUSAL_WARNING_NANOS = 10_000_000_000L;
    private volatile String dashboardLink;
    /** The newest records of this process's dist.scheduler loggers, for Client.schedulerLogs. */
    private final dist.comm.LogRing logs = dist.comm.LogRing.of("scheduler", dist.comm.LogRing.under("dist.scheduler"));
    private final dist.comm.Security security;
    private final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
    private final String id;
    /** The scheduler files written by {@link #writeSchedulerFile}: removed on close. */
    private final java.util.Set<java.nio.file.Path> schedulerFiles = ConcurrentHashMap.newKeySet();

    private SchedulerServer(String host, int port, SchedulerConfig config, CommConfig comm) throws IOException {
        this.security = comm.security();
        this.id = config.schedulerId();
        this.state = new SchedulerState(config);
        state.logEvents(true);
        this.host = host;
        this.code = new CodeRelay(routes::get, comm.requestTimeout());
        this.server = Server.listen(host, port, Role.SCHEDULER, comm, this::accept);
    }

    /** Starts a scheduler listening on {@code host:port} (port 0 picks a free port). */
    public static SchedulerServer start(String host, int port, SchedulerConfig config, CommConfig comm)
            throws IOException {
        SchedulerServer s = new SchedulerServer(host, port, config, comm);
        s.startTicking();
        return s;
    }

    /** Starts a scheduler with these plugins, each started before the first event. */
    public static SchedulerServer start(String host, int port, SchedulerConfig config, CommConfig comm,
                                        List<SchedulerPlugin> plugins) throws IOException {
        SchedulerServer s = new SchedulerServer(host, port, config, comm);
        if (!plugins.isEmpty()) {
            try {
                s.addPlugins(plugins);
            } catch (TimeoutException e) {
                s.close();
                throw new IOException("the scheduler did not start its plugins in time", e);
            }
        }
        s.startTicking();
        return s;
    }

    /** Adds a plugin to a running scheduler; it sees the events from now on. */
    public void addPlugin(SchedulerPlugin plugin) throws TimeoutException {
        addPlugins(List.of(java.util.Objects.requireNonNull(plugin, "plugin")));
    }

    private void addPlugins(List<SchedulerPlugin> list) throws TimeoutException {
        query(st -> {
            hasPlugins = true;
            PluginExtension plugins = st.extension(PluginExtension.class);
            for (SchedulerPlugin p : list) {
                plugins.add(p, this);
            }
            return null;
        }, 10, TimeUnit.SECONDS);
    }

    /** Open worker connections, each once. */
    private List<Connection> workerConnections() {
        Map<Connection, Boolean> seen = new java.util.IdentityHashMap<>();
        for (Peer p : routes.values()) {
            if (p instanceof Connection c && c.peerRole() == Role.WORKER && c.isOpen()) {
                seen.put(c, Boolean.TRUE);
            }
        }
        return new ArrayList<>(seen.keySet());
    }

    /** "host:port" that workers and clients connect to. */
    public String address() {
        return host + ":" + server.port();
    }

    public int port() {
        return server.port();
    }

    /** This scheduler's id ({@link SchedulerConfig#schedulerId()}). */
    public String id() {
        return id;
    }

    /**
     * Writes a scheduler file naming this scheduler (as dask's {@code Scheduler(scheduler_file=...)}),
     * removed again when the scheduler closes; workers, nannies and clients started with it find the
     * scheduler there.
     *
     * <pre>{@code
     * scheduler.writeSchedulerFile(Path.of("/shared/scheduler.json"));
     * Client c = Client.connectSchedulerFile(Path.of("/shared/scheduler.json"));
     * }</pre>
     */
    public void writeSchedulerFile(java.nio.file.Path file) throws IOException {
        dist.comm.SchedulerFile.write(file, address(), id);
        schedulerFiles.add(file);
    }

    /** The token and TLS settings it was started with (the dashboard asks the same token of its visitors). */
    public dist.comm.Security security() {
        return security;
    }

    /** Waits until the scheduler has closed (by {@link #close()} or a client's shutdown); false on timeout. */
    public boolean awaitClose(long timeout, TimeUnit unit) throws InterruptedException {
        return closed.await(timeout, unit);
    }

    /** How many workers are registered now. */
    public int workerCount() {
        return workerCount.get();
    }

    /** Waits until at least {@code n} workers are registered; false on timeout. */
    public boolean awaitWorkers(int n, long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        workersLock.lock();
        try {
            while (workerCount.get() < n) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                workersChanged.awaitNanos(left);
            }
            return true;
        } finally {
            workersLock.unlock();
        }
    }

    /**
     * Reads the scheduler's state on its owner thread (the state is not thread-safe) and returns
     * what {@code read} computed; for tools, tests and the local cluster, not for hot paths.
     */
    public <T> T query(Function<SchedulerState, T> read, long timeout, TimeUnit unit) throws TimeoutException {
        Query<T> q = new Query<>(read, new CompletableFuture<>());
        events.submit(q);
        try {
            return q.answer().get(timeout, unit);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TimeoutException("interrupted while reading the scheduler state");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("reading the scheduler state failed", e.getCause());
        }
    }

    /** What a client in this process sends the scheduler: see {@link #attach}. */
    public interface Inlet {
        /** A message from the client; {@code requestId} 0 for one-way, else the client waits for a reply. */
        void accept(Message message, long requestId);

        /** The client is gone. */
        void close();
    }

    /**
     * Connects a client that runs in this process: its messages come in through the returned inlet and
     * the scheduler's go to {@code client} as objects, with no socket and no encoding in between. The
     * scheduler still holds no user object: what a client sends carries its payloads as bytes.
     *
     * <pre>{@code
     * SchedulerServer.Inlet in = scheduler.attach(toClient);   // toClient: a Peer with role CLIENT
     * in.accept(new Message.RegisterClient("client-1"), 1);    // answered through toClient.reply(1, ...)
     * }</pre>
     *
     * @throws IOException if the scheduler is closed
     */
    public Inlet attach(Peer client) throws IOException {
        if (closing) {
            throw new IOException("the scheduler is closed: start a new one (or a new LocalCluster) to connect");
        }
        PeerHandler h = handlerFor(client);
        attached.add(client);
        return new Inlet() {
            @Override
            public void accept(Message message, long requestId) {
                try {
                    h.onMessage(client, message, requestId);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "handler failed on " + message.getClass().getSimpleName()
                            + " from a client in this process", e);
                    if (requestId != 0) {
                        trySend(client, "a client", () -> client.reply(requestId,
                                new Message.ErrorReply("handler failed: " + e)));
                    }
                }
            }

            @Override
            public void close() {
                if (attached.remove(client)) {
                    h.onClose(client, null);
                }
            }
        };
    }

    private Handler accept(Connection conn) {
        PeerHandler h = handlerFor(conn);
        return new Handler() {
            @Override
            public void onMessage(Connection c, Message message, long requestId) {
                h.onMessage(c, message, requestId);
            }

            @Override
            public boolean batchesReads() {
                return true; // it only submits: messages read together make one batch, one write per peer
            }

            @Override
            public void onClose(Connection c, Throwable cause) {
                h.onClose(c, cause);
            }
        };
    }

    /** What arrives from one peer, over a connection or from this process. */
    private interface PeerHandler {
        void onMessage(Peer c, Message message, long requestId);

        void onClose(Peer c, Throwable cause);
    }

    private PeerHandler handlerFor(Peer conn) {
        String connId = "conn-" + connectionIds.incrementAndGet();
        routes.put(connId, conn);
        return new PeerHandler() {
            volatile String identity = connId;

            @Override
            public void onMessage(Peer c, Message message, long requestId) {
                if (message instanceof Message.RegisterClient rc) {
                    // an id belongs to the connection that registered it while that connection lives
                    String refusal = refusedName(rc.clientId(), c, identity, connId, true);
                    if (refusal != null) {
                        LOG.log(warnNow() ? Level.WARNING : Level.DEBUG, "refused client registration from " + c + ": " + refusal);
                        if (requestId != 0) {
                            c.reply(requestId, new Message.ErrorReply(refusal));
                        }
                        return;
                    }
                    identity = rc.clientId();
                    routes.put(rc.clientId(), c);
                    code.clientRegistered(rc.clientId());
                    events.submit(new SchedulerEvent.FromClient(rc.clientId(), message, requestId)); // it answers
                    return;
                }
                if (message instanceof Message.ShutdownCluster && c.peerRole() != Role.WORKER) {
                    if (requestId != 0) {
                        c.reply(requestId, new Message.Ack());
                    }
                    Thread.ofVirtual().name("dist-scheduler-shutdown").start(() -> shutdownCluster(identity, null));
                    return;
                }
                if (code.handle(c, identity, message, requestId)) {
                    return;
                }
                if (operability(c, identity, !identity.equals(connId), message, requestId)) {
                    return;
                }
                if (message instanceof Message.RegisterWorker rw) {
                    String refusal = refusedName(rw.address(), c, identity, connId, false);
                    if (refusal != null) {
                        LOG.log(warnNow() ? Level.WARNING : Level.DEBUG, "refused worker registration from " + c + ": " + refusal);
                        if (requestId != 0) {
                            c.reply(requestId, new Message.ErrorReply(refusal));
                        }
                        return;
                    }
                    identity = rw.address();
                    routes.put(rw.address(), c);
                    if (c instanceof Connection w) {
                        code.workerJoined(w, rw.address()); // uploaded jars arrive before any task
                    }
                }
                if (message instanceof Message.RegisterNanny rn && rn.nannyId() != null) {
                    String refusal = refusedName(rn.nannyId(), c, identity, connId, false);
                    if (refusal != null) {
                        LOG.log(warnNow() ? Level.WARNING : Level.DEBUG, "refused nanny registration from " + c + ": " + refusal);
                        return;
                    }
                    identity = rn.nannyId();
                    routes.put(rn.nannyId(), c);
                    if (c instanceof Connection n) {
                        code.nannyJoined(n, rn.nannyId()); // it may fetch its nanny plugins' classes
                    }
                }
                if (c.peerRole() == Role.WORKER) {
                    events.submit(new SchedulerEvent.FromWorker(identity, message, requestId));
                } else {
                    events.submit(new SchedulerEvent.FromClient(identity, message, requestId));
                }
            }

            @Override
            public void onClose(Peer c, Throwable cause) {
                routes.remove(connId, c);
                String id = identity;
                if (!routes.remove(id, c) && !id.equals(connId)) {
                    return; // replaced by a newer connection under the same name
                }
                if (c.peerRole() == Role.WORKER && !id.equals(connId)) {
                    if (c instanceof Connection w) {
                        code.workerGone(id, w);
                    }
                    // a closed connection with no report is most often a process stopped on purpose (SIGTERM)
                    String reason = cause == null ? "its connection closed with no reason given (the process stopped,"
                            + " or was stopped)" : "connection lost: " + cause.getMessage();
                    // a nannied worker's removal waits in the state for its nanny's report (see ClientRegistry)
                    events.submit(new SchedulerEvent.WorkerGone(id, reason));
                } else if (!id.equals(connId)) {
                    if (c.peerRole() == Role.NANNY && c instanceof Connection n) {
                        code.workerGone(id, n);
                    }
                    code.clientGone(id);
                    events.submit(new SchedulerEvent.ClientGone(id));
                }
            }
        };
    }

    /** True at most once per 10 s: refusals past that are logged at DEBUG. */
    private boolean warnNow() {
        long now = System.nanoTime();
        long last = lastRefusalWarning.get();
        return now - last >= REFUSAL_WARNING_NANOS && lastRefusalWarning.compareAndSet(last, now);
    }

    /**
     * Why {@code c} (now known as {@code identity}) may not take the name {@code name}; null when it may.
     * A name owned by another live connection stays its own: a client's id always, a worker's address
     * when the other connection is no worker (a worker that lost its link may register anew). A
     * connection registers one name.
     */
    private String refusedName(String name, Peer c, String identity, String connId, boolean client) {
        if (name == null || name.isBlank()) {
            return "the registration names no " + (client ? "client id" : "address");
        }
        if (!identity.equals(connId) && !identity.equals(name)) {
            return "this connection is already registered as " + identity + "; it cannot also be " + name
                    + " (one connection serves one client, worker or nanny: open another connection)";
        }
        Peer owner = routes.get(name);
        if (owner != null && owner != c && owner.isOpen() && (client || owner.peerRole() != c.peerRole())) {
            return "the name " + name + " belongs to another live connection";
        }
        return null;
    }

    /** Worker reports, stories, the dashboard's address and the log: answered here, off the state's thread. */
    private boolean operability(Peer c, String identity, boolean registered, Message message, long requestId) {
        switch (message) {
            case Message.WorkerStats ws when c.peerRole() == Role.WORKER -> {
                if (registered) { // kept per worker: an unregistered connection adds none
                    reports.add(identity, ws);
                }
            }
            case Message.StoryRequest sr when requestId != 0 -> {
                // each story asks every worker: a few at a time, the rest refused rather than piled up
                if (!stories.tryAcquire()) {
                    trySend(c, identity, () -> c.reply(requestId, new Message.ErrorReply("the scheduler is already"
                            + " gathering " + STORIES + " task stories; ask again when one has finished")));
                } else {
                    Thread.ofVirtual().name("dist-scheduler-story").start(() -> {
                        try {
                            trySend(c, identity, () -> c.reply(requestId, storyReply(sr.key())));
                        } finally {
                            stories.release();
                        }
                    });
                }
            }
            case Message.ClusterStateRequest r when requestId != 0 && c.peerRole() == Role.CLIENT -> {
                if (!stories.tryAcquire()) {
                    trySend(c, identity, () -> c.reply(requestId, new Message.ErrorReply("the scheduler is already"
                            + " gathering " + STORIES + " stories or dumps; ask again when one has finished")));
                } else {
                    Thread.ofVirtual().name("dist-scheduler-dump").start(() -> {
                        try {
                            trySend(c, identity, () -> c.reply(requestId, clusterState(r, java.time.Duration.ofSeconds(10))));
                        } finally {
                            stories.release();
                        }
                    });
                }
            }
            case Message.TaskStreamRequest r when requestId != 0 -> Thread.ofVirtual().name("dist-scheduler-task-stream")
                    .start(() -> trySend(c, identity, () -> c.reply(requestId, taskStream(r))));
            case Message.DashboardLinkRequest d when requestId != 0 -> c.reply(requestId,
                    new Message.DashboardLink(dashboardLink));
            case Message.LogsRequest l when requestId != 0 -> c.reply(requestId, logs.reply(l.n()));
            case Message.NannyLogsRequest l when requestId != 0 -> Thread.ofVirtual().name("dist-scheduler-nanny-logs")
                    .start(() -> trySend(c, identity, () -> c.reply(requestId, nannyLogs(l))));
            default -> {
                return false;
            }
        }
        return true;
    }

    /** The computations and transfers asked for, at most 20,000 of each, times in epoch microseconds. */
    private Message taskStream(Message.TaskStreamRequest r) {
        int max = Math.clamp(r.max(), 0, 20_000);
        List<ClusterView.Computation> done;
        long streamNext;
        Map<String, long[]> metrics;
        record Read(long next, List<ClusterView.Computation> done, Map<String, long[]> metrics) {}
        try {
            Read all = query(st -> new Read(st.view().taskStreamNext(), st.view().taskStream(r.since(), max),
                    st.view().groupMetrics()), 5, TimeUnit.SECONDS);
            streamNext = all.next();
            done = all.done();
            metrics = all.metrics();
        } catch (TimeoutException | RuntimeException e) {
            return new Message.ErrorReply("the scheduler could not read its task stream: " + e);
        }
        List<WorkerReports.Transfer> moved = reports.transfersSince(r.transfersSince(), max);
        long offsetMicros = epochMicrosNow() - System.nanoTime() / 1000;
        int n = done.size();
        List<String> keys = new ArrayList<>(n);
        List<String> workers = new ArrayList<>(n);
        List<Long> start = new ArrayList<>(n);
        List<Long> stop = new ArrayList<>(n);
        List<Long> nbytes = new ArrayList<>(n);
        List<Boolean> erred = new ArrayList<>(n);
        List<Integer> threads = new ArrayList<>(n);
        long next = max == 0 ? streamNext : r.since(); // max 0 asks where the stream is now
        for (ClusterView.Computation c : done) {
            keys.add(c.key());
            workers.add(c.worker());
            start.add(c.startNanos() / 1000 + offsetMicros);
            stop.add(c.stopNanos() / 1000 + offsetMicros);
            nbytes.add(c.nbytes());
            erred.add(c.erred());
            threads.add(c.thread());
            next = c.seq() + 1;
        }
        int m = moved.size();
        List<String> tw = new ArrayList<>(m);
        List<String> tp = new ArrayList<>(m);
        List<Long> ts = new ArrayList<>(m);
        List<Long> te = new ArrayList<>(m);
        List<Long> tb = new ArrayList<>(m);
        long nextTransfer = max == 0 ? reports.nextTransfer() : r.transfersSince();
        for (WorkerReports.Transfer t : moved) {
            tw.add(t.worker());
            tp.add(t.peer());
            ts.add(t.startMicros());
            te.add(t.stopMicros());
            tb.add(t.bytes());
            nextTransfer = t.seq() + 1;
        }
        List<String> mg = new ArrayList<>(metrics.size());
        List<Long> mn = new ArrayList<>(metrics.size() * 5);
        List<Long> mb = new ArrayList<>(metrics.size() * 5);
        metrics.forEach((g, v) -> {
            mg.add(g);
            for (int a = 0; a < 5; a++) {
                mn.add(v[2 * a]);
                mb.add(v[2 * a + 1]);
            }
        });
        return new Message.TaskStreamReply(next, keys, workers, start, stop, nbytes, erred,
                nextTransfer, tw, tp, ts, te, tb, threads, mg, mn, mb);
    }

    /** Asks the nannies of the workers named for their log records; those that do not answer in 5 s are left out. */
    private Message nannyLogs(Message.NannyLogsRequest r) {
        Map<String, String> nannies;
        try {
            nannies = query(st -> st.view().nanniesByWorker(), 5, TimeUnit.SECONDS);
        } catch (TimeoutException | RuntimeException e) {
            return new Message.ErrorReply("the scheduler could not list the nannies: " + e);
        }
        List<String> wanted = r.workers() == null || r.workers().isEmpty() ? List.copyOf(nannies.keySet()) : r.workers();
        Map<String, CompletableFuture<Message>> asked = new LinkedHashMap<>();
        for (String w : wanted) {
            String nanny = nannies.get(w);
            if (nanny != null && routes.get(nanny) instanceof Connection n) {
                try {
                    asked.put(w, n.request(new Message.LogsRequest(r.n()), java.time.Duration.ofSeconds(5)));
                } catch (ConnectionClosedException e) {
                    // gone meanwhile
                }
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        List<String> workers = new ArrayList<>();
        List<Message.LogsReply> logs = new ArrayList<>();
        for (Map.Entry<String, CompletableFuture<Message>> e : asked.entrySet()) {
            try {
                if (e.getValue().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
                        instanceof Message.LogsReply l) {
                    workers.add(e.getKey());
                    logs.add(l);
                }
            } catch (java.util.concurrent.ExecutionException | TimeoutException ex) {
                // that nanny is left out
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return new Message.NannyLogsReply(workers, logs);
    }

    private Message storyReply(String key) {
        if (key == null) {
            return new Message.ErrorReply("StoryRequest needs a key");
        }
        try {
            return story(key, java.time.Duration.ofSeconds(5));
        } catch (TimeoutException | RuntimeException e) {
            return new Message.ErrorReply("the story of " + key + " could not be gathered: " + e.getMessage());
        }
    }

    /**
     * Everything that happened to task {@code key}, oldest first: its state changes here, and what
     * each worker did with it (received, fetched, executed, released), merged by time. Workers that
     * do not answer within {@code timeout} are left out.
     */
    public Message.StoryReply story(String key, java.time.Duration timeout) throws TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<StoryEntry> here = query(st -> st.view().story(key), timeout.toMillis(), TimeUnit.MILLISECONDS);
        long epochOffsetMicros = epochMicrosNow() - System.nanoTime() / 1000;
        List<Object[]> steps = new ArrayList<>();
        for (StoryEntry e : here) {
            steps.add(new Object[] {"scheduler", e.from() + " -> " + e.to(), e.nanos() / 1000 + epochOffsetMicros,
                    e.worker() == null ? "" : e.worker()});
        }
        Map<String, CompletableFuture<Message>> asked = new LinkedHashMap<>();
        for (Connection w : workerConnections()) {
            try {
                asked.put(w.toString(), w.request(new Message.StoryRequest(key), timeout));
            } catch (ConnectionClosedException e) {
                // gone meanwhile
            }
        }
        for (CompletableFuture<Message> f : asked.values()) {
            try {
                long left = Math.max(1, deadline - System.nanoTime());
                if (f.get(left, TimeUnit.NANOSECONDS) instanceof Message.StoryReply r) {
                    int n = Math.min(Math.min(size(r.where()), size(r.events())),
                            Math.min(size(r.epochMicros()), size(r.details())));
                    for (int i = 0; i < n; i++) {
                        steps.add(new Object[] {r.where().get(i), r.events().get(i), r.epochMicros().get(i),
                                r.details().get(i)});
                    }
                }
            } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
                LOG.log(Level.DEBUG, "a worker did not tell the story of " + key + ": " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        steps.sort(java.util.Comparator.comparingLong(a -> (Long) a[2]));
        List<String> where = new ArrayList<>();
        List<String> events = new ArrayList<>();
        List<Long> times = new ArrayList<>();
        List<String> details = new ArrayList<>();
        for (Object[] a : steps) {
            where.add((String) a[0]);
            events.add((String) a[1]);
            times.add((Long) a[2]);
            details.add((String) a[3]);
        }
        return new Message.StoryReply(where, events, times, details);
    }

    /**
     * The scheduler's state and every worker's that answers within {@code timeout}, for a dump file
     * (dask's dump_cluster_state); a worker that does not answer is left out.
     */
    private Message clusterState(Message.ClusterStateRequest r, java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> exclude = r.exclude() == null ? List.of() : List.copyOf(r.exclude());
        Map<String, Object> here;
        try {
            here = query(st -> st.view().dump(exclude), timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | RuntimeException e) {
            return new Message.ErrorReply("the scheduler could not read its state: " + e);
        }
        List<CompletableFuture<Message>> asked = new ArrayList<>();
        for (Connection w : workerConnections()) {
            try {
                asked.add(w.request(new Message.ClusterStateRequest(exclude), timeout));
            } catch (ConnectionClosedException e) {
                // gone meanwhile
            }
        }
        Map<String, Object> workers = new java.util.TreeMap<>();
        for (CompletableFuture<Message> f : asked) {
            try {
                long left = Math.max(1, deadline - System.nanoTime());
                if (f.get(left, TimeUnit.NANOSECONDS) instanceof Message.WorkerStateDump d && d.state() != null
                        && d.state().get("address") instanceof String a) {
                    workers.put(a, d.state());
                }
            } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
                LOG.log(Level.DEBUG, "a worker did not send its state: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        Map<String, Object> scheduler = new java.util.LinkedHashMap<>();
        scheduler.put("address", address());
        scheduler.putAll(here);
        return new Message.ClusterStateDump(scheduler, workers);
    }

    private static long epochMicrosNow() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
    }

    private static int size(List<?> l) {
        return l == null ? 0 : l.size();
    }

    /** What workers report about themselves (CPU, memory, transfers). */
    public WorkerReports reports() {
        return reports;
    }

    /** Tells clients where the dashboard is ({@code url} null: none). */
    public void dashboardLink(String url) {
        this.dashboardLink = url;
    }

    /** The dashboard's address, or null when none runs. */
    public String dashboardLink() {
        return dashboardLink;
    }

    /**
     * Every 100 ms: the worker time-to-live check, then the extensions' (work stealing, deadlines for
     * nannies' reports, keys of returning workers). The shared {@link Ticker} goes on after any
     * failure (logged once per kind), so no failure leaves dead workers counted or stealing stopped.
     */
    private void startTicking() {
        ticker = Ticker.start("dist-scheduler-tick", java.time.Duration.ofMillis(100),
                now -> events.submit(new SchedulerEvent.Tick()));
    }

    private void handle(List<Object> batch) {
        if (closing) {
            for (Object e : batch) {
                if (e instanceof Query<?> q) {
                    q.answer().completeExceptionally(new IllegalStateException("the scheduler is closed"));
                }
            }
            return;
        }
        List<Outgoing> out = new ArrayList<>();
        for (Object e : batch) {
            if (e instanceof Query<?> q) {
                q.run(state);
                continue;
            }
            try {
                out.addAll(state.handle((SchedulerEvent) e, System.nanoTime()));
            } catch (OutOfMemoryError ex) {
                throw ex;
            } catch (Throwable ex) {
                // a bug in one event must not stop the scheduler, nor the thread that brought the event
                LOG.log(Level.ERROR, "scheduler failed to handle " + describe(e) + "; it carries on", ex);
            }
        }
        publishWorkerCount();
        send(out);
        String shutdown = state.shutdownReason();
        if (shutdown != null && !shuttingDown) {
            shuttingDown = true;
            Thread.ofVirtual().name("dist-scheduler-shutdown").start(() -> shutdownCluster(null, shutdown));
        }
    }

    /** Set once the state asked the cluster to shut down (idle timeout), so it is done once. */
    private volatile boolean shuttingDown;

    private static String describe(Object e) {
        String s = String.valueOf(e);
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    private void publishWorkerCount() {
        int n = state.view().workers().size();
        if (n != workerCount.get()) {
            workersLock.lock();
            try {
                workerCount.set(n);
                workersChanged.signalAll();
            } finally {
                workersLock.unlock();
            }
        }
    }

    /** Sends replies one by one and groups the rest per destination into one message each. */
    private void send(List<Outgoing> out) {
        if (out.isEmpty()) {
            return;
        }
        Map<String, List<Message>> grouped = new LinkedHashMap<>();
        for (Outgoing o : out) {
            if (o.message() instanceof Message.ComputeTask ct && ct.clientId() != null) {
                code.taskSent(o.to(), ct.clientId()); // before it is sent: the worker may ask for classes at once
            }
            if (o.message() instanceof Message.SetupPlugin sp && sp.clientId() != null) {
                code.taskSent(o.to(), sp.clientId()); // a plugin's classes come from its client, as a task's
            }
            if (o.message() instanceof Message.NannyPlugins np) {
                np.plugins().stream().filter(sp -> sp.clientId() != null).forEach(sp -> code.taskSent(o.to(), sp.clientId()));
            }
            if (o.replyTo() != 0) {
                Peer c = routes.get(o.to());
                if (c != null) {
                    trySend(c, o.to(), () -> c.reply(o.replyTo(), o.message()));
                }
            } else {
                grouped.computeIfAbsent(o.to(), k -> new ArrayList<>()).add(o.message());
            }
        }
        for (Map.Entry<String, List<Message>> e : grouped.entrySet()) {
            Peer c = routes.get(e.getKey());
            if (c == null) {
                continue; // gone; its removal event is queued
            }
            List<Message> msgs = e.getValue();
            Message m = msgs.size() == 1 ? msgs.get(0) : new Message.Batch(msgs);
            trySend(c, e.getKey(), () -> c.send(m));
        }
    }

    private static void trySend(Peer c, String to, Runnable r) {
        try {
            r.run();
        } catch (ConnectionClosedException e) {
            LOG.log(Level.DEBUG, "dropped a message to " + to + ": connection closed");
        } catch (RuntimeException e) {
            // the peer would wait for what it was not sent: end its link, so it registers again (a worker)
            // or its futures resume or fail as after any lost link (a client); the other peers' messages go on
            LOG.log(Level.ERROR, "could not send to " + to + " (" + e + "); closing its link", e);
            try {
                c.close();
            } catch (RuntimeException x) {
                LOG.log(Level.DEBUG, "closing the link to " + to + " failed too: " + x);
            }
        }
    }

    /**
     * A client ({@code by}) or the scheduler itself ({@code reason}, e.g. idle-timeout-exceeded)
     * stops the whole cluster: every worker is told to close, then the scheduler closes.
     */
    private void shutdownCluster(String by, String reason) {
        String why = by != null ? "asked by client " + by : reason;
        LOG.log(Level.INFO, by != null ? "client " + by + " asked the cluster to shut down"
                : "closing the cluster: " + reason);
        // nannies first, so they know not to start again the workers that stop next
        for (Role role : List.of(Role.NANNY, Role.WORKER)) {
            for (Peer c : routes.values()) {
                if (c.peerRole() == role) {
                    trySend(c, "a " + role.name().toLowerCase(java.util.Locale.ROOT),
                            () -> c.send(new Message.CloseWorker("the cluster is shutting down, " + why)));
                }
            }
        }
        close();
    }

    /** Stops the server: workers and clients see their connections close. */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        if (hasPlugins) {
            try {
                query(st -> {
                    st.extension(PluginExtension.class).close();
                    return null;
                }, 2, TimeUnit.SECONDS);
            } catch (TimeoutException | RuntimeException e) {
                LOG.log(Level.DEBUG, "plugins were not closed in time: " + e);
            }
        }
        closing = true;
        Ticker t = ticker;
        if (t != null) {
            t.close();
        }
        String here = address(); // the socket says its port only while open
        server.close();
        for (Peer p : List.copyOf(attached)) {
            p.close(); // the client sees the scheduler go, as over a socket
        }
        for (java.nio.file.Path f : schedulerFiles) {
            dist.comm.SchedulerFile.removeIfNames(f, here);
        }
        closed.countDown();
    }
}
