package dist;

import dist.client.ClassSource;
import dist.client.PayloadCodec;
import dist.client.Keys;
import dist.client.Shapes;
import dist.client.Transport;
import dist.client.Recipes;
import dist.comm.CommConfig;
import dist.comm.SpinWait;
import dist.config.Config;
import dist.protocol.Invokable;
import dist.protocol.Message;
import dist.protocol.TaskCall;
import dist.protocol.TaskSpec;
import dist.serial.Encoded;
import dist.serial.Ref;
import dist.serial.Serializer;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

/**
 * A connection to a scheduler that turns function calls into tasks and gives {@link Future}s for
 * their results.
 *
 * <pre>{@code
 * try (Client client = Client.connect("127.0.0.1:8786")) {
 *     Future<Integer> x = client.submit(Demo::inc, 10);
 *     Future<Integer> y = client.submit(Demo::inc, x);          // a future where a value goes
 *     List<Future<Integer>> sq = client.map(Demo::square, List.of(0, 1, 2, 3));
 *     Future<Integer> total = client.submit(Demo::sum, sq);     // the list is resolved on the worker
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
    private static final System.Logger LOG = System.getLogger("dist.client");
    /** Links made by a reconnect that end this soon after, this many times in a row: the scheduler drops what the client sends. */
    private static final long QUICK_LOSS_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final int QUICK_LOSS_LIMIT = 5;
    /** Most keys asked about in one request when checking which keys the scheduler knows. */
    private static final int AUDIT_SLICE = 50_000;

    /** A dataset as this client published it. */
    private record Published(List<String> keys, byte[] shape) {
    }

    /** What a resend to a returning scheduler asked for without a recipe: only returning workers can have it. */
    private record Resend(Set<String> dataKeys) {
    }
    /** A submission counter of up to 2^40 fits below a user priority in one long. */
    private static final int PRIORITY_SHIFT = 40;
    /** Rounds of asking the scheduler where data went before giving up on fetching a key. */
    private static final int FETCH_ROUNDS = 5;
    private static final Duration WORKER_CONNECT_TIMEOUT = Duration.ofSeconds(2);

    private final String id = UUID.randomUUID().toString();
    private final String address;
    /** A result usually comes within a few hundred µs: polling that long beats waking from a park. */
    private final long resultSpinNanos = Config.getInt("distributed.client.result-spin-us") * 1000L;
    private final PayloadCodec codec;
    private final ClassLoader loader;
    private final Transport.Connector workerConnector;
    private final Duration requestTimeout;
    private final Transport.Connector connector;
    /** How long to keep trying to reach a lost scheduler; zero: fail pending futures at once. */
    private final Duration reconnectTimeout;
    private volatile Transport scheduler;
    /** Recipes of the keys this client holds, to send again to a scheduler that restarted. */
    private final Recipes recipes = new Recipes();
    private final AtomicBoolean reconnecting = new AtomicBoolean();
    /** The last scheduler link that ended and the cause: a loss during a reconnect is picked up after it. */
    private volatile Transport lastLost;
    private volatile Throwable lastLostCause;
    /** When the current link was made by a reconnect, and how many such links in a row ended soon after. */
    private volatile long relinkedAt;
    private int quickLosses;
    /** Datasets this client published, by name: published again to a scheduler that restarted. */
    private final ConcurrentHashMap<String, Published> published = new ConcurrentHashMap<>();
    /**
     * Keys with a cancel of ours on its way: done once every notice the scheduler sends about that
     * cancel has arrived. A new submission of such a key waits for it, or the cancel's notice would
     * end the new submission's future.
     */
    private final ConcurrentHashMap<String, CompletableFuture<Void>> cancelFences = new ConcurrentHashMap<>();
    /** Reasons of refusals not yet checked against the scheduler's keys, and whether a check runs. */
    private final ConcurrentLinkedQueue<String> refusals = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean auditing = new AtomicBoolean();
    private final ClassSource classes;

    private final ConcurrentHashMap<String, KeyState> keys = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, CompletableFuture<Transport>> workers = new ConcurrentHashMap<>();
    private final AtomicLong submissions = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** {@link #shutdown()} began: the scheduler closing the link is expected, not a loss. */
    private volatile boolean shuttingDown;
    private volatile String lostReason;

    /** Orders every send to the scheduler so a release never overtakes a later resubmission of its key. */
    private final ReentrantLock sendLock = new ReentrantLock();
    private final ConcurrentLinkedQueue<String> pendingReleases = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    private final DataOps data = new DataOps(this);
    private final Operability operability = new Operability(this);

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
        this.address = address;
        this.connector = connector;
        this.reconnectTimeout = reconnectTimeout;
        this.workerConnector = workerConnector;
        this.codec = codec;
        this.loader = loader;
        this.requestTimeout = requestTimeout;
        this.classes = new ClassSource(loader);
        this.scheduler = openScheduler();
        try {
            Message reply = scheduler.request(new Message.RegisterClient(id), requestTimeout)
                    .get(requestTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
            if (!(reply instanceof Message.Ack)) {
                throw new IOException("the scheduler at " + address + " refused this client: " + reply);
            }
        } catch (InterruptedException e) {
            scheduler.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while registering with the scheduler at " + address, e);
        } catch (ExecutionException | TimeoutException e) {
            scheduler.close();
            Throwable c = e instanceof ExecutionException ? e.getCause() : e;
            throw new IOException("the scheduler at " + address + " did not accept this client: " + c, c);
        } catch (IOException | RuntimeException e) {
            scheduler.close();
            throw e;
        }
    }

    private Transport openScheduler() throws IOException {
        Transport[] self = new Transport[1];
        Transport t = connector.connect(address, new Transport.Inbox() {
            @Override
            public void onMessage(Message message) {
                onSchedulerMessage(message);
            }

            @Override
            public void onClose(Throwable cause) {
                lastLostCause = cause;
                lastLost = self[0];
                onSchedulerClosed(self[0], cause);
            }
        });
        self[0] = t;
        return t;
    }

    /** Connects to the scheduler at {@code address} ("host:port") with default settings. */
    public static Client connect(String address) throws IOException {
        return connect(address, CommConfig.DEFAULT);
    }

    /** Connects, trying for at most {@code connectTimeout} while the scheduler is not reachable. */
    public static Client connect(String address, Duration connectTimeout) throws IOException {
        return connect(address, CommConfig.DEFAULT.withConnectTimeout(connectTimeout));
    }

    /** Connects with explicit connection settings. */
    public static Client connect(String address, CommConfig config) throws IOException {
        checkAddress(address);
        Objects.requireNonNull(config, "config");
        return new Client(address, Transport.tcp(config), toWorkers(config), PayloadCodec.of(Serializer.defaults()),
                Thread.currentThread().getContextClassLoader(), config.requestTimeout(),
                Config.getDuration("distributed.client.reconnect-timeout"));
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
        return id;
    }

    /** The scheduler's address. */
    public String address() {
        return address;
    }

    @Override
    Client client() {
        return this;
    }

    @Override
    public Options options() {
        return Options.defaults();
    }

    // ------------------------------------------------------------------ submission

    <R> Future<R> submitOne(Options options, Invokable fn, List<Object> args) {
        return this.<R>submitMany(options, fn, List.of(args)).get(0);
    }

    /** Most tasks in one UpdateGraph message sent by {@code map}. */
    static final int UPDATE_SLICE = 4096;

    <R> List<Future<R>> submitMany(Options options, Invokable fn, List<List<Object>> calls) {
        Objects.requireNonNull(fn, "function");
        ensureOpen();
        if (options.key() != null && calls.size() != 1) {
            throw new IllegalArgumentException("an explicit key names one task, but map makes " + calls.size()
                    + "; leave the key out of the options for map");
        }
        String prefix = options.key() == null ? Keys.prefix(fn) : null;
        classes.note(fn);
        // encode everything before touching the key table, so a bad argument leaves no half-made task
        List<TaskSpec> specs = new ArrayList<>(calls.size());
        Set<String> fnDeps = new LinkedHashSet<>(); // futures the function itself captured
        Object prepared = codec.prepareFunction(fn, futureReplacer(fnDeps));
        // loop bodies are methods of their own: one call and a map of thousands share their compiled
        // code (inlined here, the whole method was compiled three times over once a long map came)
        for (List<Object> args : calls) {
            specs.add(spec(options, fn, prepared, fnDeps, prefix, args));
        }
        List<Future<R>> futures = new ArrayList<>(specs.size());
        List<TaskSpec> fresh = new ArrayList<>();
        List<KeyState> freshStates = new ArrayList<>();
        boolean[] created = {false};
        for (TaskSpec spec : specs) {
            Future<R> f = new Future<>(this, reference(spec.key(), created));
            futures.add(f);
            if (created[0]) {
                fresh.add(spec);
                freshStates.add(f.state);
            }
        }
        if (!fresh.isEmpty()) {
            List<String> live = new ArrayList<>(fresh.size());
            for (TaskSpec t : fresh) {
                live.add(t.key());
            }
            recipes.add(fresh, live);
        }
        cancelIfClosed(freshStates);
        // in slices: the scheduler starts on the first while later ones are still being encoded and
        // sent, and never holds one huge message (the tasks of a map do not depend on each other)
        for (int from = 0; from < fresh.size(); from += UPDATE_SLICE) {
            int to = Math.min(fresh.size(), from + UPDATE_SLICE);
            List<TaskSpec> slice = fresh.subList(from, to);
            List<String> wanted = slice.stream().map(TaskSpec::key).toList();
            List<KeyState> sliceStates = freshStates.subList(from, to);
            sendOrdered(new Message.UpdateGraph(id, List.copyOf(slice), wanted), sliceStates);
            settleFinished(sliceStates);
        }
        return futures;
    }

    /** A key that finished as its update went out (its notice may beat its recipe's record) lets its recipe go. */
    private void settleFinished(List<KeyState> states) {
        for (KeyState s : states) {
            if (!s.isPending()) {
                recipes.settle(s.key);
            }
        }
    }

    /** A submission that raced {@link #close()} past its sweep: its keys end as cancelled, as the swept ones. */
    private void cancelIfClosed(List<KeyState> states) {
        if (closed.get()) {
            for (KeyState s : states) {
                s.cancelled("the client was closed");
            }
        }
    }

    /** The task of one call: its arguments encoded, its key and priority. */
    private TaskSpec spec(Options options, Invokable fn, Object prepared, Set<String> fnDeps, String prefix,
                          List<Object> args) {
        if (args.size() != fn.arity()) {
            throw new IllegalArgumentException("function takes " + fn.arity() + " argument(s), got " + args.size());
        }
        Set<String> deps = new LinkedHashSet<>(fnDeps);
        byte[] run = codec.encodeRun(prepared, fn, args, futureReplacer(deps));
        String key = options.key() != null ? options.key()
                : options.isPure() ? Keys.pure(prefix, run) : Keys.unique(prefix);
        long priority = (-(long) options.priority() << PRIORITY_SHIFT) + submissions.getAndIncrement();
        return new TaskSpec(key, run, List.copyOf(deps), priority, options.toTaskOptions());
    }

    /** One more reference to {@code key}'s state, made if there is none usable; {@code created[0]} says which. */
    private KeyState reference(String key, boolean[] created) {
        while (true) {
            created[0] = false;
            CompletableFuture<?>[] wait = {null};
            KeyState state = keys.compute(key, (k, old) -> {
                if (old != null && old.reusable()) {
                    old.refs++;
                    return old;
                }
                CompletableFuture<Void> fence = cancelFences.isEmpty() ? null : cancelFences.get(k);
                if (fence != null && !fence.isDone()) {
                    wait[0] = fence; // a cancel of ours is still being answered: a new state waits for it
                    return old;
                }
                created[0] = true;
                KeyState s = new KeyState(k);
                s.refs = 1;
                return s;
            });
            if (wait[0] == null) {
                return state;
            }
            awaitFence(wait[0]);
        }
    }

    private void awaitFence(CompletableFuture<?> fence) {
        try {
            fence.get(requestTimeout.toMillis() * 2 + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fence.complete(null);
        } catch (ExecutionException | TimeoutException e) {
            fence.complete(null); // bounded: a scheduler that does not answer does not hold submissions up
        }
    }

    // ------------------------------------------------------------------ hooks for graphs, Delayed and Bag

    /** Encodes a task call with this client's codec; {@code replacer} as in {@link PayloadCodec#encode}. */
    byte[] encodeCall(TaskCall call, UnaryOperator<Object> replacer) {
        classes.note(call.function());
        return codec.encodeRun(codec.prepareFunction(call.function(), replacer), call.function(), call.args(), replacer);
    }

    /** A priority for the next task: higher {@code userPriority} first, then submission order. */
    long nextPriority(int userPriority) {
        return (-(long) userPriority << PRIORITY_SHIFT) + submissions.getAndIncrement();
    }

    /**
     * Sends {@code specs} in one update and returns a Future per {@code wanted} key, in order. Keys of
     * {@code specs} that are not wanted are intermediates: the scheduler drops them once nothing needs them.
     */
    <R> List<Future<R>> submitSpecs(List<TaskSpec> specs, List<String> wanted) {
        ensureOpen();
        List<Future<R>> futures = new ArrayList<>(wanted.size());
        List<KeyState> states = new ArrayList<>(wanted.size());
        List<String> live = new ArrayList<>(wanted.size());
        boolean[] created = {false};
        for (String key : wanted) {
            Future<R> f = new Future<>(this, reference(key, created));
            futures.add(f);
            states.add(f.state);
            if (f.state.isPending()) {
                live.add(key);
            }
        }
        // the whole graph is kept, intermediates too, while a pending output needs it: a scheduler
        // that restarts gets it again
        recipes.add(specs, live);
        cancelIfClosed(states);
        sendOrdered(new Message.UpdateGraph(id, specs, List.copyOf(new LinkedHashSet<>(wanted))), states);
        settleFinished(states);
        return futures;
    }

    /** Replaces each Future in a call's arguments by a Ref to its key and records the key as a dependency. */
    UnaryOperator<Object> futureReplacer(Set<String> deps) {
        return o -> {
            if (!(o instanceof Future<?> f)) {
                return o;
            }
            if (f.client() != this) {
                throw new IllegalArgumentException("future " + f.key() + " belongs to another client; "
                        + "pass futures only to the client that made them");
            }
            if (f.isReleased()) {
                throw new IllegalArgumentException("future " + f.key() + " was released and can no longer be used");
            }
            if (f.isCancelled()) {
                throw new IllegalArgumentException("future " + f.key() + " was cancelled; its value will never exist");
            }
            deps.add(f.key());
            return new Ref(f.key());
        };
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("this client is closed; connect a new one");
        }
        String lost = lostReason;
        if (lost != null) {
            throw new IllegalStateException(lost);
        }
    }

    // ------------------------------------------------------------------ scheduler link

    /** Sends {@code message} (may be null: only flush releases) after every release queued before it. */
    private void sendOrdered(Message message) {
        sendOrdered(message, List.of());
    }

    /**
     * {@link #sendOrdered(Message)}, marking {@code asked} as sent inside the same critical section: a
     * check that looks under the send lock sees a key marked exactly when its update went before.
     */
    private void sendOrdered(Message message, List<KeyState> asked) {
        sendLock.lock();
        try {
            for (KeyState s : asked) {
                s.sent = true; // a send that fails here is made again by the reconnect, or throws
            }
            List<String> rel = new ArrayList<>();
            for (String k; (k = pendingReleases.poll()) != null; ) {
                rel.add(k);
            }
            if (!rel.isEmpty() && lostReason == null) {
                scheduler.send(new Message.ReleaseKeys(id, rel));
            }
            if (message != null) {
                scheduler.send(message);
            }
        } catch (RuntimeException e) {
            if (message != null && reconnectTimeout.isPositive() && !closed.get() && lostReason == null) {
                return; // the connection just ended: what this sent is sent again once the scheduler is back
            }
            if (message != null) {
                throw new IllegalStateException("could not send to the scheduler at " + address + ": " + e.getMessage(), e);
            }
            // a release that cannot be sent is moot: the scheduler forgets a client whose connection ended
        } finally {
            sendLock.unlock();
        }
    }

    /** Sends queued releases now. */
    void flushReleases() {
        sendOrdered(null);
    }

    /** Called when a Future for {@code state} is released or collected. */
    void releaseRef(KeyState state) {
        boolean[] last = {false};
        keys.computeIfPresent(state.key, (k, cur) -> {
            if (cur != state) {
                return cur; // an older state of a key that was resubmitted after cancellation
            }
            if (--cur.refs > 0) {
                return cur;
            }
            if (!closed.get()) {
                pendingReleases.add(k);
            }
            recipes.settle(k);
            last[0] = true;
            return null;
        });
        if (last[0]) {
            // no notice reaches a key nobody holds: a wait on a released future ends here, not never
            state.abandoned("released before it finished");
        }
        if (!pendingReleases.isEmpty() && flushScheduled.compareAndSet(false, true)) {
            // a short-lived thread gathers releases that arrive together (a Cleaner burst) into one message
            Thread.ofVirtual().name("dist-client-release").start(() -> {
                flushScheduled.set(false);
                flushReleases();
            });
        }
    }

    /** How many recipes this client keeps to send again to a scheduler that restarts. For tests and diagnostics. */
    int recipeCount() {
        return recipes.size();
    }

    /** Live keys and how many Futures hold each. For tests and diagnostics. */
    Map<String, Integer> refCounts() {
        Map<String, Integer> m = new HashMap<>();
        keys.forEach((k, s) -> m.put(k, s.refs));
        return m;
    }

    void onSchedulerMessage(Message message) {
        switch (message) {
            case Message.KeyInMemory m -> {
                KeyState s = keys.get(m.key());
                if (s != null) {
                    s.finished(m.whoHas(), m.nbytes(), m.value());
                    recipes.settle(m.key()); // the result exists: its recipe is not kept for it
                }
            }
            case Message.KeyErred m -> {
                KeyState s = keys.get(m.key());
                if (s != null) {
                    s.erred(m.exception(), m.summary(), m.causeKey());
                    recipes.settle(m.key());
                }
            }
            case Message.KeyCancelled m -> {
                KeyState s = keys.get(m.key());
                if (s != null) {
                    s.cancelled(m.reason());
                    recipes.settle(m.key());
                }
            }
            case Message.ErrorReply e -> refused(e.message());
            case Message.Batch b -> b.messages().forEach(this::onSchedulerMessage);
            case Message.ClassRequest r -> answerClassRequest(r);
            default -> {
                // other messages are not for clients; ignoring them keeps a newer scheduler compatible
            }
        }
    }

    /** Where this client finds the class files workers ask for. */
    ClassSource classSource() {
        return classes;
    }

    /** A worker lacks one of this client's classes: send its class file (read off the reader thread). */
    private void answerClassRequest(Message.ClassRequest r) {
        Thread.ofVirtual().name("dist-client-class").start(() -> {
            byte[] bytes = classes.bytes(r.className());
            try {
                scheduler.send(new Message.ClassBytes(id, r.className(), bytes));
            } catch (RuntimeException e) {
                // the connection ended: the scheduler answers the waiting workers itself
            }
        });
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
     * @throws IOException when the file cannot be read or a worker refused it (not a jar)
     */
    public void uploadJar(java.nio.file.Path jar) throws IOException, InterruptedException, TimeoutException {
        Objects.requireNonNull(jar, "jar");
        ensureOpen();
        byte[] bytes = java.nio.file.Files.readAllBytes(jar);
        Message reply;
        try {
            reply = ask(new Message.UploadJar(jar.getFileName().toString(), bytes), deadline(requestTimeout.multipliedBy(2)));
        } catch (ExecutionException e) {
            throw new IOException("uploading " + jar + " failed: " + e.getCause(), e.getCause());
        }
        if (!(reply instanceof Message.Ack)) {
            throw new IOException("uploading " + jar + " failed: " + (reply instanceof Message.ErrorReply er ? er.message() : reply));
        }
    }

    void onSchedulerClosed(Throwable cause) {
        onSchedulerClosed(scheduler, cause);
    }

    private void onSchedulerClosed(Transport which, Throwable cause) {
        if (closed.get() || shuttingDown || (which != null && which != scheduler)) {
            return; // closing: pending futures are cancelled, not failed
        }
        if (reconnectTimeout.isPositive()) {
            Thread.ofVirtual().name("dist-client-reconnect").start(() -> reconnect(which, cause));
            return;
        }
        failAll(cause);
    }

    private void failAll(Throwable cause) {
        String why = "the connection to the scheduler at " + address + " ended"
                + (cause == null ? "" : " (" + cause.getMessage() + ")") + "; connect a new client";
        lostReason = why;
        for (KeyState s : keys.values()) {
            s.lost(cause, why);
        }
        recipes.clear();
        published.clear();
    }

    /**
     * The scheduler went away: try again with back-off until it is back on the same address, then
     * register again and send the recipes of every key still held, so pending futures complete.
     * Past the reconnect timeout, pending futures fail. A link that ends while this runs (the new
     * scheduler went away too) is taken up here or right after.
     */
    private void reconnect(Transport lost, Throwable cause) {
        if (!reconnecting.compareAndSet(false, true)) {
            return;
        }
        try {
            Transport down = lost;
            Throwable why = cause;
            while (down != null && scheduler == down && !closed.get() && !shuttingDown && lostReason == null) {
                if (quicklyLostAgain(why)) {
                    return;
                }
                Transport t = relink(why);
                down = t != null && lastLost == t ? t : null; // lost again while re-sending: go on
                why = lastLostCause;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            reconnecting.set(false);
        }
        Transport now = scheduler;
        if (lastLost == now && !closed.get() && !shuttingDown && lostReason == null) {
            onSchedulerClosed(now, lastLostCause); // ended after the loop looked: not left unnoticed
        }
    }

    /**
     * A link made by a reconnect ended within seconds, again and again: the scheduler drops this
     * client each time it sends its tasks again (a message past its size limit?). Pending futures
     * fail instead of waiting through an endless loop.
     */
    private boolean quicklyLostAgain(Throwable cause) {
        long at = relinkedAt;
        if (at == 0 || System.nanoTime() - at > QUICK_LOSS_NANOS) {
            quickLosses = 0;
            return false;
        }
        if (++quickLosses < QUICK_LOSS_LIMIT) {
            return false;
        }
        failAll(new IOException("the scheduler at " + address + " dropped this client " + QUICK_LOSS_LIMIT
                + " times in a row within " + TimeUnit.NANOSECONDS.toSeconds(QUICK_LOSS_NANOS)
                + " s of its re-sending its tasks; the scheduler's log says why (a message past its "
                + "dist.comm.max-message-bytes?)" + (cause == null ? "" : "; last: " + cause.getMessage()), cause));
        return true;
    }

    /** Tries until a scheduler answers on the address and has been sent what this client holds; null when given up. */
    private Transport relink(Throwable cause) throws InterruptedException {
        long deadline = System.nanoTime() + reconnectTimeout.toNanos();
        long pause = 50;
        long maxPause = Config.getDuration("distributed.comm.reconnect-backoff-max").toMillis();
        while (!closed.get() && !shuttingDown) {
            if (System.nanoTime() - deadline > 0) {
                failAll(cause);
                return null;
            }
            try {
                Transport t = openScheduler();
                Message reply = t.request(new Message.RegisterClient(id), requestTimeout)
                        .get(requestTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
                if (!(reply instanceof Message.Ack)) {
                    t.close();
                    throw new IOException("the scheduler refused this client: " + reply);
                }
                Resend sent;
                sendLock.lock();
                try {
                    scheduler = t;
                    relinkedAt = System.nanoTime();
                    sent = resendHeld();
                } finally {
                    sendLock.unlock();
                }
                watchReturn(t, sent);
                return t;
            } catch (IOException | ExecutionException | TimeoutException | RuntimeException e) {
                // not back yet
            }
            Thread.sleep(pause);
            pause = Math.min(pause * 2, maxPause);
        }
        return null;
    }

    /**
     * Sends what every future still holds, and the keys of the datasets this client published, then
     * publishes those again (called with the send lock held). A kept recipe goes as it is, with the
     * recipes it needs; a key without one (scattered, a dataset's, or a result that existed) goes as
     * data only returning workers can have.
     */
    private Resend resendHeld() {
        pendingReleases.clear(); // the new scheduler never heard of them
        // nor of a cancel sent to the old one: no notice about it is coming any more
        new ArrayList<>(cancelFences.values()).forEach(f -> f.complete(null));
        Set<String> held = new LinkedHashSet<>();
        for (KeyState s : keys.values()) {
            if (s.isPending() || s.status().equals(KeyState.FINISHED)) {
                held.add(s.key);
                s.sent = true; // asked for below, before any later question
            }
        }
        Set<String> wanted = new LinkedHashSet<>(held);
        Map<String, Published> datasets = new LinkedHashMap<>(published);
        for (Published p : datasets.values()) {
            wanted.addAll(p.keys());
        }
        if (wanted.isEmpty()) {
            return new Resend(Set.of());
        }
        Recipes.Closure c = recipes.closure(wanted);
        List<TaskSpec> all = new ArrayList<>(c.withoutRecipe().size() + c.specs().size());
        for (String k : c.withoutRecipe()) {
            all.add(new TaskSpec(k, null, List.of(), nextPriority(0), null));
        }
        all.addAll(c.specs());
        // in slices, each wanting its own keys so the scheduler keeps inputs until their dependents come
        for (int from = 0; from < all.size(); from += UPDATE_SLICE) {
            List<TaskSpec> slice = List.copyOf(all.subList(from, Math.min(all.size(), from + UPDATE_SLICE)));
            scheduler.send(new Message.UpdateGraph(id, slice, slice.stream().map(TaskSpec::key).toList()));
        }
        for (Map.Entry<String, Published> e : datasets.entrySet()) {
            String name = e.getKey();
            scheduler.request(new Message.PublishDataset(name, e.getValue().keys(), e.getValue().shape(), false),
                    requestTimeout).whenComplete((m, x) -> {
                        if (x != null || !(m instanceof Message.Ack)) {
                            LOG.log(System.Logger.Level.INFO, "dataset '" + name + "' was not published again on the "
                                    + "scheduler at " + address + ": " + (x != null ? x.getMessage()
                                    : m instanceof Message.ErrorReply er ? er.message() : m));
                        }
                    });
        }
        // what no future here holds was wanted only to reach the scheduler in order: let it go
        List<String> notHeld = new ArrayList<>();
        for (TaskSpec t : all) {
            if (!held.contains(t.key())) {
                notHeld.add(t.key());
            }
        }
        if (!notHeld.isEmpty()) {
            scheduler.send(new Message.ReleaseKeys(id, notHeld));
        }
        return new Resend(c.withoutRecipe());
    }

    /**
     * Keys re-sent without a recipe exist only if a returning worker reports holding them. Returning
     * workers get {@code distributed.scheduler.unknown-key-grace} to do so (the time the scheduler
     * keeps what they report for a client to ask for); then a key no worker holds is lost for good:
     * its futures, and those of every pending key that needs it, fail saying why, and a dataset
     * that needs it is not published again.
     */
    private void watchReturn(Transport link, Resend sent) {
        if (sent.dataKeys().isEmpty()) {
            return;
        }
        Duration grace = Config.getDuration("distributed.scheduler.unknown-key-grace");
        Thread.ofVirtual().name("dist-client-return-check").start(() -> {
            try {
                Thread.sleep(grace.toMillis());
                if (closed.get() || scheduler != link) {
                    return; // another reconnect checks anew
                }
                List<String> asked = new ArrayList<>(sent.dataKeys());
                Map<String, List<String>> holders = whoHasKeys(asked, deadline(requestTimeout));
                if (scheduler != link) {
                    return;
                }
                List<String> gone = new ArrayList<>();
                for (String k : asked) {
                    List<String> h = holders.get(k);
                    if (h == null || h.isEmpty()) {
                        gone.add(k);
                    }
                }
                if (!gone.isEmpty()) {
                    dataLost(gone);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "checking which keys returned to the scheduler at " + address
                        + " failed: " + e);
            }
        });
    }

    /** {@code gone} keys have neither data nor a recipe: fail them and all that waits on them, saying why. */
    private void dataLost(List<String> gone) {
        Map<String, String> why = new LinkedHashMap<>();
        for (String k : gone) {
            KeyState s = keys.get(k);
            why.put(k, s != null && s.scattered
                    ? "data for key " + k + " was scattered and lost with its workers while the scheduler at "
                    + address + " was away; it has no recipe to recompute it (replicate scattered data to keep "
                    + "copies alive)"
                    : "the result of " + k + " was lost with its workers while the scheduler at " + address
                    + " was away, and no recipe of it is kept here (a client keeps a recipe only until its "
                    + "result exists); submit it again");
        }
        Set<String> waiting = recipes.dependentsOf(why.keySet());
        Map<String, String> inputOf = new LinkedHashMap<>();
        for (String k : waiting) {
            for (String in : recipes.closure(List.of(k)).withoutRecipe()) {
                if (why.containsKey(in)) {
                    inputOf.put(k, in);
                    break;
                }
            }
        }
        List<String> cancel = new ArrayList<>(why.keySet());
        cancel.addAll(waiting);
        // the scheduler forgets what waits for data that will never come
        cancelEverywhere(cancel, () -> {
            for (String k : cancel) {
                recipes.settle(k);
            }
            for (Map.Entry<String, String> e : why.entrySet()) {
                KeyState s = keys.get(e.getKey());
                if (s != null) {
                    s.dataLost(e.getValue());
                }
            }
            for (Map.Entry<String, String> e : inputOf.entrySet()) {
                KeyState s = keys.get(e.getKey());
                if (s != null) {
                    s.dataLost("task " + e.getKey() + " cannot run: it needs " + e.getValue() + ", which is gone: "
                            + why.get(e.getValue()));
                }
            }
            return cancel;
        });
        LOG.log(System.Logger.Level.WARNING, "after the scheduler at " + address + " returned, no worker holds "
                + why.keySet() + (waiting.isEmpty() ? "" : "; " + waiting.size() + " pending key(s) that need them fail too"));
        for (Map.Entry<String, Published> e : published.entrySet()) {
            for (String k : e.getValue().keys()) {
                if (why.containsKey(k) || waiting.contains(k)) {
                    unpublishLost(e.getKey(), e.getValue(), k);
                    break;
                }
            }
        }
    }

    /** A dataset this client published needs a key that is gone: it is not published any more (unless replaced). */
    private void unpublishLost(String name, Published p, String key) {
        published.remove(name, p);
        LOG.log(System.Logger.Level.WARNING, "dataset '" + name + "' is not published again: its key " + key
                + " is gone with its workers");
        try {
            if (ask(new Message.GetDataset(name), deadline(requestTimeout)) instanceof Message.DatasetReply d
                    && d.keys().equals(p.keys()) && java.util.Arrays.equals(d.shape(), p.shape())) {
                ask(new Message.UnpublishDataset(name), deadline(requestTimeout));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "unpublishing dataset '" + name + "' failed: " + e);
        }
    }

    /**
     * The scheduler refused a message this client sent one way (its reply names no request). Which
     * one is not said, so the scheduler is asked which of the keys this client sent and waits for it
     * knows: the others will never finish, and fail with the scheduler's reason. Runs off the reader
     * thread; refusals that come meanwhile are checked in the same pass.
     */
    private void refused(String reason) {
        LOG.log(System.Logger.Level.WARNING, "the scheduler at " + address + " refused a message from this client: "
                + reason);
        refusals.add(reason == null ? "(no reason given)" : reason);
        startAudit();
    }

    private void startAudit() {
        if (!auditing.compareAndSet(false, true)) {
            return;
        }
        Thread.ofVirtual().name("dist-client-refusal").start(() -> {
            try {
                while (!refusals.isEmpty() && !closed.get() && lostReason == null) {
                    List<String> reasons = new ArrayList<>();
                    for (String r; (r = refusals.poll()) != null; ) {
                        reasons.add(r);
                    }
                    auditKeys(String.join("; ", new LinkedHashSet<>(reasons)));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "could not check which keys the scheduler at " + address
                        + " knows after it refused a message: " + e);
            } finally {
                auditing.set(false);
                if (!refusals.isEmpty() && !closed.get() && lostReason == null) {
                    startAudit(); // came after the loop looked
                }
            }
        });
    }

    /** Fails the pending keys whose update went out and that the scheduler does not know. */
    private void auditKeys(String reason) throws InterruptedException, ExecutionException, TimeoutException {
        ensureOpen();
        Transport link;
        List<KeyState> suspects = new ArrayList<>();
        List<CompletableFuture<Message>> replies = new ArrayList<>();
        // under the send lock: every key marked sent had its update go before these questions
        sendLock.lock();
        try {
            link = scheduler;
            for (KeyState s : keys.values()) {
                if (s.sent && s.isPending()) {
                    suspects.add(s);
                }
            }
            for (int from = 0; from < suspects.size(); from += AUDIT_SLICE) {
                List<KeyState> part = suspects.subList(from, Math.min(suspects.size(), from + AUDIT_SLICE));
                replies.add(link.request(new Message.TaskStatusRequest(part.stream().map(s -> s.key).toList()),
                        requestTimeout));
            }
        } finally {
            sendLock.unlock();
        }
        int failed = 0;
        for (int i = 0; i < replies.size(); i++) {
            List<KeyState> part = suspects.subList(i * AUDIT_SLICE, Math.min(suspects.size(), (i + 1) * AUDIT_SLICE));
            Message m = replies.get(i).get(requestTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
            if (!(m instanceof Message.TaskStatusReply r)) {
                throw new ExecutionException(new IllegalStateException("the scheduler answered TaskStatusRequest with " + m));
            }
            if (scheduler != link) {
                return; // a new scheduler was sent everything again
            }
            for (KeyState s : part) {
                if (!r.states().containsKey(s.key) && keys.get(s.key) == s && s.isPending()) {
                    recipes.settle(s.key); // before the future ends: whoever waits on it sees it settled
                    if (s.refused("the scheduler at " + address + " refused the submission of " + s.key + ": " + reason)) {
                        failed++;
                    }
                }
            }
        }
        if (failed > 0) {
            LOG.log(System.Logger.Level.WARNING, failed + " future(s) the scheduler at " + address
                    + " does not know failed with its reason: " + reason);
        }
    }

    /**
     * Restarts the cluster: every future of every client is cancelled, the scheduler forgets every
     * task, and every worker is restarted through its nanny (workers without one just drop their
     * data). Returns once as many workers as before are registered again, or throws
     * TimeoutException past {@code distributed.client.restart-timeout}.
     *
     * <pre>{@code
     * client.restart();   // a clean cluster; old futures report cancelled
     * }</pre>
     */
    public void restart() throws InterruptedException, ExecutionException, TimeoutException {
        ensureOpen();
        long deadline = deadline(Config.getDuration("distributed.client.restart-timeout"));
        int before = workersInfo().size();
        for (KeyState s : keys.values()) {
            s.cancelled("the cluster was restarted");
        }
        keys.clear();
        recipes.clear();
        published.clear(); // the restart drops their data
        pendingReleases.clear();
        Message m = ask(new Message.RestartCluster(id), deadline);
        if (!(m instanceof Message.Ack)) {
            throw new ExecutionException(new IllegalStateException("the scheduler answered RestartCluster with " + m));
        }
        int now = 0;
        while (left(deadline) > 0) {
            now = workersInfo().size();
            if (now >= before) {
                return;
            }
            Thread.sleep(50);
        }
        throw new TimeoutException("after restart only " + now + " of " + before + " workers came back within "
                + Config.getDuration("distributed.client.restart-timeout").toMillis()
                + " ms (distributed.client.restart-timeout)");
    }

    // ------------------------------------------------------------------ results

    static long deadline(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        long now = System.nanoTime();
        long t = timeout.isNegative() ? 0 : saturatedNanos(timeout);
        long d = now + t;
        return d < now ? Long.MAX_VALUE : d;
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Nanoseconds left until {@code deadline} (-1: none). */
    private static long left(long deadline) {
        return deadline < 0 ? Long.MAX_VALUE : deadline - System.nanoTime();
    }

    void await(KeyState state, long deadline) throws InterruptedException, TimeoutException {
        if (SpinWait.until(() -> !state.isPending(), resultSpinNanos)) {
            return;
        }
        try (Secession s = Secession.begin()) {
            if (deadline < 0) {
                state.done.get();
            } else {
                state.done.get(Math.max(0, left(deadline)), TimeUnit.NANOSECONDS);
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("a key's completion signal failed", e);
        } catch (TimeoutException e) {
            throw new TimeoutException("key " + state.key + " is still " + state.status() + " after the timeout");
        }
    }

    <T> T resultOf(Future<T> future, long deadline) throws InterruptedException, ExecutionException, TimeoutException {
        checkUsable(future);
        KeyState s = future.state;
        try {
            await(s, deadline);
            raiseIfFailed(s);
            if (s.data() == null) {
                fetch(List.of(s), deadline);
            }
            return decodeResult(s);
        } finally {
            // the caller may hold no other reference: without this fence the future can be collected
            // while we wait, and its cleaner would release the very key we are waiting for
            java.lang.ref.Reference.reachabilityFence(future);
        }
    }

    private void checkUsable(Future<?> f) {
        if (f.isReleased()) {
            throw new IllegalStateException("future " + f.key() + " was released; its result is no longer kept");
        }
        if (f.client() != this) {
            throw new IllegalArgumentException("future " + f.key() + " belongs to another client");
        }
    }

    private void raiseIfFailed(KeyState s) throws ExecutionException {
        switch (s.status()) {
            case KeyState.CANCELLED -> throw cancellation(s);
            case KeyState.ERROR, KeyState.LOST -> throw new ExecutionException(
                    "task " + s.key + " failed: " + failureOf(s), failureOf(s));
            default -> {
            }
        }
    }

    CancellationException cancellation(KeyState s) {
        String reason = s.reason();
        return new CancellationException("key " + s.key + " was cancelled" + (reason == null || reason.isEmpty() ? "" : ": " + reason));
    }

    @SuppressWarnings("unchecked")
    private <T> T decodeResult(KeyState s) throws ExecutionException {
        Encoded encoded = s.data();
        if (encoded == null) {
            raiseIfFailed(s); // cancelled while fetching
            throw new ExecutionException(new IllegalStateException("the result of " + s.key + " is no longer held"));
        }
        try {
            return (T) codec.decode(encoded, loader);
        } catch (RuntimeException e) {
            throw new ExecutionException("the result of " + s.key + " did not decode: " + e.getMessage(), e);
        }
    }

    /**
     * The failure of an erred or lost key: the task's own exception when its bytes decode, a
     * {@link KilledWorkerException} or an IllegalStateException for failures the scheduler reports.
     */
    Throwable failureOf(KeyState s) {
        Throwable t = s.failure();
        if (t != null) {
            return t;
        }
        t = mapError(s.exceptionBytes(), s.summary(), s.key);
        s.failure(t);
        return t;
    }

    Throwable mapError(byte[] exceptionBytes, String summary, String key) {
        String text = summary == null ? "task " + key + " failed" : summary;
        if (exceptionBytes == null) {
            return text.startsWith("KilledWorker") ? new KilledWorkerException(text) : new IllegalStateException(text);
        }
        try {
            Object o = codec.decode(exceptionBytes, loader);
            if (o instanceof Throwable t) {
                return t;
            }
            return new IllegalStateException(text + " (the error decoded as a "
                    + (o == null ? "null" : o.getClass().getName()) + ", not an exception)");
        } catch (RuntimeException e) {
            return new IllegalStateException(text + " (its exception did not decode: " + e.getMessage() + ")", e);
        }
    }

    // ------------------------------------------------------------------ fetching from workers

    /**
     * Brings the data of finished keys to this process, one GetData per worker. A holder that fails or
     * lacks a key: the next holder is tried; when none is left the scheduler is asked again where the
     * keys are, a bounded number of times.
     */
    private void fetch(Collection<KeyState> states, long deadline)
            throws ExecutionException, InterruptedException, TimeoutException {
        Map<String, KeyState> remaining = new LinkedHashMap<>();
        Map<String, List<String>> holders = new HashMap<>();
        for (KeyState s : states) {
            if (s.data() == null && s.status().equals(KeyState.FINISHED)) {
                remaining.put(s.key, s);
                holders.put(s.key, s.whoHas());
            }
        }
        List<String> problems = new ArrayList<>();
        for (int round = 0; !remaining.isEmpty(); round++) {
            Set<String> badWorkers = new HashSet<>();
            Map<String, Set<String>> tried = new HashMap<>();
            while (!remaining.isEmpty()) {
                Map<String, List<String>> plan = new LinkedHashMap<>();
                for (String key : remaining.keySet()) {
                    for (String w : holders.getOrDefault(key, List.of())) {
                        if (!badWorkers.contains(w) && !tried.computeIfAbsent(key, x -> new HashSet<>()).contains(w)) {
                            plan.computeIfAbsent(w, x -> new ArrayList<>()).add(key);
                            break;
                        }
                    }
                }
                if (plan.isEmpty()) {
                    break;
                }
                Map<String, CompletableFuture<Message>> replies = new LinkedHashMap<>();
                for (Map.Entry<String, List<String>> e : plan.entrySet()) {
                    replies.put(e.getKey(), getData(e.getKey(), e.getValue(), deadline));
                }
                for (Map.Entry<String, CompletableFuture<Message>> e : replies.entrySet()) {
                    String worker = e.getKey();
                    for (String k : plan.get(worker)) {
                        tried.get(k).add(worker);
                    }
                    Message reply;
                    try {
                        reply = e.getValue().get(Math.max(0, left(deadline)), TimeUnit.NANOSECONDS);
                    } catch (TimeoutException t) {
                        if (left(deadline) <= 0) {
                            throw new TimeoutException("fetching " + plan.get(worker) + " from " + worker + " took past the timeout");
                        }
                        badWorkers.add(worker);
                        problems.add(worker + ": no answer");
                        continue;
                    } catch (ExecutionException x) {
                        badWorkers.add(worker);
                        dropWorker(worker);
                        problems.add(worker + ": " + x.getCause());
                        continue;
                    }
                    if (reply instanceof Message.DataReply d) {
                        for (Map.Entry<String, Encoded> kv : d.data().entrySet()) {
                            KeyState s = remaining.remove(kv.getKey());
                            if (s != null && kv.getValue() != null) {
                                s.data(kv.getValue());
                            }
                        }
                    } else {
                        badWorkers.add(worker);
                        problems.add(worker + ": " + reply);
                    }
                }
            }
            remaining.values().removeIf(s -> !s.status().equals(KeyState.FINISHED) || s.data() != null);
            if (remaining.isEmpty()) {
                return;
            }
            if (round + 1 >= FETCH_ROUNDS) {
                throw new ExecutionException(new IllegalStateException("could not fetch " + remaining.keySet()
                        + " from the workers that hold them after " + FETCH_ROUNDS + " rounds; last problems: "
                        + problems.subList(Math.max(0, problems.size() - 5), problems.size())));
            }
            long pause = Math.min(TimeUnit.MILLISECONDS.toNanos(50L << round), Math.max(0, left(deadline)));
            TimeUnit.NANOSECONDS.sleep(pause);
            if (left(deadline) <= 0) {
                throw new TimeoutException("fetching " + remaining.keySet() + " took past the timeout");
            }
            Map<String, List<String>> whoHas = whoHasKeys(new ArrayList<>(remaining.keySet()), deadline);
            for (String key : remaining.keySet()) {
                List<String> fresh = whoHas.get(key);
                // the scheduler may still be recomputing a lost key: keep the old holders until it says more
                holders.put(key, fresh == null || fresh.isEmpty() ? remaining.get(key).whoHas() : fresh);
            }
        }
    }

    private CompletableFuture<Message> getData(String worker, List<String> keysWanted, long deadline) {
        Duration timeout = Duration.ofNanos(Math.min(requestTimeout.toNanos(), Math.max(1, left(deadline))));
        return requestWorker(worker, new Message.GetData(keysWanted), timeout);
    }

    /** One connection per worker, opened on first use and reused. */
    private Transport workerTransport(String worker) throws IOException, InterruptedException {
        CompletableFuture<Transport> mine = new CompletableFuture<>();
        CompletableFuture<Transport> existing = workers.putIfAbsent(worker, mine);
        if (existing != null) {
            try {
                return existing.get();
            } catch (ExecutionException e) {
                throw new IOException("cannot reach worker " + worker + ": " + e.getCause().getMessage(), e.getCause());
            }
        }
        try {
            Transport t = workerConnector.connect(worker, new Transport.Inbox() {
                @Override
                public void onMessage(Message message) {
                }

                @Override
                public void onClose(Throwable cause) {
                    workers.remove(worker, mine);
                }
            });
            mine.complete(t);
            if (closed.get()) {
                t.close();
            }
            return t;
        } catch (IOException | RuntimeException e) {
            workers.remove(worker, mine);
            mine.completeExceptionally(e);
            throw e;
        }
    }

    private void dropWorker(String worker) {
        CompletableFuture<Transport> cf = workers.remove(worker);
        if (cf != null && cf.isDone() && !cf.isCompletedExceptionally()) {
            cf.join().close();
        }
    }

    Map<String, List<String>> whoHasKeys(List<String> keyList, long deadline)
            throws InterruptedException, TimeoutException, ExecutionException {
        Message m = ask(new Message.WhoHasRequest(keyList), deadline);
        if (m instanceof Message.WhoHasReply r) {
            return r.whoHas();
        }
        throw new ExecutionException(new IllegalStateException("the scheduler answered WhoHasRequest with " + m));
    }

    private Message ask(Message request, long deadline) throws InterruptedException, TimeoutException, ExecutionException {
        ensureOpen();
        long nanos = Math.min(requestTimeout.toNanos(), Math.max(1, left(deadline)));
        // a scheduler's answer often comes sooner than a parked thread wakes
        return SpinWait.get(scheduler.request(request, Duration.ofNanos(nanos)), resultSpinNanos,
                nanos + TimeUnit.SECONDS.toNanos(1));
    }

    // ------------------------------------------------------------------ gather

    /** The results of {@code futures}, in order. Keys held by one worker come in one request. */
    public <T> List<T> gather(List<? extends Future<? extends T>> futures) throws InterruptedException, ExecutionException {
        @SuppressWarnings("unchecked")
        List<T> out = (List<T>) gather((Object) futures);
        return out;
    }

    /** The results of {@code futures}, by the same keys. */
    public <K, T> Map<K, T> gather(Map<K, ? extends Future<? extends T>> futures)
            throws InterruptedException, ExecutionException {
        @SuppressWarnings("unchecked")
        Map<K, T> out = (Map<K, T>) gather((Object) futures);
        return out;
    }

    /**
     * {@code shape} with every Future inside replaced by its result: lists, sets and maps (values) are
     * walked and rebuilt in the same shape; anything else is kept as it is.
     *
     * <pre>{@code
     * Map<String, Object> r = (Map<String, Object>) client.gather(Map.of("a", fa, "bs", List.of(fb, fc)));
     * }</pre>
     */
    public Object gather(Object shape) throws InterruptedException, ExecutionException {
        try {
            return gather(shape, -1);
        } catch (TimeoutException e) {
            throw new IllegalStateException("no timeout was set, yet the wait timed out", e);
        }
    }

    /** {@link #gather(Object)} waiting at most {@code timeout} in all. */
    public Object gather(Object shape, Duration timeout) throws InterruptedException, ExecutionException, TimeoutException {
        return gather(shape, deadline(timeout));
    }

    private Object gather(Object shape, long deadline) throws InterruptedException, ExecutionException, TimeoutException {
        List<Future<?>> found = new ArrayList<>();
        Shapes.collect(shape, Future.class, found::add);
        Map<KeyState, Boolean> states = new IdentityHashMap<>();
        for (Future<?> f : found) {
            checkUsable(f);
            states.put(f.state, Boolean.TRUE);
        }
        awaitAllOrFirstFailure(states.keySet(), deadline);
        for (Future<?> f : found) {
            raiseIfFailed(f.state);
        }
        for (KeyState s : states.keySet()) {
            await(s, deadline); // all done here unless one failed, which raised above
        }
        fetch(states.keySet(), deadline);
        // decode per Future, not per key: two Futures of one key get separate objects, as two results would
        ExecutionException[] failure = {null};
        Object out = Shapes.rebuild(shape, Future.class, f -> {
            try {
                return decodeResult(f.state);
            } catch (ExecutionException e) {
                if (failure[0] == null) {
                    failure[0] = e;
                }
                return null;
            }
        });
        if (failure[0] != null) {
            throw failure[0];
        }
        return out;
    }

    /** Waits until every state is done, or any of them failed or was cancelled (no waiting on the rest then). */
    private void awaitAllOrFirstFailure(Collection<KeyState> states, long deadline)
            throws InterruptedException, TimeoutException {
        CompletableFuture<Void> signal = new CompletableFuture<>();
        // one counter, not allOf's tree of n-1 relay futures: a gather of many keys pays per key once
        AtomicInteger unfinished = new AtomicInteger(states.size());
        if (states.isEmpty()) {
            signal.complete(null);
        }
        for (KeyState s : states) {
            s.done.thenRun(() -> {
                if (!s.status().equals(KeyState.FINISHED) || unfinished.decrementAndGet() == 0) {
                    signal.complete(null);
                }
            });
        }
        try (Secession s = signal.isDone() ? null : Secession.begin()) {
            if (deadline < 0) {
                signal.get();
            } else {
                signal.get(Math.max(0, left(deadline)), TimeUnit.NANOSECONDS);
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("a key's completion signal failed", e);
        } catch (TimeoutException e) {
            long pending = states.stream().filter(KeyState::isPending).count();
            throw new TimeoutException(pending + " of " + states.size() + " keys still pending after the timeout");
        }
    }

    // ------------------------------------------------------------------ cancel, info, close

    /**
     * Cancels these futures' keys (one message): tasks not yet run never run, results already computed
     * are deleted, and every dependent is cancelled too. Returns how many were still pending or finished.
     */
    public int cancel(Collection<? extends Future<?>> futures) {
        List<KeyState> states = new ArrayList<>();
        for (Future<?> f : futures) {
            states.add(f.state);
        }
        return cancelStates(states, true);
    }

    int cancelStates(List<KeyState> states) {
        return cancelStates(states, false);
    }

    /** {@code finishedToo}: also cancel (delete) keys already computed, as dask's cancel does. */
    int cancelStates(List<KeyState> states, boolean finishedToo) {
        List<KeyState> candidates = new ArrayList<>();
        List<String> candidateKeys = new ArrayList<>();
        for (KeyState s : states) {
            if (finishedToo || s.isPending()) {
                candidates.add(s);
                candidateKeys.add(s.key);
            }
        }
        if (candidates.isEmpty()) {
            return 0;
        }
        List<String> cancelled = new ArrayList<>();
        cancelEverywhere(candidateKeys, () -> {
            for (KeyState s : candidates) {
                if (s.cancelled("cancelled by this client")) {
                    cancelled.add(s.key);
                    recipes.settle(s.key);
                }
            }
            return cancelled;
        });
        return cancelled.size();
    }

    /**
     * Ends keys here ({@code endHere} ends the states and returns the keys it ended) and cancels those on
     * the scheduler. Until every notice about that cancel has arrived, a new submission of these keys
     * waits: the fence is set before any state ends, so a submission that finds a state ended finds
     * the fence too.
     */
    private void cancelEverywhere(List<String> candidateKeys, java.util.function.Supplier<List<String>> endHere) {
        CompletableFuture<Void> fence = new CompletableFuture<>();
        for (String k : candidateKeys) {
            cancelFences.put(k, fence);
        }
        fence.whenComplete((v, e) -> {
            for (String k : candidateKeys) {
                cancelFences.remove(k, fence);
            }
        });
        // under the send lock: a submission that saw a state end is sent after the cancel
        sendLock.lock();
        try {
            List<String> ended = endHere.get();
            if (ended.isEmpty() || closed.get() || lostReason != null) {
                fence.complete(null);
                return;
            }
            sendOrdered(new Message.CancelKeys(id, ended, false));
            // a reply can overtake the notices the scheduler made in the same pass as it; a second
            // request, sent once the first is answered, is handled in a later pass, after they went out
            Transport link = scheduler;
            link.request(new Message.TaskStatusRequest(List.of()), requestTimeout)
                    .thenCompose(m -> link.request(new Message.TaskStatusRequest(List.of()), requestTimeout))
                    .whenComplete((m, e) -> fence.complete(null));
        } catch (RuntimeException e) {
            fence.complete(null); // the link just ended: the next scheduler never heard of these keys
            throw e;
        } finally {
            sendLock.unlock();
        }
    }

    /** Threads per worker: worker address to its number of threads. */
    public Map<String, Integer> ncores() throws InterruptedException, ExecutionException, TimeoutException {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (Message.WorkerInfo w : workersInfo()) {
            out.put(w.address(), w.nthreads());
        }
        return out;
    }

    /** The cluster's workers as the scheduler sees them. */
    public List<Message.WorkerInfo> workersInfo() throws InterruptedException, ExecutionException, TimeoutException {
        Message m = ask(new Message.WorkersRequest(), -1);
        if (m instanceof Message.WorkersReply r) {
            return r.workers();
        }
        throw new ExecutionException(new IllegalStateException("the scheduler answered WorkersRequest with " + m));
    }

    /** Which workers hold each of these futures' keys. */
    public Map<String, List<String>> whoHas(Collection<? extends Future<?>> futures)
            throws InterruptedException, ExecutionException, TimeoutException {
        List<String> ks = futures.stream().map(Future::key).distinct().toList();
        return whoHasKeys(ks, -1);
    }

    // ------------------------------------------------------------------ data placement (logic in DataOps)

    /**
     * Places {@code values} in the workers' memory and returns a finished Future per value, in order.
     * Values go round-robin grouped by cores: each worker, in the scheduler's order, takes as many
     * consecutive values as it has threads. Keys are a hash of the value ({@code Integer-3f1c...}).
     *
     * <pre>{@code
     * List<Future<Integer>> xs = client.scatter(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
     * Future<Integer> y = client.submit(Demo::inc, xs.get(0));   // runs where xs.get(0) lives
     * }</pre>
     */
    public <T> List<Future<T>> scatter(List<? extends T> values) throws InterruptedException, ExecutionException,
            TimeoutException {
        return scatter(values, List.of(), false);
    }

    /**
     * {@link #scatter(List)} onto the workers named in {@code workers} (address, host or name; empty
     * for all); with {@code broadcast} every value goes to every one of them.
     */
    public <T> List<Future<T>> scatter(List<? extends T> values, List<String> workers, boolean broadcast)
            throws InterruptedException, ExecutionException, TimeoutException {
        LinkedHashMap<String, Object> byKey = new LinkedHashMap<>();
        List<String> order = new ArrayList<>(values.size());
        for (Object v : values) {
            String key = Keys.pure(valuePrefix(v), encodeValue(v));
            byKey.put(key, v);
            order.add(key);
        }
        Map<String, Future<T>> placed = data.scatter(byKey, workers, broadcast);
        List<Future<T>> out = new ArrayList<>(order.size());
        Map<String, Boolean> first = new HashMap<>();
        for (String k : order) {
            // a value given twice shares its key; each position gets its own Future
            out.add(first.putIfAbsent(k, Boolean.TRUE) == null ? placed.get(k) : holdKey(k));
        }
        return out;
    }

    /** Scatters a map: its keys become the futures' keys. */
    public <T> Map<String, Future<T>> scatter(Map<String, ? extends T> values) throws InterruptedException,
            ExecutionException, TimeoutException {
        return scatter(values, List.of(), false);
    }

    /** {@link #scatter(Map)} onto {@code workers} (empty: all), or to each of them with {@code broadcast}. */
    public <T> Map<String, Future<T>> scatter(Map<String, ? extends T> values, List<String> workers, boolean broadcast)
            throws InterruptedException, ExecutionException, TimeoutException {
        LinkedHashMap<String, Object> byKey = new LinkedHashMap<>();
        for (Map.Entry<String, ? extends T> e : values.entrySet()) {
            if (e.getKey() == null || e.getKey().isBlank()) {
                throw new IllegalArgumentException("scatter keys must be non-empty strings; got " + e.getKey());
            }
            byKey.put(e.getKey(), e.getValue());
        }
        return data.scatter(byKey, workers, broadcast);
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
    public void replicate(Collection<? extends Future<?>> futures) throws InterruptedException, ExecutionException,
            TimeoutException {
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
    public void replicate(Collection<? extends Future<?>> futures, int n, List<String> workers, int branchingFactor)
            throws InterruptedException, ExecutionException, TimeoutException {
        data.replicate(keysOf(futures), n, workers, branchingFactor);
    }

    /** Moves data between all workers so each holds about the same number of bytes. */
    public void rebalance() throws InterruptedException, ExecutionException, TimeoutException {
        data.rebalance(List.of(), List.of());
    }

    /** Moves these futures' data (empty: all data) among {@code workers} (empty: all) to even out memory. */
    public void rebalance(Collection<? extends Future<?>> futures, List<String> workers)
            throws InterruptedException, ExecutionException, TimeoutException {
        data.rebalance(keysOf(futures), workers);
    }

    /** The keys each worker holds, by worker address. */
    public Map<String, List<String>> hasWhat() throws InterruptedException, ExecutionException, TimeoutException {
        return data.hasWhat(List.of());
    }

    /** The keys held by the named workers (address, host or name). */
    public Map<String, List<String>> hasWhat(List<String> workers) throws InterruptedException, ExecutionException,
            TimeoutException {
        return data.hasWhat(workers);
    }

    /** Threads of the named workers (address, host or name). */
    public Map<String, Integer> ncores(List<String> workers) throws InterruptedException, ExecutionException,
            TimeoutException {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (Message.WorkerInfo w : data.workers(workers)) {
            out.put(w.address(), w.nthreads());
        }
        return out;
    }

    /**
     * Stored size in bytes (the serialized size) of every key in the cluster's memory; with
     * {@code summary}, summed by key prefix ({@code {"inc": 84}}).
     */
    public Map<String, Long> nbytes(boolean summary) throws InterruptedException, ExecutionException,
            TimeoutException {
        Map<String, Long> m = data.nbytes(List.of());
        return summary ? DataOps.summarize(m) : m;
    }

    /** {@link #nbytes(boolean)} for these futures only. */
    public Map<String, Long> nbytes(Collection<? extends Future<?>> futures, boolean summary)
            throws InterruptedException, ExecutionException, TimeoutException {
        Map<String, Long> m = data.nbytes(keysOf(futures));
        return summary ? DataOps.summarize(m) : m;
    }

    /** Where the scheduler has this future's task, and for "no-worker" why it cannot run yet. */
    public TaskStatus taskStatus(Future<?> future) throws InterruptedException, ExecutionException,
            TimeoutException {
        return data.taskStatus(future.key());
    }

    /**
     * Calls {@code fn} on every worker now, outside the task system, and returns each result by worker
     * address. A call that throws fails the whole run with its exception.
     *
     * <pre>{@code
     * Map<String, Long> pids = client.run(() -> ProcessHandle.current().pid());
     * }</pre>
     */
    public <R> Map<String, R> run(Fn0<R> fn) throws InterruptedException, ExecutionException, TimeoutException {
        return data.run(Objects.requireNonNull(fn, "function"), List.of(), List.of());
    }

    /** {@link #run(Fn0)} on the named workers only (address, host or name). */
    public <R> Map<String, R> run(Fn0<R> fn, List<String> workers) throws InterruptedException, ExecutionException,
            TimeoutException {
        return data.run(Objects.requireNonNull(fn, "function"), List.of(), workers);
    }

    /**
     * Publishes futures under {@code name} so other clients can get them; the cluster keeps their data
     * while the dataset is published, even after this client leaves. {@code value} is a Future or lists,
     * sets and maps of them.
     *
     * <pre>{@code
     * client.publishDataset("squares", client.map(Demo::square, List.of(1, 2, 3)));
     * List<Future<Integer>> again = other.getDataset("squares");
     * }</pre>
     */
    public void publishDataset(String name, Object value) throws InterruptedException, ExecutionException,
            TimeoutException {
        data.publish(name, value, false);
    }

    /** {@link #publishDataset(String, Object)}; with {@code override} an existing dataset of that name is replaced. */
    public void publishDataset(String name, Object value, boolean override) throws InterruptedException,
            ExecutionException, TimeoutException {
        data.publish(name, value, override);
    }

    /** The published dataset {@code name}, with Futures of this client in place of the published ones. */
    @SuppressWarnings("unchecked")
    public <T> T getDataset(String name) throws InterruptedException, ExecutionException, TimeoutException {
        return (T) data.get(name);
    }

    /** Names of the published datasets, sorted. */
    public List<String> listDatasets() throws InterruptedException, ExecutionException, TimeoutException {
        return data.list();
    }

    /** Removes a published dataset; its data goes once no client holds its futures. */
    public void unpublishDataset(String name) throws InterruptedException, ExecutionException, TimeoutException {
        data.unpublish(name);
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
    public List<StoryEvent> story(String key) throws InterruptedException, ExecutionException, TimeoutException {
        return operability.story(key);
    }

    /** {@link #story(String)} of this future's task. */
    public List<StoryEvent> story(Future<?> future) throws InterruptedException, ExecutionException,
            TimeoutException {
        return operability.story(future.key());
    }

    /**
     * The address of the scheduler's dashboard ("http://host:port/status"), or empty when the scheduler
     * serves none.
     */
    public java.util.Optional<String> dashboardLink() throws InterruptedException, ExecutionException,
            TimeoutException {
        return operability.dashboardLink();
    }

    private static List<String> keysOf(Collection<? extends Future<?>> futures) {
        return futures.stream().map(Future::key).distinct().toList();
    }

    // hooks for DataOps

    /** Remembers a dataset this client published, to publish it again on a scheduler that restarts. */
    void published(String name, List<String> datasetKeys, byte[] shape) {
        published.put(name, new Published(List.copyOf(datasetKeys), shape));
    }

    /** This client unpublished {@code name}: not published again. */
    void unpublished(String name) {
        published.remove(name);
    }

    <T> Future<T> holdKey(String key) {
        ensureOpen();
        return new Future<>(this, reference(key, new boolean[1]));
    }

    void sendToScheduler(Message m) {
        sendToScheduler(m, List.of());
    }

    /** Sends {@code m}, an update that asks for the keys of {@code asked}, and marks them sent. */
    void sendToScheduler(Message m, java.util.Collection<? extends Future<?>> asked) {
        ensureOpen();
        List<KeyState> states = new ArrayList<>(asked.size());
        for (Future<?> f : asked) {
            states.add(f.state);
        }
        sendOrdered(m, states);
    }

    Message request(Message m) throws InterruptedException, ExecutionException, TimeoutException {
        return ask(m, -1);
    }

    CompletableFuture<Message> requestWorker(String worker, Message m) {
        return requestWorker(worker, m, requestTimeout);
    }

    /** A request to a worker, made on a virtual thread (connecting may block); never on the caller. */
    private CompletableFuture<Message> requestWorker(String worker, Message m, Duration timeout) {
        CompletableFuture<Message> out = new CompletableFuture<>();
        Thread.ofVirtual().name("dist-request-" + worker).start(() -> {
            try {
                workerTransport(worker).request(m, timeout).whenComplete((r, e) -> {
                    if (e != null) {
                        out.completeExceptionally(e);
                    } else {
                        out.complete(r);
                    }
                });
            } catch (Throwable e) {
                out.completeExceptionally(e);
            }
        });
        return out;
    }

    byte[] encodeValue(Object value) {
        return codec.encode(value, o -> o);
    }

    byte[] encodeValue(Object value, UnaryOperator<Object> replacer) {
        return codec.encode(value, replacer);
    }

    Encoded encodeParts(Object value) {
        return codec.encodeParts(value, o -> o);
    }

    Object decodeValue(byte[] bytes) {
        return codec.decode(bytes, loader);
    }

    Duration requestTimeout() {
        return requestTimeout;
    }

    /**
     * Stops the scheduler and every worker connected to it, then closes this client. Futures still
     * pending end as cancelled.
     */
    public void shutdown() {
        shuttingDown = true;
        if (!closed.get() && lostReason == null) {
            try {
                ask(new Message.ShutdownCluster(), deadline(Duration.ofSeconds(10)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                // the scheduler may close the connection before its answer arrives: it is stopping either way
            }
        }
        close();
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed.get();
    }

    /**
     * Releases every key this client holds, closes its connections, and cancels futures still
     * pending here. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List<String> held = new ArrayList<>();
        for (KeyState s : keys.values()) {
            held.add(s.key);
            if (s.isPending()) {
                s.cancelled("the client was closed");
            }
        }
        keys.clear();
        recipes.clear();
        published.clear();
        if (lostReason == null) {
            try {
                if (!held.isEmpty()) {
                    sendOrdered(new Message.ReleaseKeys(id, held));
                }
            } catch (RuntimeException e) {
                // the connection is gone already: the scheduler forgets the client's keys itself
            }
        }
        scheduler.close();
        for (CompletableFuture<Transport> cf : workers.values()) {
            cf.thenAccept(Transport::close);
        }
        workers.clear();
    }

    @Override
    public String toString() {
        return "Client[" + id + " -> " + address + (closed.get() ? ", closed" : "") + ", keys=" + keys.size() + "]";
    }
}
