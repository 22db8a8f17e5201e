package dist.worker;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.EventLoop;
import dist.comm.ConnectionClosedException;
import dist.comm.Handler;
import dist.comm.Reconnect;
import dist.comm.Ticker;
import dist.comm.Server;
import dist.comm.SpinWait;
import dist.protocol.Invokable;
import dist.protocol.Message;
import dist.protocol.Role;
import dist.protocol.RunCodec;
import dist.protocol.TaskCall;
import dist.serial.Encoded;
import dist.serial.Serializer;

import dist.config.Config;

import java.io.IOException;
import java.time.Duration;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The worker's I/O shell: holds the data, runs tasks on its thread slots, fetches inputs from
 * peers and serves its data to them. What to run and fetch is decided by {@link WorkerMachine}
 * one event batch at a time through an {@link EventLoop}. A slot thread that finishes a task hands
 * the result to the loop and usually picks up the next task itself, with no thread hand-off.
 */
public final class WorkerServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dist.worker");
    private static final Duration TICK = Duration.ofMillis(100);

    /**
     * How a worker is set up.
     *
     * @param schedulerAddress "host:port" of the scheduler
     * @param host             interface to listen on for peers; also the advertised host
     * @param port             port for peers (0: any free one)
     * @param nthreads         task slots
     * @param name             a name for people and restrictions; null: the address
     * @param memoryLimit      bytes, reported to the scheduler (0: none)
     * @param contactAddress   the address peers and the scheduler should use, "host" or "host:port",
     *                         when it differs from where the worker listens (NAT, containers,
     *                         listening on 0.0.0.0); null: {@code host} and the listening port
     */
    public record Options(String schedulerAddress, String host, int port, int nthreads, String name,
                          long memoryLimit, int inlineResultLimit, CommConfig comm, String contactAddress) {
        public Options {
            if (nthreads < 1) {
                throw new IllegalArgumentException("nthreads must be at least 1, got " + nthreads);
            }
            if (contactAddress != null && (contactAddress.isBlank() || contactAddress.startsWith(":")
                    || contactAddress.endsWith(":"))) {
                throw new IllegalArgumentException("contactAddress must be HOST or HOST:PORT, got '"
                        + contactAddress + "'");
            }
        }

        /** Options whose advertised address is {@code host} and the listening port. */
        public Options(String schedulerAddress, String host, int port, int nthreads, String name,
                       long memoryLimit, int inlineResultLimit, CommConfig comm) {
            this(schedulerAddress, host, port, nthreads, name, memoryLimit, inlineResultLimit, comm, null);
        }

        public static Options of(String schedulerAddress, int nthreads) {
            return new Options(schedulerAddress, "127.0.0.1", 0, nthreads, null, 0, 8 * 1024, CommConfig.DEFAULT);
        }
    }

    private final Options options;
    private final Serializer serializer = Serializer.defaults();
    private final ClassLoader loader;
    private final CodeLoaders code;
    private final Map<Class<?>, AutoCloseable> shared = new ConcurrentHashMap<>();
    private final TaskContext.Host host = new TaskContext.Host() {
        @Override
        public void seceded(String key, boolean first) {
            // the seceding thread keeps its task; a new thread takes over the slot it gave up (a task
            // run on a reader thread gave up no slot thread, and one seceding again gave it up before)
            if (first && inlineRunner != Thread.currentThread()) {
                startSlot();
            }
            slotNumbers.release(-1); // a seceded task holds no slot: the next task may report its number
            events.submit(new WorkerEvent.Seceded(key));
        }

        @Override
        public void rejoined(String key) {
            events.submit(new WorkerEvent.Rejoined(key));
        }

        @Override
        public void printed(String key, String text, boolean stderr) {
            events.submit(new Message.TaskPrint(key, text, stderr)); // before the task's result, on the same link
        }

        @Override
        public String schedulerAddress() {
            return options.schedulerAddress();
        }

        @Override
        public String workerAddress() {
            return address;
        }

        @Override
        public CodeLoaders code() {
            return code;
        }

        @Override
        public <T extends AutoCloseable> T shared(Class<T> type, java.util.function.Supplier<T> create) {
            if (closing) {
                throw new IllegalStateException("worker " + address + " is closing");
            }
            return type.cast(shared.computeIfAbsent(type, t -> create.get()));
        }

        @Override
        public WorkerServer server() {
            return WorkerServer.this;
        }
    };

    /** What an actor's constructor and calls run in: a task's context (see {@link ActorCallContext}). */
    private final ActorCallContext actorCalls = new ActorCallContext(this, host);

    /** Runs {@code call} of actor {@code actorId} as this worker's, in a task's context. */
    <T> T runForActor(String actorId, ClassLoader loader, java.util.concurrent.Callable<T> call) throws Exception {
        return actorCalls.run(actorId, loader, call);
    }

    // ---- the p2p shuffle's access to this worker (ShuffleService, ShuffleExtension)

    /** Where this worker keeps shuffle shards, made at first use and closed with the worker. */
    ShuffleStore shuffleStore() {
        return host.shared(ShuffleStore.class, () -> new ShuffleStore(data.policy().targetBytes()));
    }

    /** The bound on shuffle bytes this worker has in flight to each peer. */
    ShuffleSends shuffleSends() {
        return host.shared(ShuffleSends.class, () -> new ShuffleSends(ShuffleService.IN_FLIGHT_BYTES));
    }

    Connection peerConnection(String addr) throws IOException {
        return peers.get(addr);
    }

    java.util.concurrent.CompletableFuture<Message> askScheduler(Message m) {
        return scheduler.request(m);
    }

    java.time.Duration requestTimeout() {
        return options.comm().requestTimeout();
    }

    private final DataStore data;
    /** The pause state last told to the state machine; written on the event loop only, read by plugins' status. */
    private volatile boolean pausedForMemory;
    private final WorkerMetrics metrics = new WorkerMetrics();
    /** Where the time of tasks went, per span and group, for the scheduler (see {@link SchedulerReports}). */
    private final FineMetrics fine = new FineMetrics();
    /** The counters of the task (or fetch) the current thread works for: a spill on its way counts there. */
    private final ThreadLocal<FineMetrics.Bucket> countingFor = new ThreadLocal<>();
    /** Events (and re-registration steps) for the state machine; paused until registration made it. */
    private final EventLoop<Object> events = EventLoop.paused(this::handle, 1024);
    /** Tasks the state machine started, waiting for a slot thread. */
    private final LinkedBlockingQueue<WorkerInstruction.Execute> runnable = new LinkedBlockingQueue<>();
    /** Held while tasks are handed to slots and their start notice is written. */
    private final ReentrantLock noticeLock = new ReentrantLock();
    /** Set on the scheduler connection's reader while it handles a message: a task to run right there. */
    private final ThreadLocal<WorkerInstruction.Execute[]> runHere = new ThreadLocal<>();
    /** The reader thread running a task now (it holds no slot thread), interrupted on close as slots are. */
    private volatile Thread inlineRunner;
    /** A free slot polls this long before it parks: the next task often comes sooner than a wake-up would. */
    private final long idleSpinNanos = Config.getInt("distributed.worker.idle-spin-us") * 1000L;
    private final Server server;
    private final String address;
    private volatile WorkerMachine state;
    private final List<Thread> slots = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicInteger slotIds = new AtomicInteger();
    /** The slot numbers tasks report (0 to nthreads - 1). */
    private final SlotNumbers slotNumbers;
    private final PeerLinks peers;
    /** Results served to, scattered to, replicated to and fetched by this worker. */
    private final DataExchange exchange;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Duration reconnectTimeout = Config.getDuration("distributed.worker.reconnect-timeout");
    /** Registers again after the scheduler link was lost; never on the event loop or a reader. */
    private final Reconnect reconnect = new Reconnect("dist-worker-reconnect",
            Reconnect.Policy.fromConfig(reconnectTimeout), () -> this.closing, this::registerAgain);
    private volatile Connection scheduler;
    private volatile boolean closing;
    /** Set when the worker stopped because the JVM ran out of memory. */
    private volatile String fatalError;
    /** The key each thread is executing now: executions that will report, whatever happens to the link. */
    private final Map<Thread, String> running = new ConcurrentHashMap<>();
    /** Abstract resources offered to the scheduler (e.g. GPU=2); empty for none. */
    private Map<String, Double> resources = Map.of();
    /** What this worker tells the scheduler on its timer; set before register() starts the threads that read it. */
    private SchedulerReports reports;
    private Ticker ticker;
    private final java.util.Set<String> loggedTickFailures = ConcurrentHashMap.newKeySet();

    private WorkerServer(Options options, java.nio.file.Path localDirectory) throws IOException {
        this.options = options;
        HeapWatch.start();
        // fractions of the heap when it is the smaller: a nanny gives its worker -Xmx of at most 0.6 x the limit,
        // and results held up to 0.6 x the limit would fill that heap before anything spilled
        this.data = new DataStore(options.memoryLimit() > 0
                ? MemoryPolicy.fromConfig(Math.min(options.memoryLimit(), HeapWatch.heapMax()))
                : MemoryPolicy.unlimited(), localDirectory);
        data.spillListener(this::spilled);
        this.loader = Thread.currentThread().getContextClassLoader() != null
                ? Thread.currentThread().getContextClassLoader() : WorkerServer.class.getClassLoader();
        this.code = new CodeLoaders(loader, this::fetchClass);
        // the capabilities beside running tasks: one line each, registered before the first request
        register(new RunFunctionExtension());
        register(new CallStackExtension());
        register(new LogForwarding());
        register(new LogsExtension());
        register(new ShuffleExtension());
        register(new Profiler());
        this.peers = new PeerLinks(options.comm());
        // made before the listener, which may hand it a request at once; the address is known after
        this.exchange = new DataExchange(this::address, data, peers, options.comm().requestTimeout(), events,
                metrics, countingFor, () -> scheduler, this::outOfMemory);
        this.server = Server.listen(options.host(), options.port(), Role.WORKER, options.comm(), c -> peerHandler);
        this.address = advertised(options, server.port());
        this.reports = reports(WorkerReporting.NONE);
        this.slotNumbers = new SlotNumbers(options.nthreads());
        for (int i = 0; i < options.nthreads(); i++) {
            slots.add(Thread.ofPlatform().name("dist-worker-slot-" + slotIds.getAndIncrement()).daemon(true)
                    .unstarted(this::slotLoop));
        }
    }

    /** The address others use: the contact address (with the listening port when it names none), else host:port. */
    static String advertised(Options options, int listeningPort) {
        String c = options.contactAddress();
        if (c == null) {
            return options.host() + ":" + listeningPort;
        }
        if (c.startsWith("tcp://")) {
            c = c.substring(6);
        }
        if (c.startsWith("[")) {
            return c.contains("]:") ? c : c + ":" + listeningPort;
        }
        int colon = c.indexOf(':');
        if (colon < 0) {
            return c + ":" + listeningPort;
        }
        // a bare IPv6 literal has several colons and no port
        return colon == c.lastIndexOf(':') ? c : "[" + c + "]:" + listeningPort;
    }

    /** Starts a worker, registers it with the scheduler and returns once the scheduler accepted it. */
    public static WorkerServer start(Options options) throws IOException {
        WorkerServer w = new WorkerServer(options, null);
        try {
            w.register();
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
        return w;
    }

    /**
     * Starts a worker that offers abstract {@code resources} (e.g. {@code GPU=2}): tasks that need some
     * run here only while enough are free.
     */
    public static WorkerServer start(Options options, Map<String, Double> resources) throws IOException {
        return start(options, resources, null);
    }

    /**
     * Starts a worker as {@link #start(Options, Map)} whose results spill (past its memory limit) into a
     * fresh folder under {@code localDirectory} (null: under the system's temporary directory), removed
     * when the worker closes. {@code localDirectory} is made when missing; one that cannot be made or
     * written fails the start with an IOException naming it.
     *
     * <pre>{@code
     * WorkerServer w = WorkerServer.start(WorkerServer.Options.of("127.0.0.1:8786", 4), Map.of(), Path.of("/scratch"));
     * }</pre>
     */
    public static WorkerServer start(Options options, Map<String, Double> resources, java.nio.file.Path localDirectory)
            throws IOException {
        return start(options, resources, localDirectory, WorkerReporting.NONE);
    }

    /**
     * Starts a worker as {@link #start(Options, Map, java.nio.file.Path)} that also reports {@code reporting}'s
     * metrics and startup values to the scheduler (dask's {@code Worker(metrics=..., startup_information=...)}):
     * {@code WorkerServer.start(options, Map.of(), null, new WorkerReporting(Map.of("port", w -> port), Map.of()))}.
     */
    public static WorkerServer start(Options options, Map<String, Double> resources, java.nio.file.Path localDirectory,
                                     WorkerReporting reporting) throws IOException {
        if (localDirectory != null) {
            // a folder that cannot be made fails the start, not the first spill long after
            try {
                java.nio.file.Files.createDirectories(localDirectory);
            } catch (IOException e) {
                throw new IOException("cannot use local directory " + localDirectory + ": " + e, e);
            }
            if (!java.nio.file.Files.isWritable(localDirectory)) {
                throw new IOException("cannot use local directory " + localDirectory + ": it is not writable");
            }
        }
        WorkerServer w = new WorkerServer(options, localDirectory);
        w.resources = Map.copyOf(resources);
        w.reports = w.reports(reporting);
        try {
            w.register();
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
        return w;
    }

    private void register() throws IOException {
        Connection c = Connection.connect(options.schedulerAddress(), Role.WORKER, options.comm(), schedulerHandler);
        Message.WorkerAccepted accepted = awaitAccepted(c, announce(c, Map.of()), options.comm());
        // heartbeats as often as the scheduler asks, so its timeout sees them
        WorkerConfig wc = WorkerConfig.defaults()
                .withHeartbeatIntervalNanos(TimeUnit.MILLISECONDS.toNanos(accepted.heartbeatIntervalMillis()));
        if (data.policy().limited()) {
            // as dask's distributed.worker.memory.transfer (0.1): a fetch brings at most a tenth of the
            // memory at once, where 50 MB of inputs arriving together could fill a small heap
            wc = wc.withMaxFetchBytes(Math.max(1, Math.min(wc.maxFetchBytes(), data.policy().limit() / 10)));
        }
        this.state = new WorkerMachine(address, options.nthreads(), wc).offering(resources);
        events.start();
        slots.forEach(Thread::start);
        ticker = Ticker.start("dist-worker-tick", TICK, this::tick, this::tickFailed);
        // a link that closed after the scheduler accepted this worker but before the state machine
        // above existed found no state to reconnect for (onClose): reconnect for it now, or the worker
        // would wait for a scheduler that returns without it. Both may start it: a reconnect runs once.
        if (!closing && !c.isOpen()) {
            LOG.log(Level.WARNING, "lost the scheduler at " + options.schedulerAddress()
                    + " as it accepted this worker; reconnecting");
            reconnect();
        }
    }

    /**
     * Writes the registration on {@code c}, reporting {@code held} keys, and makes {@code c} the
     * scheduler link: whatever is sent from here on follows the registration on the wire.
     */
    private CompletableFuture<Message> announce(Connection c, Map<String, Long> held) {
        CompletableFuture<Message> reply = c.request(new Message.RegisterWorker(address, name(),
                options.nthreads(), options.memoryLimit(), ProcessHandle.current().pid(), held));
        if (!resources.isEmpty()) {
            c.send(new Message.WorkerResources(resources)); // again after every reconnection
        }
        if (reports.hasCustom()) {
            c.send(reports.customMetrics());
        }
        scheduler = c;
        return reply;
    }

    private Message.WorkerAccepted awaitAccepted(Connection c, CompletableFuture<Message> request, CommConfig comm)
            throws IOException {
        Message reply;
        try {
            reply = request.get(comm.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            c.abort(e);
            throw new IOException("scheduler at " + options.schedulerAddress() + " did not accept this worker: " + e, e);
        }
        if (!(reply instanceof Message.WorkerAccepted accepted)) {
            c.close();
            throw new IOException("scheduler at " + options.schedulerAddress() + " refused this worker: "
                    + (reply instanceof Message.ErrorReply e ? e.message() : reply));
        }
        return accepted;
    }

    /**
     * The scheduler went away: try again with back-off until it is back on the same address, then
     * register again reporting the keys held here; stop once the reconnect timeout has passed.
     */
    private void reconnect() {
        reconnect.start().whenComplete((outcome, failure) -> {
            if (failure != null) {
                if (TaskErrors.fatal(failure)) {
                    outOfMemory("registering again", failure);
                } else if (!closing) {
                    LOG.log(Level.ERROR, "worker " + address + " failed to register again; it tries again", failure);
                    reconnect();
                }
                return;
            }
            if (outcome == Reconnect.Outcome.TIMED_OUT) {
                LOG.log(Level.WARNING, "the scheduler at " + options.schedulerAddress() + " did not come back within "
                        + reconnectTimeout.toMillis() + " ms (distributed.worker.reconnect-timeout); stopping");
                stop();
                return;
            }
            Connection now = scheduler;
            if (!closing && now != null && !now.isOpen()) {
                reconnect(); // it closed again while this run ended, and that close found it busy
            }
        });
    }

    /** One attempt to register again: connect, register on the new link from the event loop, await the answer. */
    private void registerAgain(Duration connectTimeout) throws IOException, InterruptedException {
        CommConfig once = options.comm().withConnectTimeout(connectTimeout);
        Connection c = Connection.connect(options.schedulerAddress(), Role.WORKER, once, schedulerHandler);
        Registration r = announceOnOwner(c);
        awaitAccepted(c, r.reply(), once);
        LOG.log(Level.INFO, "registered again with the scheduler at " + options.schedulerAddress()
                + ", reporting " + r.held() + " held keys");
    }

    /** A registration written by the event loop, with the number of held keys it reported. */
    private record Registration(CompletableFuture<Message> reply, int held) {
    }

    /** The event-loop step that reads the task records for a cluster dump. */
    private record Dump(List<String> exclude, CompletableFuture<Map<String, Object>> done) {
    }

    /** A cluster dump's part of this worker: its figures here, its task records from the event loop. */
    private void answerDump(Connection c, Message.ClusterStateRequest r, long requestId) {
        List<String> exclude = r.exclude() == null ? List.of() : List.copyOf(r.exclude());
        CompletableFuture<Map<String, Object>> done = new CompletableFuture<>();
        events.submit(new Dump(exclude, done));
        done.orTimeout(10, TimeUnit.SECONDS).whenComplete((tasks, failure) -> {
            Message answer;
            if (failure != null) {
                answer = new Message.ErrorReply("worker " + address + " could not read its state: " + failure);
            } else {
                Map<String, Object> m = new java.util.LinkedHashMap<>();
                m.put("address", address);
                m.put("name", name());
                m.put("nthreads", options.nthreads());
                m.put("memory_limit", options.memoryLimit());
                m.put("status", closing ? "closing" : pausedForMemory ? "paused" : "running");
                m.put("executing", new java.util.TreeSet<>(executingThreads.keySet()).stream().toList());
                m.put("plugins", pluginNames());
                m.put("tasks", tasks);
                answer = new Message.WorkerStateDump(m);
            }
            try {
                c.reply(requestId, answer);
            } catch (RuntimeException e) {
                LOG.log(Level.DEBUG, "a state dump was not sent: " + e);
            }
        });
    }

    /** The event-loop step that registers on a new scheduler link (see {@link #announceOnOwner}). */
    private record Relink(Connection c, CompletableFuture<Registration> done) {
    }

    /**
     * The event-loop step that starts a replica fetch the scheduler asked for: after the FreeKeys that
     * came before it have dropped their data. Started on arrival, it found a copy still to be dropped,
     * reported it held, and the FreeKeys then dropped it: the scheduler listed a copy that was gone.
     */
    private record StartAcquire(Connection c, Message.AcquireData ad) {
    }

    /**
     * Registers on {@code c} from the event loop, between two batches: the held keys reported are
     * exactly those whose results were not sent on the lost link, and every result after them goes
     * to {@code c}. Read elsewhere, a task finishing in between would be reported to neither.
     */
    private Registration announceOnOwner(Connection c) throws InterruptedException {
        CompletableFuture<Registration> done = new CompletableFuture<>();
        events.submit(new Relink(c, done));
        try {
            return done.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            c.abort(e);
            throw new IllegalStateException("could not register on the new scheduler link: " + e, e);
        }
    }

    /**
     * The scheduler forgot this worker's queue with the lost link: the state resets what it was
     * doing for it (queued tasks, inputs being gathered for them, executions that nothing runs any
     * more) and keeps what still runs here, whose reports go to the new link. Then registers on it.
     */
    private void relink(Relink r, List<Message> toScheduler, List<WorkerInstruction.Execute> starts) {
        try {
            if (!r.c().isOpen()) {
                throw new ConnectionClosedException("the new scheduler link closed before registering on it");
            }
            java.util.Set<String> alive = new java.util.HashSet<>(running.values());
            for (WorkerInstruction.Execute ex : runnable) {
                alive.add(ex.key());
            }
            for (WorkerInstruction.Execute ex : starts) {
                alive.add(ex.key());
            }
            for (WorkerInstruction i : state.handle(new WorkerEvent.Relinked(alive), System.nanoTime())) {
                perform(i, toScheduler, starts);
            }
            Map<String, Long> held = state.heldKeys();
            r.done().complete(new Registration(announce(r.c(), held), held.size()));
        } catch (Throwable e) {
            r.done().completeExceptionally(e);
            if (TaskErrors.fatal(e)) {
                throw e;
            }
        }
    }

    public String address() {
        return address;
    }

    /** This worker's results, in memory and spilled (for tools and tests). */
    public DataStore dataStore() {
        return data;
    }

    public String name() {
        return options.name() != null ? options.name() : address;
    }

    /**
     * Closes this worker gracefully, as dask's {@code Worker.close_gracefully}: asks the scheduler to
     * retire it (no new task comes, what executes finishes, every result only it holds is copied to
     * other workers with room), then the scheduler closes it; closes it here if that has not happened
     * within {@code timeout}. Returns whether the scheduler closed it.
     *
     * <pre>{@code
     * worker.closeGracefully(Duration.ofMinutes(1));   // its results live on elsewhere
     * }</pre>
     */
    public boolean closeGracefully(java.time.Duration timeout) throws InterruptedException {
        events.submit(new Message.RetireRequest(List.of(address), 0, Math.max(1, timeout.toMillis())));
        boolean retired = closed.await(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        if (!retired) {
            close();
        }
        return retired;
    }

    /** Blocks until the worker has stopped (closed, or its scheduler went away). */
    public boolean awaitClose(long timeout, TimeUnit unit) throws InterruptedException {
        return closed.await(timeout, unit);
    }

    private final Handler schedulerHandler = new Handler() {
        @Override
        public void onMessage(Connection c, Message m, long requestId) {
            if (m instanceof Message.StoryRequest sr) {
                answerStory(c, sr, requestId);
                return;
            }
            if (m instanceof Message.ClusterStateRequest r && requestId != 0) {
                answerDump(c, r, requestId);
                return;
            }
            if (m instanceof Message.UploadJar j) {
                // installed here, on the reader thread, so a task sent after the jar finds its classes
                Message answer = addJar(j);
                if (requestId != 0) {
                    c.reply(requestId, answer);
                }
                return;
            }
            if (m instanceof Message.ForgetClient f) {
                code.forget(f.clientId());
                return;
            }
            if (m instanceof Message.ShuffleRestart sr) { // before the inputs' next run, which comes after it
                shuffleStore().restart(sr.shuffle(), sr.run());
                return;
            }
            WorkerInstruction.Execute[] here = new WorkerInstruction.Execute[1];
            runHere.set(here);
            try {
                enqueue(m);
            } finally {
                runHere.remove();
            }
            if (here[0] != null) {
                runWhereItArrived(c, here[0]);
            }
        }

        @Override
        public void onClose(Connection c, Throwable cause) {
            if (!closing && c == scheduler && state != null) {
                LOG.log(Level.WARNING, "lost the scheduler at " + options.schedulerAddress()
                        + (cause == null ? "" : ": " + cause.getMessage()) + "; reconnecting");
                reconnect();
            } else if (c == scheduler) {
                // said, so a worker that never comes back shows whether it saw the link end
                LOG.log(Level.INFO, "the scheduler link closed and is not reconnected here: "
                        + (closing ? "the worker is closing" : "the worker is not registered yet (its "
                        + "registration reconnects once it has its state)"));
            }
        }
    };

    /**
     * Runs a task on the thread that read its request: on an idle worker that saves waking a slot
     * thread. The connection is lent meanwhile, so a long task holds up other messages for about
     * a millisecond only; with nothing to lend (an earlier such task still runs), a slot takes it.
     */
    private void runWhereItArrived(Connection c, WorkerInstruction.Execute ex) {
        if (closing || !c.tryLendReading()) {
            runnable.add(ex);
            return;
        }
        inlineRunner = Thread.currentThread();
        try {
            execute(ex);
        } finally {
            inlineRunner = null;
        }
    }

    private void enqueue(Message m) {
        List<Object> parts = new ArrayList<>();
        collect(m, parts);
        events.submitAll(parts); // one batch: its replies go out together
    }

    private void collect(Message m, List<Object> into) {
        if (m instanceof Message.Batch b) {
            for (Message part : b.messages()) {
                collect(part, into);
            }
        } else if (m instanceof Message.ComputeTask ct) {
            into.add(new WorkerEvent.Compute(ct));
        } else if (m instanceof Message.FreeKeys fk) {
            into.add(new WorkerEvent.Free(fk.keys()));
        } else if (m instanceof Message.StealRequest sr) {
            into.add(new WorkerEvent.Steal(sr.key()));
        } else if (m instanceof Message.WorkerStatusChange sc) { // the scheduler retires it, or no longer
            into.add(new WorkerEvent.Closing("closing_gracefully".equals(sc.status())));
        } else if (m instanceof Message.AcquireData ad) { // replicate, rebalance: the scheduler chose the sources
            into.add(new StartAcquire(scheduler, ad)); // in order with the FreeKeys before it
        } else if (m instanceof Message.CloseWorker cw) {
            LOG.log(Level.INFO, "scheduler asked this worker to close: " + cw.reason());
            Thread.ofVirtual().start(this::stop); // the scheduler has let it go already
        } else if (m instanceof Message.SetupPlugin sp) {
            plugins.setup(sp);
        } else if (m instanceof Message.TeardownPlugin tp) {
            plugins.teardown(tp);
        } else if (m instanceof Message.StartActor sa) {
            actors.start(sa);
        } else if (m instanceof Message.StopActor sa) {
            actors.stop(sa.actorId());
        } else if (m instanceof Message.ShuffleRestart sr) { // batched with the inputs' next run: drop first
            shuffleStore().restart(sr.shuffle(), sr.run());
        } else {
            LOG.log(Level.DEBUG, "worker ignored " + m.getClass().getSimpleName());
        }
    }

    /** Requests served on threads of their own at once, per kind; past it they are refused. */
    static final int THREADS_PER_KIND = 64;
    private final java.util.concurrent.Semaphore acquiring = new java.util.concurrent.Semaphore(THREADS_PER_KIND);
    /** The worker's extensions by the request type each answers, and the threads each may use. */
    private final Map<Class<?>, WorkerExtension> extensions = new java.util.HashMap<>();
    private final Map<WorkerExtension, java.util.concurrent.Semaphore> extensionSlots = new java.util.HashMap<>();

    private void register(WorkerExtension ext) {
        for (Class<? extends Message> type : ext.requests()) {
            WorkerExtension had = extensions.putIfAbsent(type, ext);
            if (had != null) {
                throw new IllegalStateException(ext.name() + " and " + had.name() + " both answer "
                        + type.getSimpleName() + "; one request type has one handler");
            }
        }
        extensionSlots.put(ext, new java.util.concurrent.Semaphore(THREADS_PER_KIND));
        ext.start(services);
    }

    private final WorkerServices services = new WorkerServices() {
        @Override
        public String address() {
            return address;
        }

        @Override
        public Serializer serializer() {
            return serializer;
        }

        @Override
        public ClassLoader loader() {
            return loader;
        }

        @Override
        public void fatal(String doing, Throwable t) {
            outOfMemory(doing, t);
        }

        @Override
        public Map<String, Thread> executing() {
            return java.util.Collections.unmodifiableMap(executingThreads);
        }

        @Override
        public Map<Thread, String> actorCalls() {
            return actorCalls.running();
        }

        @Override
        public void report(Message report) {
            events.submit(report);
        }

        @Override
        public WorkerServer server() {
            return WorkerServer.this;
        }
    };

    /** The thread of each task running now, for a client asking where its tasks are (call stacks). */
    private final java.util.concurrent.ConcurrentHashMap<String, Thread> executingThreads =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** The actors held here; their calls run beside the state machine, on threads of their own. */
    private final ActorHost actors = new ActorHost(services, dist.config.Config.getInt("distributed.worker.actor-pending-calls"));

    /** The worker plugins running here; their calls run on threads of their own, never on the event loop. */
    private final WorkerPlugins plugins = new WorkerPlugins(serializer, this::pluginLoader,
            this::pluginContext, events::submit);

    private ClassLoader pluginLoader(String clientId) {
        return code.forClient(clientId);
    }

    /** The worker as a plugin of client {@code clientId} sees it. */
    private WorkerContext pluginContext(String clientId) {
        return new WorkerContext() {
            @Override
            public String address() {
                return address;
            }

            @Override
            public String name() {
                return WorkerServer.this.name();
            }

            @Override
            public String schedulerAddress() {
                return options.schedulerAddress();
            }

            @Override
            public int nthreads() {
                return options.nthreads();
            }

            @Override
            public long memoryLimit() {
                return options.memoryLimit();
            }

            @Override
            public String status() {
                return closing ? "closing" : pausedForMemory ? "paused" : "running";
            }

            @Override
            public void setTaskMetadata(String key, String name, String value) {
                java.util.Objects.requireNonNull(key, "key");
                java.util.Objects.requireNonNull(name, "name");
                java.util.Objects.requireNonNull(value, "value");
                // through the event loop, so it follows on the link what the worker already said of the task
                events.submit(new Message.TaskMetadataUpdate(key, Map.of(name, value)));
            }

            @Override
            public void addJar(String name, byte[] jar) throws IOException {
                int n = code.addJar(clientId, jar);
                LOG.log(Level.INFO, "a plugin added jar " + name + " for client " + clientId + " (" + n + " classes)");
            }
        };
    }

    /**
     * The names of the worker plugins set up here, as dask's {@code worker.plugins}:
     * {@code client.run(() -> WorkerServer.current().pluginNames())}.
     */
    public List<String> pluginNames() {
        return plugins.names();
    }

    /**
     * How many actors this worker holds, as dask's {@code len(worker.actors)}:
     * {@code Map<String, Integer> n = client.run(() -> WorkerServer.current().actorCount());}
     */
    public int actorCount() {
        return actors.count();
    }

    private static final ThreadLocal<WorkerServer> RUNNING = new ThreadLocal<>();

    /**
     * The worker on which the calling thread runs a {@code Client.run} function, as dask passes
     * {@code dask_worker} to it; null anywhere else (a task learns where it runs from
     * {@link TaskContext#current()}).
     *
     * <pre>{@code
     * Map<String, String> names = client.run(() -> WorkerServer.current().name());
     * }</pre>
     */
    public static WorkerServer current() {
        return RUNNING.get();
    }

    /** Runs {@code call} with {@link #current()} answering {@code worker}. */
    static <T> T runAs(WorkerServer worker, java.util.concurrent.Callable<T> call) throws Exception {
        RUNNING.set(worker);
        try {
            return call.call();
        } finally {
            RUNNING.remove();
        }
    }

    /** Answers a request with {@code ext} on the thread {@link #startBounded} gave it. */
    private void answerWith(WorkerExtension ext, Connection c, Message m, long requestId) {
        Message reply;
        try {
            reply = ext.answer(m);
        } catch (Exception e) {
            reply = new Message.ErrorReply(ext.name() + " failed to answer " + m.getClass().getSimpleName() + ": "
                    + (e.getMessage() == null ? e.toString() : e.getMessage()));
        }
        if (requestId != 0 && reply != null) {
            try {
                c.reply(requestId, reply);
            } catch (ConnectionClosedException e) {
                LOG.log(Level.DEBUG, "the caller of " + m.getClass().getSimpleName() + " left before its answer");
            }
        }
    }
    private final java.util.concurrent.atomic.AtomicLong lastRefusalWarning =
            new java.util.concurrent.atomic.AtomicLong(System.nanoTime() - 10_000_000_000L);

    /** Serves data to peers and clients. */
    private final Handler peerHandler = this::onPeer;

    private void onPeer(Connection c, Message m, long requestId) {
        if (m instanceof Message.GetData gd) {
            c.reply(requestId, new Message.DataReply(exchange.dataFor(gd.keys())));
        } else if (m instanceof Message.ActorCall ac) {
            actors.call(c, ac, requestId);
        } else if (m instanceof Message.PutData pd) {
            exchange.putData(c, pd, requestId);
        } else if (m instanceof Message.AcquireData ad) {
            startBounded(c, requestId, acquiring, "dist-acquire", "AcquireData", () -> exchange.acquire(c, ad, requestId));
        } else if (extensions.get(m.getClass()) instanceof WorkerExtension ext) {
            String what = m.getClass().getSimpleName();
            startBounded(c, requestId, extensionSlots.get(ext), "dist-" + ext.name(), what,
                    () -> answerWith(ext, c, m, requestId));
        } else if (m instanceof Message.Ping p && requestId != 0) {
            c.reply(requestId, p);
        } else if (m instanceof Message.StoryRequest sr) {
            answerStory(c, sr, requestId);
        } else if (requestId != 0) {
            c.reply(requestId, new Message.ErrorReply("a worker does not answer " + m.getClass().getSimpleName()));
        }
    }

    /** Runs {@code work} on a thread of its own while {@code slots} has room; else answers with an error. */
    private void startBounded(Connection c, long requestId, java.util.concurrent.Semaphore slots, String name,
                              String what, Runnable work) {
        if (!slots.tryAcquire()) {
            String why = "worker " + address + " already serves " + THREADS_PER_KIND + " " + what
                    + " requests; ask again when one has finished";
            long now = System.nanoTime();
            long last = lastRefusalWarning.get();
            boolean warn = now - last >= 10_000_000_000L && lastRefusalWarning.compareAndSet(last, now);
            LOG.log(warn ? Level.WARNING : Level.DEBUG, "refused a " + what + " from " + c + ": " + why); // one a 10 s
            if (requestId != 0) {
                c.reply(requestId, new Message.ErrorReply(why));
            }
            return;
        }
        Thread.ofVirtual().name(name).start(() -> {
            try {
                work.run();
            } finally {
                slots.release();
            }
        });
    }

    /** client.run: calls the function here, outside the task system, and answers with its result or exception. */
    private void answerStory(Connection c, Message.StoryRequest sr, long requestId) {
        if (requestId != 0) {
            WorkerMachine m = state;
            c.reply(requestId, sr.key() == null ? new Message.ErrorReply("StoryRequest needs a key")
                    : WorkerStory.reply(m == null ? List.of() : m.story(sr.key()), address,
                    WorkerMetrics.epochMicrosNow() - System.nanoTime() / 1000));
        }
    }

    /** Counters and histograms of this worker, as its {@code /metrics} page shows them. */
    public WorkerMetrics.Snapshot metrics() {
        return metrics.snapshot(data.size());
    }

    /**
     * Its memory limit, heap and results held, at their peaks and now.
     *
     * <pre>{@code
     * Map<String, WorkerMetrics.Memory> m = client.run(() -> WorkerServer.current().memory());
     * }</pre>
     */
    public WorkerMetrics.Memory memory() {
        return new WorkerMetrics.Memory(options.memoryLimit(), data.policy().targetBytes(), HeapWatch.heapMax(),
                HeapWatch.afterGcPeak(),
                HeapWatch.residentPeak(), data.memoryBytesPeak(), data.memoryBytes(), data.spilledBytesTotal(),
                data.spillCount());
    }

    /**
     * Where the worker listens, its name, its threads and how many tasks it runs now, e.g.
     * {@code WorkerServer(127.0.0.1:40321, name=alice, threads=2, executing=1)}.
     */
    @Override
    public String toString() {
        return "WorkerServer(" + address + ", name=" + name() + ", threads=" + options.nthreads() + ", executing="
                + metrics().executing() + ")";
    }

    /** Every 100 ms: a tick for the state machine (heartbeats), and the reports due (see {@link SchedulerReports}). */
    private void tick(long now) {
        events.submit(new WorkerEvent.Tick());
        reports.tick();
    }

    /** The reports of this worker with {@code reporting}'s metrics and startup values (run once, now). */
    private SchedulerReports reports(WorkerReporting reporting) {
        return new SchedulerReports(address, name(), () -> scheduler, fine, metrics, reporting, () -> pluginContext(null));
    }

    /** A tick failed: heartbeats keep this worker in the cluster, so the ticks go on (not out of memory). */
    private void tickFailed(Throwable t) {
        if (TaskErrors.fatal(t)) {
            outOfMemory("in its timer", t);
            return;
        }
        if (loggedTickFailures.add(t.getClass().getName())) {
            LOG.log(Level.ERROR, "the timer of worker " + address + " failed (logged once per kind of "
                    + "failure); it carries on", t);
        }
    }

    private Message addJar(Message.UploadJar j) {
        try {
            int n = code.addJar(j.clientId(), j.bytes());
            LOG.log(Level.INFO, "added jar " + j.name() + " for client " + j.clientId()
                    + (n == 0 ? " (already present)" : " (" + n + " classes)"));
            return new Message.Ack();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "refused jar " + j.name() + ": " + e.getMessage());
            return new Message.ErrorReply("worker " + address + " cannot use jar " + j.name() + ": " + e.getMessage());
        }
    }

    /** Asks the scheduler for a class of {@code clientId}; blocks the calling task's thread, bounded. */
    private byte[] fetchClass(String clientId, String className) {
        Connection s = scheduler;
        if (s == null || closing) {
            return null;
        }
        try {
            Message reply = s.request(new Message.ClassRequest(clientId, className))
                    .get(options.comm().requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
            if (reply instanceof Message.ClassBytes cb) {
                return cb.bytes();
            }
            LOG.log(Level.DEBUG, "no class " + className + " from client " + clientId + ": " + reply);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            LOG.log(Level.WARNING, "fetching class " + className + " from client " + clientId + " failed: " + e);
            return null;
        }
    }

    private void handle(List<Object> batch) {
        if (closing) {
            return;
        }
        boolean watch = plugins.watching();
        state.watchTransitions(watch);
        try {
            handleBatch(batch);
            if (watch) {
                plugins.transitions(state.drainTransitions()); // offered, never waited on
            }
        } catch (Throwable t) {
            // each event is guarded below: this is the hand-out of their results failing
            if (TaskErrors.fatal(t)) {
                outOfMemory("handling events", t);
            } else {
                LOG.log(Level.ERROR, "worker " + address + " failed to carry out a batch of " + batch.size()
                        + " events; it carries on", t);
            }
        }
    }

    private void handleBatch(List<Object> batch) {
        List<Message> toScheduler = new ArrayList<>();
        List<WorkerInstruction.Execute> starts = new ArrayList<>();
        checkMemory(toScheduler, starts); // results stored since the last batch count before new tasks start
        for (Object e : batch) {
            try {
                if (e instanceof Dump d) {
                    d.done().complete(state.dump(d.exclude())); // the state machine is read on its own thread
                    continue;
                }
                if (e instanceof Relink r) {
                    flush(toScheduler); // what came before the step goes to the link it was meant for
                    toScheduler.clear();
                    relink(r, toScheduler, starts); // must not interleave with the state machine
                    continue;
                }
                if (e instanceof StartAcquire a) {
                    startBounded(a.c(), 0, acquiring, "dist-acquire", "AcquireData", () -> exchange.acquire(a.c(), a.ad(), 0));
                    continue;
                }
                if (e instanceof Message m) { // a report that must follow what earlier events send
                    toScheduler.add(m);
                    continue;
                }
                for (WorkerInstruction i : state.handle((WorkerEvent) e, System.nanoTime())) {
                    perform(i, toScheduler, starts);
                }
            } catch (Throwable t) {
                if (TaskErrors.fatal(t)) {
                    outOfMemory("handling " + describe(e), t);
                    return;
                }
                // a bug or a message the state refused: the other events of the batch still count
                LOG.log(Level.ERROR, "worker " + address + " failed to handle " + describe(e) + "; it carries on", t);
            }
        }
        checkMemory(toScheduler, starts); // freed keys may end a pause
        List<String> announced = new ArrayList<>(0);
        for (WorkerInstruction.Execute ex : starts) {
            if (ex.announce()) {
                announced.add(ex.key());
            }
        }
        if (announced.isEmpty()) {
            // the scheduler counts these as executing since it sent them: they run at once
            WorkerInstruction.Execute[] here = runHere.get();
            if (here != null && here[0] == null && starts.size() == 1) {
                here[0] = starts.get(0); // on the reader thread, once its handler returns
                flush(toScheduler);
                return;
            }
            runnable.addAll(starts);
            flush(toScheduler);
            return;
        }
        toScheduler.add(new Message.TasksStarted(announced));
        // slots wake while the notice is written, but a task runs only once it is written: the
        // scheduler hears that a task started before that task can kill this process
        noticeLock.lock();
        try {
            runnable.addAll(starts);
            flush(toScheduler);
        } finally {
            noticeLock.unlock();
        }
    }

    /** Waits until the notice that {@code ex} started has been written (see {@link #handle}). */
    private void awaitStartNotice() {
        noticeLock.lock();
        noticeLock.unlock();
    }

    /**
     * As dask spills on the process's memory as well as on its results' sizes: past the spill
     * fraction of the heap after a collection, the data store counts each byte it holds as the
     * heap's bytes per byte held (see {@link DataStore#heapPerByte(double)}), so results go to disk
     * and the worker pauses that much earlier; with room again the ratio decays back to 1. Sizes undercount the heap (a 1 MiB array takes two of G1's
     * 1 MiB regions), so a heap can fill before the sizes reach the target. Once per collection.
     */
    private void relieveHeap() {
        MemoryPolicy p = data.policy();
        long gcs = HeapWatch.collections();
        long seen = heapCheckedAt.get();
        if (!p.limited() || gcs == seen || !heapCheckedAt.compareAndSet(seen, gcs)) {
            return;
        }
        long max = HeapWatch.heapMax();
        long used = HeapWatch.lastAfterGc();
        long held = data.memoryBytes();
        if (used > (long) (max * p.spill()) && held > max / 10) {
            // the heap holds used/held bytes per byte counted: the store's fractions count that way now
            data.heapPerByte((double) used / held);
        } else if (used < (long) (max * p.target()) && data.heapPerByte() > 1.0) {
            data.heapPerByte(data.heapPerByte() * 0.9); // room again: count closer to the sizes
        }
    }

    /** {@link HeapWatch#collections()} when {@link #relieveHeap} last looked. */
    private final java.util.concurrent.atomic.AtomicLong heapCheckedAt = new java.util.concurrent.atomic.AtomicLong();

    /** Tells the state machine when memory crosses the pause fraction, either way. */
    private void checkMemory(List<Message> toScheduler, List<WorkerInstruction.Execute> starts) {
        boolean over = data.overPause();
        if (over == pausedForMemory) {
            return;
        }
        pausedForMemory = over;
        LOG.log(over ? Level.WARNING : Level.INFO, over
                ? "worker " + address + " paused: " + data.memoryBytes() + " bytes in memory, past "
                + data.policy().pause() + " of its " + options.memoryLimit() + "-byte limit; no new task starts"
                : "worker " + address + " resumed: memory fell to " + data.memoryBytes() + " bytes");
        for (WorkerInstruction i : state.handle(new WorkerEvent.Paused(over), System.nanoTime())) {
            perform(i, toScheduler, starts);
        }
    }

    /** A task slot: runs started tasks one after another until the worker closes. */
    private void slotLoop() {
        try {
            while (!closing) {
                WorkerInstruction.Execute next = SpinWait.poll(runnable::poll, idleSpinNanos);
                if (next == null) {
                    next = runnable.take();
                }
                if (next.announce()) {
                    awaitStartNotice();
                }
                if (execute(next)) {
                    return; // its task seceded, and the slot went to a thread started then
                }
            }
        } catch (InterruptedException e) {
            // closing
        } catch (Throwable t) {
            // execute never throws: only the queue or the notice lock can, and only when out of memory
            if (TaskErrors.fatal(t)) {
                outOfMemory("in a task slot", t);
            } else {
                LOG.log(Level.ERROR, "task slot of worker " + address + " failed; a new one takes its place", t);
                startSlot();
            }
        } finally {
            slots.remove(Thread.currentThread());
        }
    }

    private void startSlot() {
        if (closing) {
            return;
        }
        Thread t = Thread.ofPlatform().name("dist-worker-slot-" + slotIds.getAndIncrement()).daemon(true)
                .unstarted(this::slotLoop);
        slots.add(t);
        t.start();
    }

    private void flush(List<Message> toScheduler) {
        if (toScheduler.isEmpty()) {
            return;
        }
        Message m = toScheduler.size() == 1 ? toScheduler.get(0) : new Message.Batch(List.copyOf(toScheduler));
        Connection s = scheduler;
        try {
            s.send(m);
        } catch (ConnectionClosedException e) {
            // reported again on re-registration: keys in memory travel in RegisterWorker
            LOG.log(Level.DEBUG, "scheduler connection closed; dropped " + toScheduler.size() + " messages");
        } catch (RuntimeException e) {
            // the scheduler would never hear of these results: drop the link, and registering again
            // reports what this worker holds
            LOG.log(Level.ERROR, "worker " + address + " could not send " + toScheduler.size()
                    + " messages to the scheduler (" + e + "); it drops the link and registers again", e);
            s.abort(e);
        }
    }

    /** An event for a log line: its start, so a large one does not flood the log. */
    private static String describe(Object e) {
        String s;
        try {
            s = String.valueOf(e);
        } catch (RuntimeException x) {
            s = e.getClass().getSimpleName();
        }
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    private void perform(WorkerInstruction i, List<Message> toScheduler, List<WorkerInstruction.Execute> starts) {
        switch (i) {
            case WorkerInstruction.Execute ex -> {
                long ready = state.readySince(ex.key());
                if (ready != 0) { // its wait in the ready queue; the hand-over to a slot is short
                    fine.bucket(ex.span(), ex.key()).add(FineMetrics.WAITING, System.nanoTime() - ready, 0);
                }
                starts.add(ex);
            }
            case WorkerInstruction.Fetch f -> {
                FineMetrics.Bucket counts = fetchedFor(f);
                Thread.ofVirtual().name("dist-fetch").start(() -> exchange.fetch(f, counts));
            }
            case WorkerInstruction.SendToScheduler s -> toScheduler.add(s.message());
            case WorkerInstruction.DropData d -> data.remove(d.key());
        }
    }

    /** The counters a fetch's time and bytes go to: those of a task here that needs its first key. */
    private FineMetrics.Bucket fetchedFor(WorkerInstruction.Fetch f) {
        String first = f.keys().isEmpty() ? "" : f.keys().get(0);
        String task = state.neededBy(first);
        return task == null ? fine.bucket(null, first) : fine.bucket(state.spanOf(task), task);
    }

    /** A result went to disk or came back: counted for the task the thread works for, else the result's group. */
    private void spilled(String key, long nanos, long bytes, boolean written) {
        FineMetrics.Bucket b = countingFor.get();
        (b != null ? b : fine.bucket(null, key)).add(FineMetrics.SPILL, nanos, bytes);
    }

    /** Runs one task; true when it seceded on the way (its thread then leaves the pool). Never throws. */
    private boolean execute(WorkerInstruction.Execute ex) {
        long start = FlightEvents.taskStarting();
        Thread self = Thread.currentThread();
        int slot = slotNumbers.take(self);
        running.put(self, ex.key());
        metrics.executing.incrementAndGet();
        try {
            return executeCounted(ex, start, slot);
        } catch (Throwable t) {
            // not the task's own failure (that is its report): a step of the worker's failed
            if (TaskErrors.fatal(t)) {
                outOfMemory("running task " + ex.key(), t);
            } else {
                LOG.log(Level.ERROR, "worker " + address + " failed around task " + ex.key() + "; it carries on", t);
            }
            return false;
        } finally {
            metrics.executing.decrementAndGet();
            running.remove(self);
            slotNumbers.release(slot);
        }
    }

    /**
     * Runs the task and hands exactly one report to the state machine: its result, or whatever it
     * threw (any Throwable: a stack overflow, an assertion, a class that did not link) as its error.
     * Only a real out-of-memory stops the worker instead.
     */
    private boolean executeCounted(WorkerInstruction.Execute ex, long start, int slot) {
        TaskContext ctx = null;
        WorkerEvent report;
        try {
            ClassLoader loader = code.forClient(ex.clientId());
            ctx = new TaskContext(host, ex.key(), loader);
            report = run(ex, ctx, loader, start, slot);
        } catch (Throwable t) {
            report = failure(ex, t, "", start, System.nanoTime(), slot);
        } finally {
            countingFor.set(null);
        }
        if (report != null) {
            events.submit(report);
        }
        return ctx != null && ctx.hasSeceded();
    }

    /** The task's report; null when it ran the worker out of memory (the worker is stopping then). */
    private WorkerEvent run(WorkerInstruction.Execute ex, TaskContext ctx, ClassLoader loader, long start, int slot) {
        Object result;
        Thread self = Thread.currentThread();
        ClassLoader before = self.getContextClassLoader();
        self.setContextClassLoader(loader);
        TaskContext.enter(ctx);
        executingThreads.put(ex.key(), self);
        FineMetrics.Bucket counts = fine.bucket(ex.span(), ex.key());
        countingFor.set(counts);
        long decodeNanos = 0;
        long invokedAt = 0;
        try {
            Map<String, Object> deps = new HashMap<>();
            for (String dep : ex.dependencies()) {
                DataStore.Entry e;
                try {
                    e = data.get(dep);
                } catch (java.io.UncheckedIOException io) {
                    throw new IllegalStateException("input " + dep + " of task " + ex.key() + " is lost: "
                            + io.getMessage(), io);
                }
                if (e == null) {
                    throw new IllegalStateException("input " + dep + " of task " + ex.key() + " is not on this worker");
                }
                long decodeAt = System.nanoTime();
                deps.put(dep, e.value(serializer, loader));
                decodeNanos += System.nanoTime() - decodeAt;
            }
            long decodeAt = System.nanoTime();
            TaskCall call = RunCodec.decode(serializer, ex.run(), loader, deps::get, code.functions(loader));
            Invokable fn = call.function();
            invokedAt = System.nanoTime();
            decodeNanos += invokedAt - decodeAt;
            result = fn.invoke(call.args().toArray());
        } catch (Throwable t) {
            long failedAt = System.nanoTime();
            counts.add(FineMetrics.SERIALIZATION, decodeNanos, 0);
            counts.add(FineMetrics.COMPUTE, invokedAt == 0 ? 0 : failedAt - invokedAt, 0);
            return failure(ex, t, "", start, failedAt, slot);
        } finally {
            executingThreads.remove(ex.key(), self);
            TaskContext.leave();
            self.setContextClassLoader(before);
            if (!closing) {
                // a task that interrupted itself: this thread goes on to write its result, and an
                // interrupted write would close the connection
                Thread.interrupted();
            }
        }
        long stop = System.nanoTime();
        counts.add(FineMetrics.COMPUTE, stop - invokedAt, 0);
        Encoded encoded;
        try {
            encoded = serializer.encodeParts(result, null);
            counts.add(FineMetrics.SERIALIZATION, decodeNanos + System.nanoTime() - stop, 0);
        } catch (Throwable e) {
            return failure(ex, e, "the result of " + ex.key() + " cannot be sent: ", start, stop, slot);
        }
        try {
            data.putComputed(ex.key(), result, encoded);
        } catch (DataStore.SpillException e) {
            return failure(ex, e, "worker " + address + " has no room for the result of " + ex.key() + ": ",
                    start, stop, slot);
        }
        relieveHeap();
        metrics.taskRan(stop - start, true);
        long nbytes = encoded.nbytes();
        FlightEvents.taskExecuted(address, ex.key(), start, stop, nbytes, false);
        byte[] inline = encoded.buffers().isEmpty() && nbytes <= options.inlineResultLimit() ? encoded.head() : null;
        String type = result == null ? "null" : result.getClass().getName();
        return new WorkerEvent.ExecuteDone(ex.key(), nbytes, type, start, stop, inline, slot);
    }

    /**
     * {@code t} as the task's error report, small whatever {@code t} is; null when {@code t} is a real
     * out-of-memory, which stops the worker (its nanny starts a fresh one; the scheduler re-runs the task).
     */
    private WorkerEvent.ExecuteFailed failure(WorkerInstruction.Execute ex, Throwable t, String context,
                                              long start, long stop, int slot) {
        if (TaskErrors.fatal(t)) {
            outOfMemory("running task " + ex.key(), t);
            return null;
        }
        metrics.taskRan(stop - start, false);
        FlightEvents.taskExecuted(address, ex.key(), start, stop, 0, true);
        String summary = context + TaskErrors.summary(t);
        byte[] encoded;
        try {
            encoded = TaskErrors.encode(serializer, t);
        } catch (Throwable e) {
            if (TaskErrors.fatal(e)) {
                outOfMemory("encoding the error of task " + ex.key(), e);
                return null;
            }
            encoded = null; // the summary still says what happened
        }
        return new WorkerEvent.ExecuteFailed(ex.key(), encoded, summary, start, stop, slot);
    }

    /**
     * The JVM ran out of memory: other threads may have failed as well, so this worker stops rather
     * than carry on in an unknown state. Its tasks go back to the scheduler, its nanny (if any)
     * starts a fresh process.
     */
    private void outOfMemory(String doing, Throwable t) {
        if (fatalError != null) {
            return;
        }
        fatalError = "ran out of memory " + doing + ": " + t;
        try {
            LOG.log(Level.ERROR, "worker " + address + " " + fatalError + "; it stops (a nanny starts a fresh one)");
        } catch (Throwable ignored) {
            // logging needs memory too; stopping matters more
        }
        stop();
    }

    /** Why the worker stopped on its own (it ran out of memory), or null. */
    public String fatalError() {
        return fatalError;
    }

    /**
     * Stops the worker on purpose: it tells the scheduler it leaves (so the tasks it was running go
     * elsewhere without counting as a worker death), stops serving peers and drops its data.
     *
     * <pre>{@code
     * try (WorkerServer w = WorkerServer.start(WorkerServer.Options.of("127.0.0.1:8786", 4))) { ... }
     * }</pre>
     */
    @Override
    public void close() {
        close(true);
    }

    /**
     * Stops at once, as if the process had died: the scheduler learns it from the lost connection, and
     * the tasks running here count it as a death (see {@code distributed.scheduler.allowed-failures}).
     * For a process stopped from outside (SIGTERM), where no one chose to close this worker.
     */
    public void stop() {
        close(false);
    }

    private void close(boolean leave) {
        if (closing) {
            return;
        }
        closing = true;
        actors.close();
        plugins.close(); // teardown while the scheduler link is still up, bounded
        if (ticker != null) {
            ticker.close();
        }
        try {
            reports.fineMetrics(true);
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, "the last fine metrics of worker " + address + " were not reported: " + e);
        }
        Connection s = scheduler;
        if (s != null) {
            if (leave && s.isOpen()) {
                try {
                    s.send(new Message.WorkerClosing("closed"));
                } catch (RuntimeException e) {
                    LOG.log(Level.DEBUG, "could not tell the scheduler this worker closes: " + e);
                }
            }
            s.close();
        }
        server.close();
        peers.closeAll();
        slots.forEach(Thread::interrupt);
        Thread inline = inlineRunner;
        if (inline != null) {
            inline.interrupt();
        }
        for (AutoCloseable c : shared.values()) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.log(Level.DEBUG, "closing a shared object of worker " + address + ": " + e);
            }
        }
        shared.clear();
        data.close(); // deletes the spill folder
        closed.countDown();
    }
}
