package dist.nanny;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.ConnectionClosedException;
import dist.comm.Handler;
import dist.comm.Reconnect;
import dist.comm.Ticker;
import dist.config.Config;
import dist.protocol.Message;
import dist.protocol.Role;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Starts one worker JVM and keeps it alive: restarts it when it dies (at once after a worker that
 * had registered, with doubling pauses after starts that failed, giving up after
 * {@code distributed.nanny.restart-limit} failures in a row), stops it when its resident memory
 * passes the memory limit, relays its output, tells the scheduler why it died
 * ({@link Message.WorkerDied}) and restarts it on the scheduler's {@link Message.RestartWorker};
 * it stops, with its worker, on the scheduler's {@link Message.CloseWorker}.
 * A worker that exits with {@link NannyMachine#CANNOT_START} (its port is taken, a bad config value)
 * or a bad command line is not started again: the nanny stops at once with the worker's reason.
 * The worker dies with the nanny, even when the nanny is killed by SIGKILL.
 *
 * <p>This class is the shell: it starts and signals the worker process, reads its exit and memory,
 * and carries out what {@link NannyMachine} decides, on one thread; deadlines are checked on the
 * ticks of a {@link Ticker}, and the scheduler is reached again through {@link Reconnect}.
 *
 * <pre>{@code
 * Nanny n = Nanny.start(new Nanny.Options("127.0.0.1:8786", List.of("--nthreads", "1"), 400_000_000L,
 *         List.of(), System.out, ""));
 * n.awaitWorker(Duration.ofSeconds(30));   // the worker's address
 * n.close();                                // stops the worker too
 * }</pre>
 */
public final class Nanny implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dist.nanny");
    /** The newest records of this process's dist.nanny loggers, for Client.nannyLogs. */
    private static final dist.comm.LogRing LOGS = dist.comm.LogRing.of("nanny", dist.comm.LogRing.under("dist.nanny"));

    /**
     * @param schedulerAddress "host:port" of the scheduler
     * @param workerArgs       worker options after the scheduler address (e.g. --nthreads 1 --name a)
     * @param memoryLimit      bytes (0: none); passed to the worker and enforced here
     * @param jvmArgs          options for the worker JVM (with a memory limit and no -Xmx, -Xmx is set
     *                         by {@link ChildJvm#workerHeapMb}: 60% of the limit, less for small limits)
     * @param out              where the worker's output goes (null: dropped)
     * @param prefix           put before each relayed line
     * @param connectTimeout   how long to try reaching the scheduler at the start
     * @param env              environment variables of the worker process, over those of the nanny's own
     *                         environment and of {@code distributed.nanny.environ} (see {@link #env()})
     */
    public record Options(String schedulerAddress, List<String> workerArgs, long memoryLimit, List<String> jvmArgs,
                          PrintStream out, String prefix, Duration connectTimeout, Map<String, String> env) {
        /** With a 10 s connect timeout. */
        public Options(String schedulerAddress, List<String> workerArgs, long memoryLimit, List<String> jvmArgs,
                       PrintStream out, String prefix) {
            this(schedulerAddress, workerArgs, memoryLimit, jvmArgs, out, prefix, Duration.ofSeconds(10));
        }

        /** With no environment variables of its own for the worker. */
        public Options(String schedulerAddress, List<String> workerArgs, long memoryLimit, List<String> jvmArgs,
                       PrintStream out, String prefix, Duration connectTimeout) {
            this(schedulerAddress, workerArgs, memoryLimit, jvmArgs, out, prefix, connectTimeout, Map.of());
        }

        /**
         * These options with {@code env} as the worker's own environment variables (dask's Nanny(env=...)).
         *
         * <pre>{@code
         * Nanny.start(options.withEnv(Map.of("OMP_NUM_THREADS", "1")));
         * }</pre>
         */
        public Options withEnv(Map<String, String> env) {
            return new Options(schedulerAddress, workerArgs, memoryLimit, jvmArgs, out, prefix, connectTimeout, env);
        }

        public Options {
            workerArgs = List.copyOf(workerArgs);
            jvmArgs = List.copyOf(jvmArgs);
            env = env == null ? Map.of() : Map.copyOf(env);
            prefix = prefix == null ? "" : prefix;
            if (memoryLimit < 0) {
                throw new IllegalArgumentException("memoryLimit must be 0 (none) or more, got " + memoryLimit);
            }
        }
    }

    private final Options options;
    private final String id = "nanny-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 8);
    /** Events for the machine, from the worker's watchers, the scheduler's reader, the ticker and close. */
    private final LinkedBlockingQueue<NannyMachine.Event> events = new LinkedBlockingQueue<>();
    private final NannyMachine machine;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AtomicBoolean closing = new AtomicBoolean();
    private final ReentrantLock viewLock = new ReentrantLock();
    /** Signalled when what {@link #awaitWorker} waits for may have changed. */
    private final Condition viewChanged = viewLock.newCondition();
    private final Reconnect reconnect;
    private volatile Connection scheduler;
    /** The newest worker process and its generation; written by the supervisor only. */
    private volatile Process worker;
    private volatile int workerGeneration;
    // what the machine says, copied after each event for other threads
    private volatile String workerAddress;
    private volatile int restarts;
    private volatile int starts;
    private volatile String gaveUp;
    private volatile boolean cannotStart;
    private Ticker ticker;

    /** What this nanny sets in its worker's environment, fixed when it starts (restarts reuse it). */
    private final Map<String, String> env;
    /** Environment variables nanny plugins set, over {@link #env}, for the worker processes started after. */
    private final Map<String, String> pluginEnv = new java.util.concurrent.ConcurrentHashMap<>();
    /** Nanny plugins by name with the bytes they came as; touched on the plugin thread only. */
    private final Map<String, Installed> plugins = new java.util.LinkedHashMap<>();
    /** Runs the nanny plugins' calls one at a time, apart from the supervisor and the connection's reader. */
    private final java.util.concurrent.ExecutorService pluginThread = java.util.concurrent.Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().name("dist-nanny-plugins").daemon(true).unstarted(r));
    /** Set once the first worker start was asked for: a plugin's restart applies from then on. */
    private volatile boolean begun;

    private record Installed(NannyHooks plugin, byte[] bytes) {}

    /** Loads plugins' classes, fetching from their clients those the nanny's class path lacks. */
    private final PluginClasses pluginClasses = new PluginClasses(Nanny.class.getClassLoader(), () -> scheduler,
            Duration.ofSeconds(30));

    private Nanny(Options options) {
        this.options = options;
        this.env = workerEnvironment(Config.getMap(Config.NANNY_PRE_SPAWN_ENVIRON), Config.getMap(Config.NANNY_ENVIRON),
                options.env(), System.getenv());
        NannyMachine.Settings settings = NannyMachine.Settings.fromConfig(options.memoryLimit());
        // a worker given a lifetime exits 0 at its end and is replaced, as dask's lifetime-restart
        boolean lifetime = options.workerArgs().stream().anyMatch(a -> a.equals("--lifetime") || a.startsWith("--lifetime="));
        this.machine = new NannyMachine(id, lifetime ? settings.restartingAfterCleanExit() : settings);
        this.reconnect = new Reconnect("dist-nanny-reconnect", Reconnect.Policy.fromConfig(Duration.ZERO),
                () -> closing.get() || isOpen(scheduler), this::relink);
    }

    /** Connection settings with the token and TLS of this process's settings as they are now. */
    private static CommConfig comm() {
        return CommConfig.DEFAULT.withSecurity(dist.comm.Security.fromEnvironment());
    }

    /** Connects to the scheduler and starts the worker; returns at once (the worker registers by itself). */
    public static Nanny start(Options options) throws IOException {
        Nanny n = new Nanny(options);
        n.scheduler = Connection.connect(options.schedulerAddress(), Role.NANNY, comm().withConnectTimeout(
                options.connectTimeout()), n.handler);
        n.sendToScheduler(new Message.RegisterNanny(n.id, null));
        LOG.log(Level.INFO, "nanny " + n.id + " started for scheduler at " + options.schedulerAddress());
        n.setUpPluginsFirst(options.connectTimeout());
        n.begun = true;
        n.events.add(new NannyMachine.Begin());
        Duration poll = Config.getDuration("distributed.nanny.memory-poll-interval");
        // deadlines (back-off, kill) are checked on ticks: at least ten a second
        Duration period = poll.compareTo(TICK) < 0 ? poll : TICK;
        n.ticker = Ticker.start("dist-nanny-tick", period, now -> n.events.add(new NannyMachine.Tick()));
        Thread.ofPlatform().name("dist-nanny").daemon(true).start(n::supervise);
        return n;
    }

    private static final Duration TICK = Duration.ofMillis(100);

    /** This nanny's id, as the scheduler knows it. */
    public String id() {
        return id;
    }

    /**
     * The environment variables this nanny sets in its worker process, beside those the worker inherits
     * from the nanny, e.g. {@code {OMP_NUM_THREADS=1}}: {@code distributed.nanny.pre-spawn-environ}, then
     * {@code distributed.nanny.environ} over it, then {@link Options#env()} over both. A variable from
     * the config that the nanny's own environment has keeps the nanny's value (precedence: options,
     * then the nanny's environment, then the config, as dask's nanny).
     */
    public Map<String, String> env() {
        return env;
    }

    /** {@link #env()} from its parts: config maps, the options' env, and the nanny's own environment. */
    static Map<String, String> workerEnvironment(Map<String, String> preSpawn, Map<String, String> environ,
                                                 Map<String, String> explicit, Map<String, String> own) {
        java.util.TreeMap<String, String> out = new java.util.TreeMap<>();
        for (Map<String, String> config : List.of(preSpawn, environ)) {
            config.forEach((k, v) -> out.put(k, own.getOrDefault(k, v)));
        }
        out.putAll(explicit);
        return java.util.Collections.unmodifiableMap(out);
    }

    /** The address of the running worker, or null while none is registered. */
    public String workerAddress() {
        return workerAddress;
    }

    /** The process id of the worker JVM, or -1 while none runs. */
    public long workerPid() {
        Process p = worker;
        return p == null || !p.isAlive() ? -1 : p.pid();
    }

    /**
     * The nanny, its worker's address (none while no worker is registered), the worker's options and
     * restarts so far, e.g. {@code Nanny(nanny-4711-ab12cd34, worker=127.0.0.1:40321, args=[--nthreads, 2], restarts=0)}.
     */
    @Override
    public String toString() {
        return "Nanny(" + id + ", worker=" + (workerAddress == null ? "none" : workerAddress) + ", args="
                + options.workerArgs() + ", restarts=" + restarts + ")";
    }

    /** How many times the worker was started again. */
    public int restarts() {
        return restarts;
    }

    /** How many worker processes this nanny started. */
    public int starts() {
        return starts;
    }

    /** Waits until a worker is registered and returns its address; null on timeout or after giving up. */
    public String awaitWorker(Duration timeout) throws InterruptedException {
        long left = timeout.toNanos();
        viewLock.lock();
        try {
            while (workerAddress == null && closed.getCount() > 0 && left > 0) {
                left = viewChanged.awaitNanos(left);
            }
            return workerAddress;
        } finally {
            viewLock.unlock();
        }
    }

    /** Whether the nanny stopped (closed, or gave up restarting), e.g. {@code if (!n.isClosed()) n.close("bye");}. */
    public boolean isClosed() {
        return closed.getCount() == 0;
    }

    /** Waits until the nanny stopped (closed, or gave up restarting); true if it did. */
    public boolean awaitClose(long timeout, TimeUnit unit) throws InterruptedException {
        return closed.await(timeout, unit);
    }

    /** Why the nanny gave up restarting its worker, or null. */
    public String gaveUpReason() {
        return gaveUp;
    }

    /**
     * Whether the nanny gave up because its worker cannot start for a reason a restart cannot cure
     * (its port is taken, a bad option or config value; see {@link NannyMachine#CANNOT_START}).
     */
    public boolean workerCannotStart() {
        return cannotStart;
    }

    private final Handler handler = new Handler() {
        @Override
        public void onMessage(Connection c, Message m, long requestId) {
            if (m instanceof Message.Batch b) {
                for (Message part : b.messages()) {
                    onMessage(c, part, 0);
                }
            } else if (m instanceof Message.LogsRequest l && requestId != 0) {
                c.reply(requestId, LOGS.reply(l.n()));
            } else if (m instanceof Message.SetupPlugin s) {
                submitPluginCall(() -> setUpPlugin(s));
            } else if (m instanceof Message.TeardownPlugin t) {
                submitPluginCall(() -> tearDownPlugin(t));
            } else if (m instanceof Message.RestartWorker r) {
                events.add(new NannyMachine.RestartRequested(r.reason()));
            } else if (m instanceof Message.CloseWorker w) {
                // the cluster is shutting down: a worker that exits now must not be started again
                println("closing: " + w.reason());
                closing.set(true);
                events.add(new NannyMachine.Close(w.reason()));
            }
        }

        @Override
        public void onClose(Connection c, Throwable cause) {
            if (!closing.get() && c == scheduler) {
                reconnectToScheduler();
            }
        }
    };

    private void submitPluginCall(Runnable call) {
        try {
            pluginThread.execute(() -> {
                try {
                    call.run();
                } catch (RuntimeException | Error e) {
                    survive("plugin call", e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.log(Level.DEBUG, "the nanny stops; a plugin call was dropped");
        }
    }

    private static boolean isOpen(Connection c) {
        return c != null && c.isOpen();
    }

    /** The scheduler went away: reach it again with back-off, as long as the nanny lives. */
    private void reconnectToScheduler() {
        reconnect.start().whenComplete((outcome, failure) -> {
            if (failure != null) {
                survive("reconnection", failure);
            } else if (!closing.get() && !isOpen(scheduler)) {
                reconnectToScheduler(); // lost again as the run ended, when its close found it busy
            }
        });
    }

    /** One attempt to reach the scheduler again: connect, then say which worker this nanny has. */
    private void relink(Duration connectTimeout) throws IOException {
        Connection c = Connection.connect(options.schedulerAddress(), Role.NANNY,
                comm().withConnectTimeout(connectTimeout), handler);
        scheduler = c;
        sendToScheduler(new Message.RegisterNanny(id, workerAddress));
        sendToScheduler(new Message.WatchNannyPlugins()); // those it holds already are not set up again
    }

    // ------------------------------------------------------------------ nanny plugins

    /**
     * Asks the scheduler for its nanny plugins and waits, bounded, until their setups ran: the
     * first worker starts with what they set. A scheduler that does not answer in time costs only that.
     */
    private void setUpPluginsFirst(Duration timeout) {
        try {
            Message m = scheduler.request(new Message.WatchNannyPlugins()).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (m instanceof Message.NannyPlugins list) {
                for (Message.SetupPlugin s : list.plugins()) {
                    submitPluginCall(() -> setUpPlugin(s));
                }
            }
            // runs after the setups queued before it, those sent one way since included
            pluginThread.submit(() -> { }).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "the nanny plugins were not set up before the worker's start: " + e);
        }
    }

    private final NannyContext pluginContext = new NannyContext() {
        @Override
        public String id() {
            return id;
        }

        @Override
        public String schedulerAddress() {
            return options.schedulerAddress();
        }

        @Override
        public String workerAddress() {
            return workerAddress;
        }

        @Override
        public void setEnv(String name, String value) {
            if (name == null || name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("not an environment variable name: " + name);
            }
            if (value == null) {
                pluginEnv.remove(name);
            } else {
                pluginEnv.put(name, value);
            }
        }

        @Override
        public Map<String, String> pluginEnv() {
            return java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(pluginEnv));
        }
    };

    private void setUpPlugin(Message.SetupPlugin s) {
        Installed had = plugins.get(s.name());
        if (s.seq() == 0 && had != null && java.util.Arrays.equals(had.bytes(), s.plugin())) {
            return; // sent again after a reconnection: it runs already
        }
        if (had != null) {
            plugins.remove(s.name());
            tearDown(s.name(), had.plugin());
        }
        NannyHooks plugin;
        try {
            ClassLoader loader = pluginClasses.forClient(s.clientId());
            Thread.currentThread().setContextClassLoader(loader);
            Object o = SERIALIZER.decode(s.plugin(), null, loader, null);
            if (!(o instanceof NannyHooks h)) {
                throw new IllegalArgumentException("plugin " + s.name() + " decoded as a "
                        + (o == null ? "null" : o.getClass().getName()) + ", not a nanny plugin");
            }
            plugin = h;
            plugin.setup(pluginContext);
        } catch (Exception | LinkageError | StackOverflowError e) {
            LOG.log(Level.WARNING, "nanny plugin " + s.name() + " failed to set up; the nanny carries on", e);
            pluginDone(s.name(), s.seq(), e);
            return;
        }
        plugins.put(s.name(), new Installed(plugin, s.plugin()));
        pluginDone(s.name(), s.seq(), null);
        if (plugin.restart() && begun && !closing.get()) {
            events.add(new NannyMachine.RestartRequested("nanny plugin " + s.name() + " asks for a restart"));
        }
    }

    private void tearDownPlugin(Message.TeardownPlugin t) {
        Installed had = plugins.remove(t.name());
        Throwable failed = had == null ? null : tearDown(t.name(), had.plugin());
        if (t.seq() != 0) {
            pluginDone(t.name(), t.seq(), failed);
        }
    }

    private Throwable tearDown(String name, NannyHooks plugin) {
        try {
            plugin.teardown(pluginContext);
            return null;
        } catch (Exception | LinkageError | StackOverflowError e) {
            LOG.log(Level.WARNING, "nanny plugin " + name + " failed to tear down", e);
            return e;
        }
    }

    /** Tears every plugin down as the nanny stops, waiting a bounded time. */
    private void tearDownPlugins() {
        try {
            pluginThread.submit(() -> {
                for (Map.Entry<String, Installed> e : List.copyOf(plugins.entrySet())) {
                    tearDown(e.getKey(), e.getValue().plugin());
                }
                plugins.clear();
            }).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "the nanny plugins did not tear down in time: " + e);
        }
        pluginThread.shutdownNow();
    }

    private static final dist.serial.Serializer SERIALIZER = dist.serial.Serializer.defaults();

    private void pluginDone(String name, long seq, Throwable error) {
        byte[] bytes = null;
        String summary = null;
        if (error != null) {
            summary = String.valueOf(error);
            try {
                bytes = SERIALIZER.encode(error);
            } catch (RuntimeException e) {
                LOG.log(Level.DEBUG, "the error of nanny plugin " + name + " did not encode: " + e);
            }
        }
        sendToScheduler(new Message.PluginDone(name, seq, bytes, summary));
    }

    private void sendToScheduler(Message m) {
        Connection c = scheduler;
        try {
            if (c != null) {
                c.send(m);
            }
        } catch (ConnectionClosedException e) {
            LOG.log(Level.DEBUG, "scheduler unreachable; dropped " + m);
        } catch (RuntimeException e) {
            // the scheduler misses this report, but the worker must still be watched and restarted
            LOG.log(Level.WARNING, "could not tell the scheduler " + m.getClass().getSimpleName() + ": " + e);
        }
    }

    /** Failure kinds of the nanny's loops logged so far: each is logged once. */
    private final java.util.Set<String> loggedFailures = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * A step of a loop failed: logged once per kind, and the loop goes on, since the worker must stay
     * watched. Running out of memory is rethrown: this process is not to be trusted any more.
     */
    private void survive(String loop, Throwable t) {
        if (t instanceof OutOfMemoryError oom) {
            throw oom;
        }
        if (loggedFailures.add(loop + "/" + t.getClass().getName())) {
            LOG.log(Level.ERROR, "the nanny's " + loop + " failed (logged once per kind of failure); it carries on", t);
        }
    }

    /** Lines of a worker's output kept for the reason it gives when it cannot start. */
    private static final int TAIL_LINES = 20;

    /** Starts worker process {@code generation}; its registration and exit come back as events. */
    private Process startWorker(int generation) throws IOException {
        List<String> args = new ArrayList<>();
        args.add("worker");
        args.add(options.schedulerAddress());
        args.addAll(options.workerArgs());
        if (options.memoryLimit() > 0) {
            args.add("--memory-limit");
            args.add(String.valueOf(options.memoryLimit()));
        }
        args.add("--no-nanny");
        List<String> jvm = new ArrayList<>();
        String extra = Config.get("distributed.nanny.worker-jvm-options").trim();
        if (!extra.isEmpty()) {
            jvm.addAll(List.of(extra.split("\\s+")));
        }
        jvm.addAll(options.jvmArgs());
        if (options.memoryLimit() > 0 && jvm.stream().noneMatch(a -> a.startsWith("-Xmx"))) {
            jvm.add("-Xmx" + ChildJvm.workerHeapMb(options.memoryLimit(),
                    Config.getDouble("distributed.nanny.memory-terminate-fraction")) + "m");
        }
        ArrayDeque<String> tail = new ArrayDeque<>();
        ReentrantLock tailLock = new ReentrantLock();
        CompletableFuture<Void> outputEnded = new CompletableFuture<>();
        Map<String, String> withPlugins = env;
        if (!pluginEnv.isEmpty()) {
            java.util.TreeMap<String, String> all = new java.util.TreeMap<>(env);
            all.putAll(pluginEnv);
            withPlugins = all;
        }
        Process p = ChildJvm.start(jvm, args, withPlugins, options.prefix(), options.out(), line -> {
            tailLock.lock();
            try {
                if (tail.size() == TAIL_LINES) {
                    tail.removeFirst();
                }
                tail.addLast(line);
            } finally {
                tailLock.unlock();
            }
            if (line.startsWith("worker at: ")) {
                String rest = line.substring("worker at: ".length()).trim();
                int space = rest.indexOf(' ');
                events.add(new NannyMachine.WorkerRegistered(generation, space < 0 ? rest : rest.substring(0, space)));
            }
        }, () -> outputEnded.complete(null));
        // the exit is reported with the output's last lines; a grandchild holding the pipe open delays it 2 s at most
        p.onExit().thenCompose(x -> outputEnded.completeOnTimeout(null, 2, TimeUnit.SECONDS)).thenRun(() -> {
            List<String> last;
            tailLock.lock();
            try {
                last = List.copyOf(tail);
            } finally {
                tailLock.unlock();
            }
            events.add(new NannyMachine.WorkerExited(generation, p.exitValue(), last));
        });
        return p;
    }

    /** The nanny's one thread of decisions: feeds each event to the machine and carries out its actions. */
    private void supervise() {
        try {
            while (!machine.finished()) {
                NannyMachine.Event e = events.take();
                List<NannyMachine.Action> actions;
                try {
                    actions = machine.handle(e, System.nanoTime());
                } catch (RuntimeException t) {
                    survive("state machine, on " + e.getClass().getSimpleName(), t);
                    continue;
                }
                for (NannyMachine.Action a : actions) {
                    try {
                        perform(a);
                    } catch (RuntimeException | Error t) {
                        survive("action " + a.getClass().getSimpleName(), t);
                    }
                }
                publish();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            finish();
        }
    }

    private void perform(NannyMachine.Action a) {
        switch (a) {
            case NannyMachine.StartWorker s -> {
                try {
                    Process p = startWorker(s.generation());
                    workerGeneration = s.generation();
                    worker = p;
                } catch (IOException | RuntimeException e) {
                    events.add(new NannyMachine.StartFailed(s.generation(), String.valueOf(e)));
                }
            }
            case NannyMachine.StopWorker s -> {
                Process p = worker;
                if (p != null && workerGeneration == s.generation()) {
                    if (s.force()) {
                        p.destroyForcibly();
                    } else {
                        p.destroy();
                    }
                }
            }
            case NannyMachine.PollMemory m -> {
                Process p = worker;
                if (p != null && workerGeneration == m.generation() && p.isAlive()) {
                    events.add(new NannyMachine.MemoryUsed(m.generation(), residentBytes(p.pid())));
                }
            }
            case NannyMachine.Send s -> sendToScheduler(s.message());
            case NannyMachine.Say s -> println(s.line());
            case NannyMachine.Log l -> LOG.log(l.level(), l.line());
            case NannyMachine.Finish f -> {
                gaveUp = f.gaveUp();
                cannotStart = machine.cannotStart();
            }
        }
    }

    /** Copies what other threads read from the machine, and wakes those waiting on it. */
    private void publish() {
        viewLock.lock();
        try {
            workerAddress = machine.workerAddress();
            restarts = machine.restarts();
            starts = machine.starts();
            viewChanged.signalAll();
        } finally {
            viewLock.unlock();
        }
    }

    private void finish() {
        closing.set(true);
        if (ticker != null) {
            ticker.close();
        }
        Process p = worker;
        if (p != null && p.isAlive()) {
            p.destroyForcibly(); // the machine stopped it already unless this thread failed
        }
        tearDownPlugins();
        Connection c = scheduler;
        if (c != null) {
            c.close();
        }
        closed.countDown();
        publish();
    }

    private void println(String line) {
        PrintStream out = options.out();
        if (out != null) {
            out.println(options.prefix() + "nanny: " + line);
            out.flush();
        } else {
            LOG.log(Level.INFO, line); // nobody watches the output: the log keeps what it would have said
        }
    }

    /** "exit code 1", "killed by signal 9 (SIGKILL), exit code 137" and the like, from a JVM's exit value. */
    public static String describeExit(int code) {
        return NannyMachine.describeExit(code);
    }

    /** Resident set size of a process from /proc (Linux), or -1 when unknown. */
    static long residentBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Stops the worker and leaves the scheduler. */
    @Override
    public void close() {
        close(null);
    }

    /**
     * As {@link #close()}, telling the scheduler why the worker stops, e.g.
     * {@code n.close("the nanny was stopped (SIGTERM)")}; null: "its nanny closed".
     */
    public void close(String reason) {
        if (closing.getAndSet(true) && closed.getCount() == 0) {
            return;
        }
        events.add(new NannyMachine.Close(reason));
        try {
            closed.await(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
