package dist;

import dist.client.ClassSource;
import dist.client.DataOps;
import dist.client.Keys;
import dist.client.KeyState;
import dist.client.Operability;
import dist.client.PayloadCodec;
import dist.client.Results;
import dist.client.ClientCore;
import dist.client.Transport;
import dist.comm.CommConfig;
import dist.config.Config;
import dist.protocol.Message;
import dist.serial.Serializer;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A connection to a scheduler that turns function calls into tasks and gives {@link Future}s for
 * their results.
 *
 * <pre>{@code
 * try (Client client = Client.connect("127.0.0.1:8786")) {
 *     Future<Integer> x = client.submit(Demo::inc, 10);
 *     Future<Integer> y = client.submit(Demo::inc, x);          // a future where a value goes
 *     List<Future<Integer>> sq = client.map(Demo::square, List.of(0, 1, 2, 3));
 *     Future<Integer> total = client.submit(Demo::sum, Futures.all(sq));   // values on the worker
 *     System.out.println(y.result() + " " + total.result());    // 12 14
 *     List<Integer> squares = client.gather(sq);                // [0, 1, 4, 9]
 * }
 * }</pre>
 *
 * <p>Calls are pure by default: the key is a hash of the function and its arguments, so the same
 * call gives the same key on any machine and runs once. Use {@link #with(Options)} for impure calls,
 * priorities, retries and placement. Closing the client releases every key it holds.
 *
 * <p>Thread-safe. Results are decoded with the context class loader of the thread that created
 * the client, so the user's classes are found.
 */
public final class Client extends Submitter implements AutoCloseable {
    private static final Duration WORKER_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    private static final String RESTART_TIMEOUT = "distributed.client.restart-timeout";

    /** The link, the key table, sending, fetching and waiting: everything behind this API. */
    private final ClientCore core;
    private final DataOps data;
    private final Operability operability;
    private final dist.client.Locks locks;
    private final TopicCalls topics;
    /** What {@link Calls} needs to name a lost scheduler. */
    final Calls.Link link = new Calls.Link() {
        @Override
        public String address() {
            return core.address();
        }

        @Override
        public String gone() {
            return core.isClosed() ? "this client is closed; connect a new one" : core.lostReason();
        }
    };

    Client(String address, Transport.Connector connector, PayloadCodec codec, ClassLoader loader, Duration requestTimeout)
            throws IOException {
        this(address, connector, connector, codec, loader, requestTimeout);
    }

    Client(String address, Transport.Connector connector, Transport.Connector workerConnector, PayloadCodec codec,
           ClassLoader loader, Duration requestTimeout) throws IOException {
        this(address, connector, workerConnector, codec, loader, requestTimeout, Duration.ZERO);
    }

    Client(String address, Transport.Connector connector, Transport.Connector workerConnector, PayloadCodec codec,
           ClassLoader loader, Duration requestTimeout, Duration reconnectTimeout) throws IOException {
        this(address, connector, workerConnector, codec, loader, requestTimeout, reconnectTimeout, null);
    }

    Client(String address, Transport.Connector connector, Transport.Connector workerConnector, PayloadCodec codec,
           ClassLoader loader, Duration requestTimeout, Duration reconnectTimeout, String name) throws IOException {
        this(new ClientCore(address, connector, workerConnector, codec, loader, requestTimeout, reconnectTimeout,
                name));
    }

    /** The scheduler file this client wrote or connected through; null when none. */
    private final java.util.concurrent.atomic.AtomicReference<java.nio.file.Path> schedulerFile =
            new java.util.concurrent.atomic.AtomicReference<>();

    private Client(ClientCore core) throws IOException {
        super(core, core, core::isClosed);
        this.core = core;
        this.data = new DataOps(core, core, core, core, core, core);
        this.operability = new Operability(core);
        this.locks = new dist.client.Locks(core, core::onRelink);
        this.topics = new TopicCalls(this, core, shared());
        this.futureAccess = new Future.Access(this, core, core);
        core.open(futureAccess);
    }

    /** How this client's core makes Futures; actor calls make theirs through it too. */
    private final Future.Access futureAccess;
    private final java.util.concurrent.atomic.AtomicReference<dist.client.ActorLink> actorLink =
            new java.util.concurrent.atomic.AtomicReference<>();

    /** This client's side of actors, made on first use. */
    dist.client.ActorLink actors() {
        dist.client.ActorLink l = actorLink.get();
        if (l == null) {
            actorLink.compareAndSet(null, new dist.client.ActorLink(core, futureAccess));
            l = actorLink.get();
        }
        return l;
    }

    /**
     * Connects to the scheduler named by the config key {@code distributed.scheduler-address}
     * (e.g. {@code DIST_SCHEDULER_ADDRESS=10.0.0.5:8786} in the environment), as dask's
     * {@code Client()} reads {@code scheduler-address}: {@code Client c = Client.connect();}
     *
     * @throws IllegalStateException when the key is not set
     */
    public static Client connect() {
        String address = Config.get("distributed.scheduler-address");
        if (address == null || address.isBlank()) {
            throw new IllegalStateException("no scheduler address: pass one to Client.connect(\"host:port\"), or set"
                    + " distributed.scheduler-address (" + Config.source("distributed.scheduler-address") + " has none)");
        }
        System.getLogger("dist.client").log(System.Logger.Level.INFO, "Config value distributed.scheduler-address found: "
                + address + " (from " + Config.source("distributed.scheduler-address") + ")");
        return connect(address.strip());
    }

    /**
     * Connects to the scheduler at {@code address}, "host:port", trying for at most
     * {@code dist.comm.connect-timeout} while it is not reachable.
     *
     * <pre>{@code
     * try (Client client = Client.connect("127.0.0.1:8786")) { ... }
     * }</pre>
     *
     * @throws SchedulerUnavailableException when no scheduler answered at {@code address}
     */
    public static Client connect(String address) {
        return connect(address, CommConfig.DEFAULT);
    }

    /**
     * Connects to the scheduler a scheduler file names (as dask's {@code Client(scheduler_file=...)}),
     * waiting for the file to appear for at most the connect timeout (a scheduler started with
     * {@code --scheduler-file} at the same time writes it once it listens).
     *
     * <pre>{@code
     * // java -jar dist.jar scheduler --scheduler-file /shared/scheduler.json
     * try (Client c = Client.connectSchedulerFile(Path.of("/shared/scheduler.json"))) { ... }
     * }</pre>
     *
     * @throws DistTimeoutException          when no file appeared within {@code dist.comm.connect-timeout}
     * @throws java.io.UncheckedIOException  when the file cannot be read or names no address
     * @throws SchedulerUnavailableException when the scheduler it names cannot be reached
     */
    public static Client connectSchedulerFile(java.nio.file.Path file) {
        Objects.requireNonNull(file, "file");
        CommConfig config = CommConfig.DEFAULT;
        String address;
        try {
            address = dist.comm.SchedulerFile.awaitAddress(file, config.connectTimeout());
        } catch (TimeoutException e) {
            throw new DistTimeoutException("Client.connectSchedulerFile", config.connectTimeout(),
                    "dist.comm.connect-timeout", e.getMessage(), e);
        } catch (InterruptedException e) {
            throw Calls.interrupted("the scheduler file " + file, e);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e.getMessage(), e);
        }
        Client c = connect(address, config);
        c.schedulerFile.set(file);
        return c;
    }

    /**
     * Writes a scheduler file naming this client's scheduler, for other clients and workers to find
     * it (as dask's {@code client.write_scheduler_file}).
     *
     * <pre>{@code
     * client.writeSchedulerFile(Path.of("scheduler.json"));
     * Client other = Client.connectSchedulerFile(Path.of("scheduler.json"));
     * }</pre>
     *
     * @throws IllegalStateException when this client already has a scheduler file (it wrote one, or
     *                               connected through one), as dask raises ValueError
     * @throws java.io.UncheckedIOException when the file cannot be written
     */
    public void writeSchedulerFile(java.nio.file.Path file) {
        Objects.requireNonNull(file, "file");
        java.nio.file.Path had = schedulerFile.get();
        if (had != null) {
            throw new IllegalStateException("this client already has the scheduler file " + had);
        }
        try {
            dist.comm.SchedulerFile.write(file, address(), null);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write the scheduler file " + file + ": " + e.getMessage(), e);
        }
        if (!schedulerFile.compareAndSet(null, file)) {
            throw new IllegalStateException("this client already has the scheduler file " + schedulerFile.get());
        }
    }

    /** Connects, trying for at most {@code connectTimeout} while the scheduler is not reachable. */
    public static Client connect(String address, Duration connectTimeout) {
        return connect(address, CommConfig.DEFAULT.withConnectTimeout(connectTimeout));
    }

    /** Connects with explicit connection settings. */
    public static Client connect(String address, CommConfig config) {
        return connect(address, config, null);
    }

    /**
     * Connects as a client named {@code name}: its {@link #id()} starts with the name, and the
     * scheduler records that id as the submitter of each of its tasks, so clients can be told apart.
     *
     * <pre>{@code
     * try (Client c = Client.connect("127.0.0.1:8786", CommConfig.DEFAULT, "nightly-report")) {
     *     c.id();   // "nightly-report-3f2b..."
     * }
     * }</pre>
     */
    public static Client connect(String address, CommConfig config, String name) {
        checkAddress(address);
        Objects.requireNonNull(config, "config");
        try {
            return new Client(address, Transport.tcp(config), toWorkers(config), PayloadCodec.of(Serializer.defaults()),
                    Thread.currentThread().getContextClassLoader(), config.requestTimeout(),
                    Config.getDuration("distributed.client.reconnect-timeout"), name);
        } catch (IOException e) {
            throw unavailable(address, e);
        }
    }

    /** A scheduler that could not be reached or refused this client, or an interrupted connect. */
    static DistException unavailable(String address, IOException e) {
        if (e.getCause() instanceof InterruptedException i) {
            return Calls.interrupted("the scheduler at " + address + " to accept this client", i);
        }
        return new SchedulerUnavailableException(address, e.getMessage(), e);
    }

    /** A client whose link to the scheduler at {@code address} is {@code toScheduler}; workers over TCP. */
    static Client local(String address, Transport.Connector toScheduler) throws IOException {
        CommConfig config = CommConfig.DEFAULT;
        return new Client(address, toScheduler, toWorkers(config), PayloadCodec.of(Serializer.defaults()),
                Thread.currentThread().getContextClassLoader(), config.requestTimeout(), Duration.ZERO);
    }

    /** A worker that does not answer soon is likely gone: try its data's other holders instead of waiting. */
    private static Transport.Connector toWorkers(CommConfig config) {
        Duration workerConnect = config.connectTimeout().compareTo(WORKER_CONNECT_TIMEOUT) < 0
                ? config.connectTimeout() : WORKER_CONNECT_TIMEOUT;
        return Transport.tcp(config.withConnectTimeout(workerConnect));
    }

    static void checkAddress(String address) {
        Objects.requireNonNull(address, "address");
        int colon = address.lastIndexOf(':');
        boolean ok = colon > 0 && colon < address.length() - 1;
        if (ok) {
            try {
                int port = Integer.parseInt(address.substring(colon + 1));
                ok = port > 0 && port < 65536;
            } catch (NumberFormatException e) {
                ok = false;
            }
        }
        if (!ok) {
            throw new IllegalArgumentException("a scheduler address is \"host:port\", e.g. \"127.0.0.1:8786\"; got \""
                    + address + "\"");
        }
    }

    /** This client's id, as the scheduler knows it. */
    public String id() {
        return core.id();
    }

    /** The scheduler's address. */
    public String address() {
        return core.address();
    }

    @Override
    Client client() {
        return this;
    }

    @Override
    public Options options() {
        return Options.defaults();
    }

    /** The core behind this client: link, key table, sending, fetching, waiting. */
    ClientCore core() {
        return core;
    }

    /** Where this client finds the class files workers ask for. */
    ClassSource classSource() {
        return core.classSource();
    }

    /**
     * Sends a jar to every current worker, and to every worker that joins later, for the tasks of this
     * client only (other clients keep their own classes); returns once every current worker has it.
     * Classes a worker has on its own class path still win. The workers drop it when this client leaves.
     *
     * <pre>{@code
     * client.uploadJar(Path.of("build/libs/my-functions.jar"));
     * }</pre>
     *
     * @throws java.io.UncheckedIOException when the file cannot be read
     * @throws DistException                when a worker refused it (not a jar)
     */
    public void uploadJar(java.nio.file.Path jar) {
        Calls.exec(link, "Client.uploadJar", core.requestTimeout().multipliedBy(2), Calls.REQUEST_TIMEOUT + " (twice it)",
                () -> {
                    try {
                        core.uploadJar(jar);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException("cannot read " + jar + ": " + e.getMessage(), e);
                    }
                });
    }

    /**
     * Sets a worker plugin up on every worker, and on every worker that joins later, as dask's
     * {@code register_plugin}; returns once each current worker ran its setup. A plugin of the same
     * {@link WorkerPlugin#name() name} is replaced (torn down first).
     *
     * <pre>{@code
     * client.registerPlugin(new UploadJar(Path.of("build/libs/my-functions.jar")));
     * }</pre>
     *
     * @throws PluginFailedException    when its setup threw on a worker (the cause is the plugin's exception)
     * @throws IllegalArgumentException when {@code plugin} is null or names no name
     */
    public void registerPlugin(WorkerPlugin plugin) {
        PluginCalls.register(this, plugin, plugin == null ? null : plugin.name(), false);
    }

    /**
     * Sets a nanny plugin up in every nanny, and in every nanny that starts later (before its worker
     * starts); returns once each current nanny ran its setup. With {@link NannyPlugin#restart()}
     * each nanny then restarts its worker.
     *
     * <pre>{@code
     * client.registerPlugin(new Environ(Map.of("OMP_NUM_THREADS", "1")));
     * }</pre>
     *
     * @throws PluginFailedException    when its setup threw in a nanny
     * @throws IllegalArgumentException when {@code plugin} is null or names no name
     */
    public void registerPlugin(NannyPlugin plugin) {
        PluginCalls.register(this, plugin, plugin == null ? null : plugin.name(), true);
    }

    /**
     * Removes the worker or nanny plugin named {@code name}: it is torn down everywhere, and workers
     * (nannies) that join later no longer get it. Returns once the current ones tore it down.
     *
     * <pre>{@code
     * client.unregisterPlugin("upload-jar-my-functions.jar");
     * }</pre>
     *
     * @throws IllegalArgumentException when no plugin has that name
     */
    public void unregisterPlugin(String name) {
        PluginCalls.unregister(this, name);
    }

    /**
     * Restarts the cluster: every future of every client is cancelled (erred ones too), the scheduler forgets every
     * task, and every worker is restarted through its nanny (workers without one just drop their
     * data). Returns once as many workers as before are registered again, or throws
     * {@link DistTimeoutException} past {@code distributed.client.restart-timeout}.
     *
     * <pre>{@code
     * client.restart();   // a clean cluster; old futures report cancelled
     * }</pre>
     */
    public void restart() {
        Calls.exec(link, "Client.restart", Config.getDuration("distributed.client.restart-timeout"),
                RESTART_TIMEOUT, core::restart);
    }

    /**
     * {@link #restart()}, but returns as soon as the scheduler has restarted when {@code waitForWorkers}
     * is false (as dask's {@code restart(wait_for_workers=False)}): workers under a nanny are then
     * removed and still coming back.
     *
     * <pre>{@code
     * client.restart(false);           // futures cancelled, tasks forgotten; workers rejoin later
     * client.waitForWorkers(2, Duration.ofMinutes(1));   // when the work needs them
     * }</pre>
     */
    public void restart(boolean waitForWorkers) {
        Calls.exec(link, "Client.restart", Config.getDuration("distributed.client.restart-timeout"),
                RESTART_TIMEOUT, () -> core.restart(waitForWorkers));
    }

    /**
     * Restarts the named workers (address, host or name) through their nannies and returns once as
     * many workers as before are registered again, answering "OK" under each name given. Unlike
     * {@link #restart()}, tasks and futures are kept: what only those workers held is computed again.
     * Every named worker must run under a nanny; otherwise nothing is restarted and an
     * IllegalArgumentException names the workers without one. Waits at most
     * {@code distributed.client.restart-timeout}, then throws {@link DistTimeoutException}.
     *
     * <pre>{@code
     * client.restartWorkers(List.of("127.0.0.1:40123"));   // {"127.0.0.1:40123": "OK"}
     * }</pre>
     */
    public Map<String, String> restartWorkers(List<String> workers) {
        Duration timeout = Config.getDuration("distributed.client.restart-timeout");
        return Calls.call(link, "Client.restartWorkers", timeout, RESTART_TIMEOUT,
                () -> data.restartWorkers(Objects.requireNonNull(workers, "workers"), timeout));
    }

    /**
     * What the client, the scheduler and each worker run on: {"client": {...}, "scheduler": {...},
     * "workers": {address: {...}}}, each with "java", "os" and "dist" versions. A worker that cannot be
     * asked is left out. With {@code check}, a Java feature release or dist version that differs
     * anywhere is an IllegalStateException naming each process's.
     *
     * <pre>{@code
     * client.versions(true);   // throws if a worker runs another Java release than the client
     * }</pre>
     */
    public Map<String, Object> versions(boolean check) {
        return call("versions", () -> data.versions(check));
    }

    /**
     * Runs this future's task here, in the calling thread, on its inputs' values fetched from the
     * cluster, and returns what it returns (dask's recreate_task_locally): to step through a task in a
     * debugger. The scheduler must still have the task's recipe.
     *
     * <pre>{@code
     * Object again = client.recreateTaskLocally(f);   // the same value f.result() gives
     * }</pre>
     */
    public Object recreateTaskLocally(Future<?> future) throws Exception {
        return data.runHere(future.key(), core.loader());
    }

    /**
     * Runs here the task that made this erred future fail (the future's own, or the input's that failed
     * first), so its exception is thrown in the calling thread, where a debugger can stop in it (dask's
     * recreate_error_locally). The future stays erred.
     *
     * <pre>{@code
     * try { client.recreateErrorLocally(f); } catch (ArithmeticException e) { ... }   // as thrown on the worker
     * }</pre>
     *
     * @throws IllegalArgumentException when the future has not erred ("No errored futures passed")
     * @throws IllegalStateException    when the task runs here without an error
     */
    public void recreateErrorLocally(Future<?> future) throws Exception {
        String key = DataOps.failedKey(future.state);
        data.runHere(key, core.loader());
        throw new IllegalStateException("task " + key + " failed on the cluster but ran without error here");
    }

    // ------------------------------------------------------------------ gather

    /** The results of {@code futures}, in order. Keys held by one worker come in one request. */
    public <T> List<T> gather(List<? extends Future<? extends T>> futures) {
        @SuppressWarnings("unchecked")
        List<T> out = (List<T>) gather((Object) futures);
        return out;
    }

    /** The results of {@code futures}, by the same keys. */
    public <K, T> Map<K, T> gather(Map<K, ? extends Future<? extends T>> futures) {
        @SuppressWarnings("unchecked")
        Map<K, T> out = (Map<K, T>) gather((Object) futures);
        return out;
    }

    /** What {@link #gather(List, GatherErrors)} does with a future that failed or was cancelled. */
    public enum GatherErrors {
        /** Throw its error, as {@link #gather(List)}. */
        RAISE,
        /** Leave it out of the results (dask's {@code errors="skip"}). */
        SKIP
    }

    /**
     * {@link #gather(List)}; with {@link GatherErrors#SKIP} it waits for every future and returns the
     * results of those that finished, in order, leaving out the ones that failed or were cancelled.
     *
     * <pre>{@code
     * List<Integer> ok = client.gather(futures, Client.GatherErrors.SKIP);   // fewer when some failed
     * }</pre>
     */
    public <T> List<T> gather(List<? extends Future<? extends T>> futures, GatherErrors errors) {
        if (errors == GatherErrors.RAISE) {
            return gather(futures);
        }
        Futures.wait(futures, null);
        List<Future<? extends T>> finished = new java.util.ArrayList<>(futures.size());
        for (Future<? extends T> f : futures) {
            if (f.state() == java.util.concurrent.Future.State.SUCCESS) {
                finished.add(f);
            }
        }
        return gather(finished);
    }

    /**
     * {@code shape} with every Future inside replaced by its result: lists, sets and maps (values) are
     * walked and rebuilt in the same shape; anything else is kept as it is.
     *
     * <pre>{@code
     * Map<String, Object> r = (Map<String, Object>) client.gather(Map.of("a", fa, "bs", List.of(fb, fc)));
     * }</pre>
     */
    public Object gather(Object shape) {
        return call("gather", () -> core.gather(shape, -1));
    }

    /**
     * {@link #gather(Object)} waiting at most {@code timeout} in all.
     *
     * @throws DistTimeoutException when the results are not all here within {@code timeout}
     */
    public Object gather(Object shape, Duration timeout) {
        long deadline = Results.deadline(timeout);
        return Calls.call(link, "Client.gather", timeout, "the timeout parameter of Client.gather(Object, Duration)",
                () -> core.gather(shape, deadline));
    }

    /**
     * Runs these futures' tasks to the end even when nothing holds them any more: the scheduler keeps
     * each until it finishes or fails, then lets it go, though this client releases the futures or
     * closes. For tasks run for their effects.
     *
     * <pre>{@code
     * Future<Void> report = client.submit(Reports::send, results);
     * client.fireAndForget(List.of(report));
     * report.release();   // the report is still sent
     * }</pre>
     */
    public void fireAndForget(Collection<? extends Future<?>> futures) {
        List<String> ks = keysOf(futures);
        if (!ks.isEmpty()) {
            core.sendToScheduler(new Message.FireAndForget(ks), futures);
        }
    }

    // ------------------------------------------------------------------ cancel, info

    /**
     * Cancels these futures' keys (one message): tasks not yet run never run, results already computed
     * are deleted, and every dependent is cancelled too. An erred future ends cancelled as well, as in
     * dask. Returns how many were not cancelled before, once the scheduler handled the cancel and its
     * dependents report cancelled too (a wait bounded by the client's request timeout).
     *
     * <pre>{@code
     * client.cancel(List.of(f));   // f.isCancelled(), whatever it was; so is every task on f
     * }</pre>
     */
    public int cancel(Collection<? extends Future<?>> futures) {
        List<KeyState> states = new ArrayList<>();
        for (Future<?> f : futures) {
            states.add(f.state);
        }
        int n = core.cancelStates(states, true);
        core.awaitCancels(states);
        return n;
    }

    /** {@link Future#retry()}. */
    <T> Future<T> retry(Future<T> future) {
        return core.retry(Objects.requireNonNull(future, "future"));
    }

    /**
     * Where these futures' tasks are running now: by worker address, each running task's key and its
     * thread's stack frames, innermost first. Tasks not running (queued, finished) are left out, and
     * so are workers running none of them. Useful to see what a task that does not finish waits on.
     *
     * <pre>{@code
     * client.callStack(List.of(slow)).forEach((worker, tasks) ->
     *         tasks.forEach((key, frames) -> System.out.println(worker + " " + key + " at " + frames.get(0))));
     * }</pre>
     */
    public Map<String, Map<String, List<String>>> callStack(Collection<? extends Future<?>> futures) {
        return call("callStack", () -> data.callStack(keysOf(futures), false));
    }

    /** {@link #callStack(Collection)} of every task running on the cluster. */
    public Map<String, Map<String, List<String>>> callStack() {
        return call("callStack", () -> data.callStack(List.of(), true));
    }

    /**
     * Stores {@code value} in the cluster's metadata at the path {@code keys}, making maps along the
     * path (a value on the way is replaced by a map). An entry whose first key is a task's key goes
     * when the scheduler forgets that task. The value must be serializable; the scheduler keeps it
     * as bytes.
     *
     * <pre>{@code
     * client.setMetadata(List.of("run-42", "owner"), "alice");
     * client.setMetadata(List.of("run-42", "rows"), 1200);
     * Map<String, Object> run = client.getMetadata(List.of("run-42"));   // {owner=alice, rows=1200}
     * }</pre>
     */
    public void setMetadata(List<String> keys, Object value) {
        exec("setMetadata", () -> data.setMetadata(keys, value));
    }

    /** {@link #setMetadata(List, Object)} at the one key {@code key}. */
    public void setMetadata(String key, Object value) {
        exec("setMetadata", () -> data.setMetadata(List.of(key), value));
    }

    /**
     * The metadata at the path {@code keys}: the value there, or a {@code Map} of what lies below.
     *
     * @throws java.util.NoSuchElementException when nothing is at the path
     * @throws IllegalArgumentException         when a value sits on the path where a map is needed
     */
    @SuppressWarnings("unchecked")
    public <T> T getMetadata(List<String> keys) {
        return (T) call("getMetadata", () -> data.getMetadata(keys, false, null));
    }

    /** {@link #getMetadata(List)}, giving {@code fallback} when nothing is at the path. */
    @SuppressWarnings("unchecked")
    public <T> T getMetadata(List<String> keys, T fallback) {
        return (T) call("getMetadata", () -> data.getMetadata(keys, true, fallback));
    }

    /** {@link #getMetadata(List)} at the one key {@code key}. */
    public <T> T getMetadata(String key) {
        return getMetadata(List.of(key));
    }

    /**
     * Forwards what tasks log to the java.util.logging logger {@code logger} ("" for the root) at
     * {@code level} or above, on every worker connected now, to the logger of the same name here,
     * where this process's handlers show it. The worker's own logger level still applies first, as
     * for any record. Records logged outside tasks stay on the worker.
     *
     * <pre>{@code
     * client.forwardLogging("com.acme.etl", Level.WARNING);
     * client.submit(Etl::load, day).result();   // its warnings show here too
     * client.unforwardLogging("com.acme.etl");
     * }</pre>
     */
    public void forwardLogging(String logger, java.util.logging.Level level) {
        exec("forwardLogging", () -> data.forwardLogging(Objects.requireNonNull(logger, "logger"), level.intValue(), true));
    }

    /** {@link #forwardLogging(String, java.util.logging.Level)} of every level. */
    public void forwardLogging(String logger) {
        forwardLogging(logger, java.util.logging.Level.ALL);
    }

    /** Stops {@link #forwardLogging(String, java.util.logging.Level)} of {@code logger} to this client. */
    public void unforwardLogging(String logger) {
        exec("unforwardLogging", () -> data.forwardLogging(Objects.requireNonNull(logger, "logger"), 0, false));
    }

    /** Threads per worker: worker address to its number of threads. */
    public Map<String, Integer> ncores() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (WorkerInfo w : workersInfo()) {
            out.put(w.address(), w.nthreads());
        }
        return out;
    }

    /**
     * The cluster's workers as the scheduler sees them.
     *
     * <pre>{@code
     * long held = client.workersInfo().stream().mapToLong(WorkerInfo::memoryBytes).sum();
     * }</pre>
     */
    public List<WorkerInfo> workersInfo() {
        return call("workersInfo", () -> core.workersInfo()).stream().map(WorkerInfo::of).toList();
    }

    /**
     * What the workers' sampling profiler saw, merged over every cycle the scheduler keeps, as dask's
     * {@code Client.profile}: {@code taskGroup} is a key's group ("inc" for keys "inc-1", "inc-2"), null
     * for all tasks. Empty (count 0) when {@code distributed.worker.profile.enabled} is false.
     *
     * <pre>{@code
     * client.map(Work::slowInc, List.of(1, 2, 3)).forEach(f -> f.result());
     * Profile p = client.profile("slowInc");
     * System.out.print(p.format());
     * }</pre>
     */
    public Profile profile(String taskGroup) {
        return profile(null, null, taskGroup);
    }

    /**
     * As {@link #profile(String)}, of the cycles that overlap [{@code start}, {@code stop}] (null: no bound):
     * {@code client.profile(before, Instant.now(), null)}.
     */
    public Profile profile(java.time.Instant start, java.time.Instant stop, String taskGroup) {
        Message m = call("profile", () -> core.request(new Message.ProfileRequest(
                start == null ? 0 : start.toEpochMilli(), stop == null ? Long.MAX_VALUE : stop.toEpochMilli(), taskGroup)));
        if (m instanceof Message.ProfileTree t) {
            return Profile.of(t);
        }
        throw new IllegalStateException("the scheduler answered ProfileRequest with " + m);
    }

    /**
     * The workers' profiler samples per {@code interval}, from the oldest cycle the scheduler keeps to
     * now, over all tasks and per task group, as dask's {@code Scheduler.get_profile_metadata}:
     * {@code client.profileCounts(Duration.ofMillis(100)).counts()}.
     */
    public ProfileCounts profileCounts(Duration interval) {
        return profileCounts(null, java.time.Instant.now(), interval);
    }

    /**
     * As {@link #profileCounts(Duration)}, over [{@code start}, {@code stop}] (start null: the oldest cycle
     * kept; stop null: now): {@code client.profileCounts(before, null, Duration.ofSeconds(1))}.
     *
     * @throws IllegalArgumentException when the interval is not positive, or the span holds more than
     *                                  100,000 intervals
     */
    public ProfileCounts profileCounts(java.time.Instant start, java.time.Instant stop, Duration interval) {
        long step = interval.toMillis();
        long to = (stop == null ? java.time.Instant.now() : stop).toEpochMilli();
        long from = start == null ? 0 : start.toEpochMilli();
        if (step <= 0 || to < from) {
            throw new IllegalArgumentException("profileCounts needs an interval of at least 1 ms and start <= stop, got "
                    + interval + " over [" + start + ", " + stop + "]");
        }
        Message m = call("profileCounts", () -> core.request(new Message.ProfileCountsRequest(from, to, step)));
        if (m instanceof Message.ProfileCounts c) {
            return ProfileCounts.of(c);
        }
        throw new IllegalStateException("the scheduler answered ProfileCountsRequest with " + m);
    }

    /**
     * The metadata worker plugins set on {@code future}'s task ({@code WorkerContext.setTaskMetadata}),
     * as dask's TaskState.metadata; empty when none, or when the scheduler no longer knows the task.
     *
     * <pre>{@code
     * String started = client.taskMetadata(f).get("start_time");
     * }</pre>
     */
    public Map<String, String> taskMetadata(Future<?> future) {
        Message m = call("taskMetadata", () -> core.request(new Message.TaskMetadataRequest(List.of(future.key()), null, false)));
        if (m instanceof Message.TaskMetadataReply r) {
            Map<String, String> md = r.metadata().get(future.key());
            return md == null ? Map.of() : Map.copyOf(md);
        }
        throw new IllegalStateException("the scheduler answered TaskMetadataRequest with " + m);
    }

    /**
     * Starts collecting the metadata and states of the tasks submitted from now until the returned
     * collection is closed, by any client, as dask's {@code get_task_metadata}; collections may nest.
     *
     * <pre>{@code
     * TaskMetadata tasks = client.collectTaskMetadata();
     * try (tasks) {
     *     f = client.submit(Work::inc, 1);
     *     f.result();
     * }
     * tasks.states().get(f.key());    // "memory"
     * }</pre>
     */
    public TaskMetadata collectTaskMetadata() {
        String id = java.util.UUID.randomUUID().toString();
        call("collectTaskMetadata", () -> core.request(new Message.TaskMetadataRequest(List.of(), id, true)));
        return new TaskMetadata(this, id);
    }

    Message.TaskMetadataReply stopCollecting(String id) {
        Message m = call("collectTaskMetadata", () -> core.request(new Message.TaskMetadataRequest(List.of(), id, false)));
        if (m instanceof Message.TaskMetadataReply r) {
            return r;
        }
        throw new IllegalStateException("the scheduler answered TaskMetadataRequest with " + m);
    }

    /**
     * Writes the cluster's state to a file for looking into a stuck or slow computation later, as dask's
     * {@code Client.dump_cluster_state}, with its default format msgpack: see
     * {@link #dumpClusterState(java.nio.file.Path, String, Collection)}.
     */
    public java.nio.file.Path dumpClusterState(java.nio.file.Path filename) {
        return dumpClusterState(filename, "msgpack", List.of());
    }

    /**
     * Writes the cluster's state to {@code filename} plus the format's ending ({@code .msgpack.gz} or
     * {@code .yaml}), here where the client runs, and returns the file: the scheduler's tasks and workers,
     * each worker's state and tasks (workers that do not answer within 10 s are left out) and the
     * versions. A task's fields named in {@code exclude} (e.g. "state") are left out; its recipe and value
     * never go in. Read it back with {@link ClusterDump#load}.
     *
     * <pre>{@code
     * Path f = client.dumpClusterState(Path.of("stuck"), "yaml", List.of());   // stuck.yaml
     * }</pre>
     *
     * @throws IllegalArgumentException "Unsupported format" for a format other than msgpack or yaml
     * @throws java.io.UncheckedIOException when the file cannot be written
     */
    public java.nio.file.Path dumpClusterState(java.nio.file.Path filename, String format, Collection<String> exclude) {
        java.nio.file.Path file = ClusterDump.fileFor(filename, format);
        List<String> out = List.copyOf(exclude);
        Message m = call("dumpClusterState", () -> core.request(new Message.ClusterStateRequest(out)));
        if (!(m instanceof Message.ClusterStateDump d)) {
            throw new IllegalStateException("the scheduler answered ClusterStateRequest with " + m);
        }
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("scheduler", d.scheduler());
        state.put("workers", d.workers());
        state.put("versions", versions(false));
        try {
            ClusterDump.write(state, file, format);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("could not write the cluster dump " + file + ": " + e.getMessage(), e);
        }
        return file;
    }

    /**
     * The scheduler's wanted worker count for a cluster kept within [{@code minimum}, {@code maximum}],
     * and the workers it would close (see {@link Adaptive}); for cluster managers of this package.
     */
    Message.AdaptiveTarget adaptiveTarget(Duration targetDuration, int minimum, int maximum) {
        Message m = call("adaptiveTarget", () -> core.request(new Message.AdaptiveTargetRequest(
                Math.max(1, targetDuration.toMillis()), minimum, maximum)));
        if (m instanceof Message.AdaptiveTarget t) {
            return t;
        }
        throw new IllegalStateException("the scheduler answered AdaptiveTargetRequest with " + m);
    }

    /**
     * Waits until at least {@code n} workers are connected to the scheduler, asking it every few
     * milliseconds (at most every 100 ms).
     *
     * <pre>{@code
     * Client client = Client.connect("10.0.0.5:8786");
     * client.waitForWorkers(4, Duration.ofMinutes(1));   // before sizing the work to four workers
     * }</pre>
     *
     * @throws IllegalArgumentException when {@code n} is less than 1
     * @throws DistTimeoutException     saying how many of the {@code n} arrived within {@code timeout}
     */
    public void waitForWorkers(int n, Duration timeout) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be a positive number of workers, got " + n);
        }
        Objects.requireNonNull(timeout, "timeout");
        long deadline = System.nanoTime() + timeout.toNanos();
        long pauseMillis = 5;
        while (true) {
            int have = workersInfo().size();
            if (have >= n) {
                return;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new DistTimeoutException("Client.waitForWorkers", timeout,
                        "the timeout parameter of Client.waitForWorkers(int, Duration)",
                        "Only " + have + "/" + n + " workers arrived after " + timeout.toMillis() + " ms", null);
            }
            // polls, as dask's client does: the scheduler tells clients nothing when workers join
            try {
                TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(pauseMillis)));
            } catch (InterruptedException e) {
                throw Calls.interrupted("Client.waitForWorkers", e);
            }
            pauseMillis = Math.min(100, pauseMillis * 2);
        }
    }

    /** Which workers hold each of these futures' keys (an empty list: none). */
    public Map<String, List<String>> whoHas(Collection<? extends Future<?>> futures) {
        List<String> ks = futures.stream().map(Future::key).distinct().toList();
        return ks.isEmpty() ? new LinkedHashMap<>() : call("whoHas", () -> core.whoHasKeys(ks, -1));
    }

    /**
     * Which workers hold each key the scheduler knows, of any client; a key it keeps but no worker
     * holds (waiting, lost with its workers) maps to an empty list.
     *
     * <pre>{@code
     * client.whoHas().forEach((key, workers) -> System.out.println(key + " on " + workers));
     * }</pre>
     */
    public Map<String, List<String>> whoHas() {
        return call("whoHas", () -> core.whoHasKeys(List.of(), -1));
    }

    // ------------------------------------------------------------------ data placement (logic in DataOps)

    /**
     * Places {@code values} in the workers' memory and returns a finished Future per value, in order.
     * Values go round-robin grouped by cores: each worker, in the scheduler's order, takes as many
     * consecutive values as it has threads. Keys are a hash of the value ({@code Integer-3f1c...}), so
     * equal values share one; {@code client.with(Options.defaults().pure(false)).scatter(values)} gives
     * each a fresh key ({@link Submitter#scatter(List)}).
     *
     * <pre>{@code
     * List<Future<Integer>> xs = client.scatter(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
     * Future<Integer> y = client.submit(Demo::inc, xs.get(0));   // runs where xs.get(0) lives
     * }</pre>
     */
    @Override
    public <T> List<Future<T>> scatter(List<? extends T> values) {
        return scatter(values, List.of(), false);
    }

    /**
     * {@link #scatter(List)} onto the workers named in {@code workers} (address, host or name; empty
     * for all); with {@code broadcast} every value goes to every one of them.
     */
    public <T> List<Future<T>> scatter(List<? extends T> values, List<String> workers, boolean broadcast) {
        return scatter(values, workers, broadcast, true);
    }

    /** {@link #scatter(List, List, boolean)}; without {@code hash} each value gets a key of its own. */
    <T> List<Future<T>> scatter(List<? extends T> values, List<String> workers, boolean broadcast, boolean hash) {
        LinkedHashMap<String, Object> byKey = new LinkedHashMap<>();
        List<String> order = new ArrayList<>(values.size());
        for (Object v : values) {
            String key = hash ? Keys.pure(valuePrefix(v), core.encodeValue(v)) : Keys.unique(valuePrefix(v));
            byKey.put(key, v);
            order.add(key);
        }
        Map<String, Future<T>> placed = call("scatter", () -> data.scatter(byKey, workers, broadcast));
        List<Future<T>> out = new ArrayList<>(order.size());
        Map<String, Boolean> first = new HashMap<>();
        for (String k : order) {
            // a value given twice shares its key; each position gets its own Future
            out.add(first.putIfAbsent(k, Boolean.TRUE) == null ? placed.get(k) : core.holdKey(k));
        }
        return out;
    }

    /** Scatters a map: its keys become the futures' keys. */
    public <T> Map<String, Future<T>> scatter(Map<String, ? extends T> values) {
        return scatter(values, List.of(), false);
    }

    /** {@link #scatter(Map)} onto {@code workers} (empty: all), or to each of them with {@code broadcast}. */
    public <T> Map<String, Future<T>> scatter(Map<String, ? extends T> values, List<String> workers, boolean broadcast) {
        LinkedHashMap<String, Object> byKey = new LinkedHashMap<>();
        for (Map.Entry<String, ? extends T> e : values.entrySet()) {
            if (e.getKey() == null || e.getKey().isBlank()) {
                throw new IllegalArgumentException("scatter keys must be non-empty strings; got " + e.getKey());
            }
            byKey.put(e.getKey(), e.getValue());
        }
        return call("scatter", () -> data.scatter(byKey, workers, broadcast));
    }

    private static String valuePrefix(Object v) {
        String n = v == null ? "null" : v.getClass().getSimpleName();
        StringBuilder b = new StringBuilder();
        for (char c : n.toCharArray()) {
            b.append(Character.isLetterOrDigit(c) || c == '_' ? c : '_');
        }
        return b.isEmpty() ? "data" : b.toString();
    }

    /** Copies these futures' data to every worker, as a tree copy (branching factor 2). */
    public void replicate(Collection<? extends Future<?>> futures) {
        replicate(futures, 0, List.of(), 2);
    }

    /**
     * Makes each future's data held by {@code n} of {@code workers} (n 0 or less: all of them; workers
     * empty: all workers), copying in generations where every holder gives to at most
     * {@code branchingFactor} new workers; extra copies beyond n are dropped (never the last one).
     * The scheduler plans the copies and answers once it lists them; futures still running are
     * waited for.
     *
     * <pre>{@code
     * client.replicate(List.of(x), 3, List.of(), 2);     // three copies
     * client.replicate(List.of(x), 1, List.of(), 2);     // back to one
     * }</pre>
     */
    public void replicate(Collection<? extends Future<?>> futures, int n, List<String> workers, int branchingFactor) {
        exec("replicate", () -> data.replicate(keysOf(futures), n, workers, branchingFactor));
    }

    /** Moves data between all workers so each holds about the same number of bytes. */
    public void rebalance() {
        exec("rebalance", () -> data.rebalance(List.of(), List.of()));
    }

    /**
     * Moves these futures' data (null: all data) among {@code workers} (null: all) to even out memory.
     * As in dask, an empty list is not the same as none given: it moves nothing.
     *
     * <pre>{@code
     * client.rebalance(List.of(f3, f7), List.of(a, b));   // only f3 and f7, only between a and b
     * client.rebalance(null, List.of(a, b));              // all data, between a and b
     * }</pre>
     */
    public void rebalance(Collection<? extends Future<?>> futures, List<String> workers) {
        if ((futures != null && futures.isEmpty()) || (workers != null && workers.isEmpty())) {
            return;
        }
        exec("rebalance", () -> data.rebalance(futures == null ? List.of() : keysOf(futures), workers == null ? List.of() : workers));
    }

    /**
     * Closes these workers (address, host or name) gracefully, as dask's {@code retire_workers}:
     * they take no new task (status closing_gracefully), finish the tasks they run, every result only
     * they hold is copied to other running workers with room (under their memory limits), then they
     * close, with their nannies. Nothing is recomputed. A worker that cannot be emptied (no other
     * worker, no room elsewhere, the scheduler's deadline passed) stays and runs as before; the
     * answer says why. Names that match no worker are ignored.
     *
     * <pre>{@code
     * Retirement r = client.retireWorkers(List.of("worker-3"));   // its results now live elsewhere
     * if (!r.kept().isEmpty()) System.out.println("kept: " + r.kept());
     * }</pre>
     */
    public Retirement retireWorkers(List<String> workers) {
        return retirement(call("retireWorkers", () -> data.retireWorkers(List.copyOf(workers), 0)));
    }

    /**
     * {@link #retireWorkers(List)} for {@code n} workers the scheduler chooses, as dask's
     * {@code retire_workers(n=...)}: idle ones first, then those holding the least data.
     *
     * <pre>{@code
     * client.retireWorkers(2).retired().size();   // 2: the cluster shrank by two workers; no result is lost
     * }</pre>
     */
    public Retirement retireWorkers(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be 0 or more, got " + n);
        }
        return retirement(call("retireWorkers", () -> data.retireWorkers(List.of(), n)));
    }

    private static Retirement retirement(Message.RetireReply r) {
        Map<String, WorkerInfo> out = new LinkedHashMap<>();
        r.retired().forEach(w -> out.put(w.address(), WorkerInfo.of(w)));
        return new Retirement(out, r.kept() == null ? Map.of() : r.kept());
    }

    /** The keys each worker holds, by worker address. */
    public Map<String, List<String>> hasWhat() {
        return call("hasWhat", () -> data.hasWhat(List.of()));
    }

    /** The keys held by the named workers (address, host or name). */
    public Map<String, List<String>> hasWhat(List<String> workers) {
        return call("hasWhat", () -> data.hasWhat(workers));
    }

    /** Threads of the named workers (address, host or name). */
    public Map<String, Integer> ncores(List<String> workers) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (Message.WorkerInfo w : call("ncores", () -> data.workers(workers))) {
            out.put(w.address(), w.nthreads());
        }
        return out;
    }

    /**
     * Stored size in bytes (the serialized size) of every key in the cluster's memory; with
     * {@code summary}, summed by key prefix ({@code {"inc": 84}}).
     */
    public Map<String, Long> nbytes(boolean summary) {
        Map<String, Long> m = call("nbytes", () -> data.nbytes(List.of()));
        return summary ? DataOps.summarize(m) : m;
    }

    /** {@link #nbytes(boolean)} for these futures only. */
    public Map<String, Long> nbytes(Collection<? extends Future<?>> futures, boolean summary) {
        Map<String, Long> m = call("nbytes", () -> data.nbytes(keysOf(futures)));
        return summary ? DataOps.summarize(m) : m;
    }

    /** Where the scheduler has this future's task, and for "no-worker" why it cannot run yet. */
    public TaskStatus taskStatus(Future<?> future) {
        return call("taskStatus", () -> data.taskStatus(future.key()));
    }

    /**
     * Calls {@code fn} on every worker now, outside the task system, and returns each result by worker
     * address. A call that throws fails the whole run with its exception.
     *
     * <pre>{@code
     * Map<String, Long> pids = client.run(() -> ProcessHandle.current().pid());
     * }</pre>
     */
    public <R> Map<String, R> run(Fn0<R> fn) {
        return call("run", () -> data.run(Objects.requireNonNull(fn, "function"), List.of(), null, DataOps.RunErrors.RAISE));
    }

    /**
     * {@link #run(Fn0)} on the named workers only (address, host or name; null: every worker). As in
     * dask, an empty list runs nowhere and answers an empty map.
     */
    public <R> Map<String, R> run(Fn0<R> fn, List<String> workers) {
        return call("run", () -> data.run(Objects.requireNonNull(fn, "function"), List.of(), workers, DataOps.RunErrors.RAISE));
    }

    /** What {@link #run(Fn0, List, OnError)} does when the call fails on a worker, or the worker cannot be reached. */
    public enum OnError {
        /** The run fails with the first worker's error. */
        RAISE,
        /** The error (a Throwable) stands in the result map in place of that worker's result. */
        RETURN,
        /** That worker is left out of the result map. */
        IGNORE
    }

    /**
     * {@link #run(Fn0, List)} that, per {@code onError}, keeps the other workers' results when some fail
     * ({@code workers} null: every worker).
     *
     * <pre>{@code
     * Map<String, Object> r = client.run(Demo::probe, null, Client.OnError.RETURN);
     * r.forEach((w, v) -> System.out.println(w + (v instanceof Throwable t ? " failed: " + t : " -> " + v)));
     * }</pre>
     */
    public Map<String, Object> run(Fn0<?> fn, List<String> workers, OnError onError) {
        return call("run", () -> data.run(Objects.requireNonNull(fn, "function"), List.of(), workers,
                DataOps.RunErrors.valueOf(Objects.requireNonNull(onError, "onError").name())));
    }

    /**
     * Publishes futures under {@code name} so other clients can get them; the cluster keeps their data
     * while the dataset is published, even after this client leaves. {@code value} is a Future or lists,
     * sets and maps of them, or any serializable value (kept, serialized, on the scheduler).
     *
     * <pre>{@code
     * client.publishDataset("squares", client.map(Demo::square, List.of(1, 2, 3)));
     * List<Future<Integer>> again = other.getDataset("squares");
     * }</pre>
     */
    public void publishDataset(String name, Object value) {
        exec("publishDataset", () -> data.publish(name, value, false));
    }

    /** {@link #publishDataset(String, Object)}; with {@code override} an existing dataset of that name is replaced. */
    public void publishDataset(String name, Object value, boolean override) {
        exec("publishDataset", () -> data.publish(name, value, override));
    }

    /**
     * Publishes several datasets in one step, all or none: when a name exists already (and
     * {@code override} is false) nothing is published and the error names every such name.
     *
     * <pre>{@code
     * client.publishDatasets(Map.of("x", fx, "y", fy), false);
     * List<Future<Integer>> both = client.getDatasets(List.of("x", "y"));
     * }</pre>
     */
    public void publishDatasets(Map<String, ?> datasets, boolean override) {
        exec("publishDatasets", () -> data.publish(new LinkedHashMap<>(Objects.requireNonNull(datasets, "datasets")), override));
    }

    /**
     * The published dataset {@code name}, with Futures of this client in place of the published ones.
     *
     * @throws IllegalArgumentException when no dataset has that name ("not found", and the name)
     */
    @SuppressWarnings("unchecked")
    public <T> T getDataset(String name) {
        return (T) call("getDataset", () -> data.get(name));
    }

    /**
     * The published dataset {@code name}, or {@code fallback} when there is none, as a map's
     * {@code getOrDefault}: {@code List<Future<Integer>> xs = client.getDataset("xs", List.of());}
     */
    @SuppressWarnings("unchecked")
    public <T> T getDataset(String name, T fallback) {
        return (T) call("getDataset", () -> data.get(name, fallback));
    }

    /** Each of the datasets {@code names}, in order, as {@link #getDataset(String)} gets one. */
    @SuppressWarnings("unchecked")
    public <T> List<T> getDatasets(List<String> names) {
        List<T> out = new ArrayList<>(names.size());
        for (String name : names) {
            out.add((T) call("getDatasets", () -> data.get(name)));
        }
        return out;
    }

    /** Names of the published datasets, sorted. */
    public List<String> listDatasets() {
        return call("listDatasets", () -> data.list());
    }

    /**
     * Removes a published dataset; its data goes once no client holds its futures. A name that is
     * not published is quietly ignored, so a task that unpublishes may safely run twice.
     */
    public void unpublishDataset(String name) {
        exec("unpublishDataset", () -> data.unpublish(name));
    }

    /** {@link #unpublishDataset(String)} for each of {@code names}. */
    public void unpublishDatasets(Collection<String> names) {
        for (String name : names) {
            exec("unpublishDatasets", () -> data.unpublish(name));
        }
    }

    /**
     * Everything the cluster remembers about task {@code key}, oldest first: its state changes on the
     * scheduler and each step on the workers it touched (received, fetched, executed, released).
     * Only recent steps are kept (the last 100,000 on the scheduler, 50,000 per worker).
     *
     * <pre>{@code
     * client.story(future.key()).forEach(System.out::println);
     * }</pre>
     */
    public List<StoryEvent> story(String key) {
        return call("story", () -> operability.story(key));
    }

    /** {@link #story(String)} of this future's task. */
    public List<StoryEvent> story(Future<?> future) {
        return call("story", () -> operability.story(future.key()));
    }

    /**
     * Records the computations and transfers from now until the handle is closed (dask's
     * {@code get_task_stream}); it reads the scheduler's bounded history, so recording costs nothing.
     *
     * <pre>{@code
     * try (TaskStream ts = client.taskStream()) {
     *     client.submit(() -> 42).result();
     *     ts.close();
     *     ts.tasks().forEach(t -> System.out.println(t.key() + " " + t.worker() + " " + t.duration()));
     * }
     * }</pre>
     */
    public TaskStream taskStream() {
        return TaskStream.start(this::readTaskStream);
    }

    /** The computations and transfers of the last {@code period} the scheduler still keeps: {@code client.taskStream(Duration.ofMinutes(1)).tasks()}. */
    public TaskStream taskStream(java.time.Duration period) {
        return TaskStream.recent(this::readTaskStream, period);
    }

    /**
     * Opens span {@code name} on this thread, inside the spans already open on it: tasks submitted
     * until it is closed carry it, and the scheduler keeps their totals (see {@link #spans()}).
     *
     * <pre>{@code
     * try (Span s = client.span("etl")) {
     *     client.submit(() -> 42).result();
     * }
     * }</pre>
     */
    public Span span(String name) {
        return new Span(name);
    }

    /** The totals of every span the scheduler keeps, oldest first: {@code client.spans().get(0).computeSeconds()}. */
    public List<SpanInfo> spans() {
        Message.SpansReply r = call("spans", operability::spans);
        List<SpanInfo> l = new ArrayList<>(r.ids().size());
        for (int i = 0; i < r.ids().size(); i++) {
            String id = r.ids().get(i);
            l.add(new SpanInfo(id, id.substring(0, Math.max(0, id.lastIndexOf('#'))), r.parents().get(i),
                    r.tasks().get(i), r.active().get(i), r.computeSeconds().get(i), r.errors().get(i),
                    r.memoryBytes().get(i), r.done().get(i), r.transferSeconds().get(i), r.transferBytes().get(i)));
        }
        return List.copyOf(l);
    }

    /**
     * Records what runs until it is closed and then writes it to {@code path} as one self-contained HTML
     * page (dask's {@code performance_report}).
     *
     * <pre>{@code
     * try (PerformanceReport report = client.performanceReport(Path.of("report.html"))) {
     *     client.submit(() -> 42).result();
     * }
     * }</pre>
     */
    public PerformanceReport performanceReport(java.nio.file.Path path) {
        java.util.Objects.requireNonNull(path, "path");
        java.time.Instant start = java.time.Instant.now();
        return new PerformanceReport(path, taskStream(), this::spans, () -> workersProfile(start));
    }

    private Message.TaskStreamReply readTaskStream(long since, long transfersSince, int max) {
        return call("taskStream", () -> operability.taskStream(since, transfersSince, max));
    }

    /** The workers' profile since {@code start} as folded stacks (outermost first) to samples; empty when none was taken. */
    private java.util.Optional<Map<String, Long>> workersProfile(java.time.Instant start) {
        Profile root = profile(start, null, null);
        if (root.count() == 0) {
            return java.util.Optional.empty();
        }
        Map<String, Long> folded = new java.util.LinkedHashMap<>();
        for (Profile child : root.children()) { // the root "all" is no frame of its own
            fold(child, child.frame(), folded);
        }
        return java.util.Optional.of(folded);
    }

    private static void fold(Profile node, String path, Map<String, Long> out) {
        long self = node.count();
        for (Profile c : node.children()) {
            self -= c.count();
            fold(c, path + ";" + c.frame(), out);
        }
        if (self > 0) {
            out.merge(path, self, Long::sum);
        }
    }

    /**
     * The scheduler's newest {@code n} log records (all it keeps with n below 1; it keeps
     * {@code distributed.admin.log-length}), newest first: those of its dist.scheduler loggers.
     *
     * <pre>{@code
     * client.schedulerLogs(10).forEach(System.out::println);   // dist.scheduler.TaskLifecycle - INFO - worker joined: ...
     * }</pre>
     */
    public List<LogEntry> schedulerLogs(int n) {
        return call("schedulerLogs", () -> operability.schedulerLogs(n));
    }

    /**
     * Each worker's newest {@code n} log records, newest first, by worker address: those of its
     * dist.worker loggers and those its tasks logged. Workers in one process share their records.
     *
     * <pre>{@code
     * client.workerLogs(20).forEach((worker, log) -> log.forEach(e -> System.out.println(worker + " " + e)));
     * }</pre>
     */
    public Map<String, List<LogEntry>> workerLogs(int n) {
        return workerLogs(n, List.of());
    }

    /** {@link #workerLogs(int)} of the workers named in {@code workers} (address, host or name; empty: all). */
    public Map<String, List<LogEntry>> workerLogs(int n, List<String> workers) {
        List<String> addresses = new ArrayList<>();
        for (dist.protocol.Message.WorkerInfo w : call("workerLogs", () -> data.workers(workers))) {
            addresses.add(w.address());
        }
        return call("workerLogs", () -> operability.workerLogs(n, addresses));
    }

    /**
     * The newest {@code n} log records of each worker's nanny (its dist.nanny loggers), newest first, by
     * the address of the worker it runs; workers without a nanny are left out (dask's
     * {@code get_worker_logs(nanny=True)}).
     *
     * <pre>{@code
     * client.nannyLogs(10).forEach((worker, log) -> log.forEach(e -> System.out.println(worker + " " + e)));
     * }</pre>
     */
    public Map<String, List<LogEntry>> nannyLogs(int n) {
        return call("nannyLogs", () -> operability.nannyLogs(n, List.of()));
    }

    /** {@link #nannyLogs(int)} of the workers named in {@code workers} (address, host or name; empty: all). */
    public Map<String, List<LogEntry>> nannyLogs(int n, List<String> workers) {
        if (workers.isEmpty()) {
            return nannyLogs(n);
        }
        List<String> addresses = new ArrayList<>();
        for (dist.protocol.Message.WorkerInfo w : call("nannyLogs", () -> data.workers(workers))) {
            addresses.add(w.address());
        }
        return addresses.isEmpty() ? Map.of() : call("nannyLogs", () -> operability.nannyLogs(n, addresses));
    }

    /**
     * The address of the scheduler's dashboard ("http://host:port/status"), or empty when the scheduler
     * serves none; written as the config key {@code distributed.dashboard.link} says, e.g. behind a
     * proxy: {@code DIST_DASHBOARD__LINK='https://proxy/{USER}/{port}/status'}.
     */
    public java.util.Optional<String> dashboardLink() {
        return call("dashboardLink", () -> operability.dashboardLink());
    }

    /** {@code op}, a request bounded by the request timeout, with its failures as the API's exceptions. */
    // ------------------------------------------------------------------ events, variables, queues, topics

    /**
     * The queue {@code name} on the scheduler, shared with every client and task naming it (dask's
     * {@code Queue}); made, with at most {@code maxSize} items (0: up to
     * {@code distributed.scheduler.queue-max-items}), by its first use:
     * {@code BlockingQueue<Integer> q = client.queue("jobs", 100); q.put(1); int one = q.take();}
     */
    public <T> SharedQueue<T> queue(String name, int maxSize) {
        return new SharedQueue<>(this, shared(), name, maxSize);
    }

    /** {@link #queue(String, int)} without a bound of its own: {@code client.queue("results").offer(42);} */
    public <T> SharedQueue<T> queue(String name) {
        return queue(name, 0);
    }

    /** The event {@code name} (dask's {@code Event}): {@code client.event("go").set();} */
    public Event event(String name) {
        return new Event(this, shared(), name);
    }

    /** The variable {@code name} (dask's {@code Variable}): {@code client.<Integer>variable("x").set(1);} */
    public <T> Variable<T> variable(String name) {
        return new Variable<>(this, shared(), name);
    }

    /**
     * Records {@code message} under {@code topic}, stamped with the time now, for subscribers and
     * {@link #events} (dask's {@code log_event}); from a task: {@code WorkerClient.get().logEvent("progress", 0.5);}
     */
    public void logEvent(String topic, Object message) {
        topics.log(topic, message);
    }

    /** The recent events of {@code topic}, oldest first (dask's {@code get_events}): {@code client.events("progress")}. */
    public List<TopicEvent> events(String topic) {
        return topics.events(topic);
    }

    /**
     * Runs {@code handler} for every later event of {@code topic}, one at a time on a thread of the
     * client's own (dask's {@code subscribe_topic}); close the subscription to stop:
     * {@code Subscription s = client.subscribeTopic("alerts", e -> System.out.println(e.message()));}
     */
    public Subscription subscribeTopic(String topic, java.util.function.Consumer<TopicEvent> handler) {
        return topics.subscribe(topic, handler);
    }

    /** Stops every handler of {@code topic} (dask's {@code unsubscribe_topic}): {@code client.unsubscribeTopic("alerts");} */
    public void unsubscribeTopic(String topic) {
        topics.unsubscribe(topic);
    }

    private dist.client.SharedOps shared() {
        return new dist.client.SharedOps(core.address(), core, core, core, core);
    }

    private <T> T call(String operation, Calls.Op<T> op) {
        return Calls.call(link, "Client." + operation, core.requestTimeout(), Calls.REQUEST_TIMEOUT, op);
    }

    private void exec(String operation, Calls.VoidOp op) {
        Calls.exec(link, "Client." + operation, core.requestTimeout(), Calls.REQUEST_TIMEOUT, op);
    }

    private static List<String> keysOf(Collection<? extends Future<?>> futures) {
        return futures.stream().map(Future::key).distinct().toList();
    }

    /**
     * Stops the scheduler and every worker connected to it, then closes this client. Futures still
     * pending end as cancelled.
     */
    public void shutdown() {
        core.shutdown();
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return core.isClosed();
    }

    /**
     * Releases every key this client holds, closes its connections, and cancels futures still
     * pending here. Idempotent.
     */
    @Override
    public void close() {
        locks.close();
        core.close();
    }

    /**
     * The cluster-wide lock {@code name} (dask's {@code Lock}); each object returned is a holder of
     * its own: {@code Lock l = client.lock("db"); l.lock(); try { ... } finally { l.unlock(); }}
     */
    public java.util.concurrent.locks.Lock lock(String name) {
        return new ClusterLock(locks, java.util.List.of(name));
    }

    /**
     * A lock over all of {@code names} at once, never part of them (dask's {@code MultiLock}):
     * {@code Lock both = client.multiLock(List.of("a", "b"));}
     */
    public java.util.concurrent.locks.Lock multiLock(java.util.Collection<String> names) {
        return new ClusterLock(locks, java.util.List.copyOf(names));
    }

    /**
     * A lock over any {@code count} of {@code names} (dask's {@code MultiLock.acquire(num_locks=count)}):
     * it holds {@code count} of them that are free at once, never fewer, and waits in line for every
     * name meanwhile. For example, one of four licences:
     * {@code Lock licence = client.multiLock(List.of("l1", "l2", "l3", "l4"), 1);}
     *
     * @throws IllegalArgumentException when {@code count} is not between 1 and the number of names
     */
    public java.util.concurrent.locks.Lock multiLock(java.util.Collection<String> names, int count) {
        return new ClusterLock(locks, java.util.List.copyOf(names), count);
    }

    /**
     * The cluster-wide semaphore {@code name} of {@code permits} (dask's {@code Semaphore}), made on
     * first use: {@code ClusterSemaphore s = client.semaphore("db", 2); s.acquire(); ... s.release();}
     *
     * @throws IllegalArgumentException when {@code name} exists with another count
     */
    public ClusterSemaphore semaphore(String name, int permits) {
        return new ClusterSemaphore(locks, name, permits);
    }

    @Override
    public String toString() {
        return "Client[" + core.id() + " -> " + core.address() + (core.isClosed() ? ", closed" : "")
                + ", keys=" + core.keyCount() + "]";
    }
}
