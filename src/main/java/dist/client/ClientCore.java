package dist.client;

import dist.comm.Reconnect;

import dist.Future;
import dist.KilledWorkerException;
import dist.Options;
import dist.comm.SpinWait;
import dist.config.Config;
import dist.protocol.Invokable;
import dist.protocol.Message;
import dist.protocol.TaskCall;
import dist.protocol.TaskSpec;
import dist.serial.Encoded;
import dist.serial.Ref;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
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
 * The core of one client: the link and its reconnects, the key table (a
 * {@link KeyState} per key, counted by the Futures that hold it), sending in order, the recipes kept
 * for a scheduler that restarts, fetching results from workers and waiting for them. The public
 * {@code dist.Client} and the classes around it reach it through the narrow interfaces it implements:
 * {@link Tasks} (submitting), {@link Results} (waiting and fetching), {@link KeyRefs} (references to
 * keys), {@link SchedulerLink} (questions to the scheduler and workers), {@link Values} (the codec) and
 * {@link Datasets}. Internal: users hold a Client, never a core.
 *
 * <p>Thread-safe. Results are decoded with the class loader given here, that of the thread that
 * created the client, so the user's classes are found.
 */
public final class ClientCore implements Tasks, Results, KeyRefs, SchedulerLink, Values, Datasets {
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

    private final String id;
    private final String address;
    /** A result usually comes within a few hundred µs: polling that long beats waking from a park. */
    private final long resultSpinNanos = Config.getInt("distributed.client.result-spin-us") * 1000L;
    private final PayloadCodec codec;
    private final ClassLoader loader;
    private final WorkerLinks workers;
    /** Finished keys' data, from the workers that hold it. */
    private final ResultFetch fetcher;
    private final Duration requestTimeout;
    private final Transport.Connector connector;
    /** How long to keep trying to reach a lost scheduler; zero: fail pending futures at once. */
    private final Duration reconnectTimeout;
    private volatile Transport scheduler;
    /** Recipes of the keys this client holds, to send again to a scheduler that restarted. */
    private final Recipes recipes = new Recipes();
    private final AtomicBoolean reconnecting = new AtomicBoolean();
    /** Asked on each reconnect for messages to send first on the new link (locks register their holds again). */
    private final List<java.util.function.Supplier<List<Message>>> relinkListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The last scheduler link that ended and the cause: a loss during a reconnect is picked up after it. */
    private volatile Transport lastLost;
    private volatile Throwable lastLostCause;
    /** When the current link was made by a reconnect, and how many such links in a row ended soon after. */
    private volatile long relinkedAt;
    private int quickLosses;
    /** Datasets this client published, by name: published again to a scheduler that restarted. */
    private final ConcurrentHashMap<String, Published> published = new ConcurrentHashMap<>();
    /** Other parts of the client that read the scheduler's messages (topic events). */
    private final java.util.concurrent.CopyOnWriteArrayList<java.util.function.Consumer<Message>> listeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    /** What those parts send again to a scheduler that restarted (topic subscriptions). */
    private final java.util.concurrent.CopyOnWriteArrayList<java.util.function.Supplier<List<Message>>> resenders =
            new java.util.concurrent.CopyOnWriteArrayList<>();
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
    private final AtomicLong submissions = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** {@link #shutdown()} began: the scheduler closing the link is expected, not a loss. */
    private volatile boolean shuttingDown;
    private volatile String lostReason;

    /** Orders every send to the scheduler so a release never overtakes a later resubmission of its key. */
    private final ReentrantLock sendLock = new ReentrantLock();
    private final ConcurrentLinkedQueue<String> pendingReleases = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    /** Makes the Futures of the client this core serves; set by {@link #open}. */
    private volatile FutureAccess access;

    /**
     * A client core for the scheduler at {@code address}, not yet connected: {@link #open} connects.
     * {@code reconnectTimeout}: how long to keep trying to reach a lost scheduler (zero: fail pending
     * futures at once). {@code name}, when not null, goes in front of the client's id so
     * the scheduler's record of who submitted a task tells this client apart.
     */
    public ClientCore(String address, Transport.Connector connector, Transport.Connector workerConnector,
                   PayloadCodec codec, ClassLoader loader, Duration requestTimeout, Duration reconnectTimeout,
                   String name) {
        String unique = UUID.randomUUID().toString();
        // dask names clients Client-<uuid>; a given name leads instead
        this.id = name == null || name.isBlank() ? "client-" + unique : name.strip() + "-" + unique;
        this.address = address;
        this.connector = connector;
        this.reconnectTimeout = reconnectTimeout;
        this.workers = new WorkerLinks(workerConnector, closed::get);
        this.codec = codec;
        this.loader = loader;
        this.requestTimeout = requestTimeout;
        this.classes = new ClassSource(loader);
        this.fetcher = new ResultFetch(workers, requestTimeout, new ResultFetch.Scheduler() {
            @Override
            public Message ask(Message request, long deadline)
                    throws InterruptedException, TimeoutException, ExecutionException {
                return ClientCore.this.ask(request, deadline);
            }

            @Override
            public Map<String, List<String>> whoHasKeys(List<String> keys, long deadline)
                    throws InterruptedException, TimeoutException, ExecutionException {
                return ClientCore.this.whoHasKeys(keys, deadline);
            }
        });
    }

    /** Connects and registers with the scheduler; Futures are made through {@code futures}. */
    public void open(FutureAccess futures) throws IOException {
        this.access = Objects.requireNonNull(futures, "futures");
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

    @Override
    public String id() {
        return id;
    }

    /** The scheduler's address. */
    public String address() {
        return address;
    }

    // ------------------------------------------------------------------ submission

    /** Most tasks in one UpdateGraph message sent by {@code map}. */
    static final int UPDATE_SLICE = 4096;

    @Override
    public <R> List<Future<R>> submitMany(Options options, Invokable fn, List<List<Object>> calls) {
        Objects.requireNonNull(fn, "function");
        ensureOpen();
        if (options.allowsOtherWorkers() && options.workers().isEmpty()) {
            // dask: "Only use allow_other_workers= if using workers="
            throw new IllegalArgumentException("allowOtherWorkers(true) loosens a workers(...) restriction; "
                    + "name the preferred workers too");
        }
        if (options.key() != null && calls.size() != 1) {
            throw new IllegalArgumentException("an explicit key names one task, but map makes " + calls.size()
                    + "; leave the key out of the options for map");
        }
        if (!options.keys().isEmpty() && options.keys().size() != calls.size()) {
            throw new IllegalArgumentException(options.keys().size() + " keys for " + calls.size()
                    + " tasks: give one key per task, or a keyPrefix");
        }
        String prefix = options.key() != null ? null : options.keyPrefix() != null ? options.keyPrefix() : Keys.prefix(fn);
        classes.note(fn);
        // encode everything before touching the key table, so a bad argument leaves no half-made task
        List<TaskSpec> specs = new ArrayList<>(calls.size());
        Set<String> fnDeps = new LinkedHashSet<>(); // futures the function itself captured
        Object prepared = codec.prepareFunction(fn, futureReplacer(fnDeps));
        // loop bodies are methods of their own: one call and a map of thousands share their compiled
        // code (inlined here, the whole method was compiled three times over once a long map came)
        List<String> explicit = options.keys();
        for (int i = 0; i < calls.size(); i++) {
            specs.add(spec(options, fn, prepared, fnDeps, prefix, calls.get(i), explicit.isEmpty() ? null : explicit.get(i)));
        }
        List<Future<R>> futures = new ArrayList<>(specs.size());
        List<TaskSpec> fresh = new ArrayList<>();
        List<KeyState> freshStates = new ArrayList<>();
        boolean[] created = {false};
        for (TaskSpec spec : specs) {
            KeyState state = reference(spec.key(), created);
            futures.add(access.make(state));
            if (created[0]) {
                fresh.add(spec);
                freshStates.add(state);
            }
        }
        warnIfLarge(fresh);
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
                          List<Object> args, String explicitKey) {
        if (args.size() != fn.arity()) {
            throw new IllegalArgumentException("function takes " + fn.arity() + " argument(s), got " + args.size());
        }
        CallDeps deps = new CallDeps(fnDeps);
        byte[] run = encodeRun(prepared, fn, args, futureReplacer(deps));
        String key = explicitKey != null ? explicitKey : options.key() != null ? options.key()
                : options.isPure() ? Keys.pure(prefix, run) : Keys.unique(prefix);
        long priority = (-(long) options.priority() << PRIORITY_SHIFT) + submissions.getAndIncrement();
        return new TaskSpec(key, run, deps.toList(), priority, WireOptions.of(options));
    }

    /**
     * The keys one call refers to, in order; its set is made only when a future turns up (most calls of
     * a map have none, and a LinkedHashSet a call was 300 bytes of the client's allocation a task).
     */
    private static final class CallDeps extends java.util.AbstractSet<String> {
        private LinkedHashSet<String> keys;

        CallDeps(Set<String> initial) {
            if (!initial.isEmpty()) {
                keys = new LinkedHashSet<>(initial);
            }
        }

        @Override
        public boolean add(String key) {
            if (keys == null) {
                keys = new LinkedHashSet<>();
            }
            return keys.add(key);
        }

        @Override
        public java.util.Iterator<String> iterator() {
            return keys == null ? java.util.Collections.emptyIterator() : keys.iterator();
        }

        @Override
        public int size() {
            return keys == null ? 0 : keys.size();
        }

        List<String> toList() {
            return keys == null ? List.of() : List.copyOf(keys);
        }
    }

    /** Past this many bytes of encoded calls in one submission the client warns, as dask does (10 MB). */
    static final long LARGE_GRAPH_BYTES = 10_000_000;

    /**
     * Warns when one submission carries large arguments: every call holds its own copy, and the
     * scheduler keeps them while the tasks wait. Scattering the value once is cheaper.
     */
    private static void warnIfLarge(List<TaskSpec> specs) {
        long size = 0;
        for (TaskSpec t : specs) {
            byte[] run = t.run();
            size += run == null ? 0 : run.length;
        }
        if (size > LARGE_GRAPH_BYTES) {
            LOG.log(System.Logger.Level.WARNING, String.format(java.util.Locale.ROOT,
                    "Sending large graph of size %.2f MiB. This may cause some slowdown; scatter large values "
                            + "first and pass their futures instead.", size / (1024.0 * 1024.0)));
        }
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

    @Override
    public byte[] encodeCall(TaskCall call, UnaryOperator<Object> replacer) {
        classes.note(call.function());
        return encodeRun(codec.prepareFunction(call.function(), replacer), call.function(), call.args(), replacer);
    }

    /** A Future argument this client cannot use, refused while the call is encoded. */
    private static final class RefusedFuture extends IllegalArgumentException {
        RefusedFuture(String message) {
            super(message);
        }
    }

    /** Encodes a call; a refused Future argument is thrown as itself, not as a value that failed to encode. */
    private byte[] encodeRun(Object prepared, Invokable fn, List<Object> args, UnaryOperator<Object> replacer) {
        try {
            return codec.encodeRun(prepared, fn, args, replacer);
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof RefusedFuture r) {
                    throw r;
                }
            }
            throw e;
        }
    }

    @Override
    public long nextPriority(int userPriority) {
        return (-(long) userPriority << PRIORITY_SHIFT) + submissions.getAndIncrement();
    }

    @Override
    public <R> List<Future<R>> submitSpecs(List<TaskSpec> specs, List<String> wanted) {
        ensureOpen();
        List<Future<R>> futures = new ArrayList<>(wanted.size());
        List<KeyState> states = new ArrayList<>(wanted.size());
        List<String> live = new ArrayList<>(wanted.size());
        boolean[] created = {false};
        for (String key : wanted) {
            KeyState state = reference(key, created);
            futures.add(access.make(state));
            states.add(state);
            if (state.isPending()) {
                live.add(key);
            }
        }
        warnIfLarge(specs);
        // the whole graph is kept, intermediates too, while a pending output needs it: a scheduler
        // that restarts gets it again
        recipes.add(specs, live);
        cancelIfClosed(states);
        sendOrdered(new Message.UpdateGraph(id, specs, List.copyOf(new LinkedHashSet<>(wanted))), states);
        settleFinished(states);
        return futures;
    }

    /**
     * A Future of {@code future}'s key that runs the task again if it erred, with the erred tasks it
     * depends on; {@code future} keeps its error, as a done Java future does. A key that did not err
     * gives a Future over its present state.
     */
    public <R> Future<R> retry(Future<R> future) {
        ensureOpen();
        if (!access.isOurs(future)) {
            throw new IllegalArgumentException("future " + future.key() + " belongs to another client; "
                    + "retry it through the client that made it");
        }
        if (future.isReleased()) {
            throw new IllegalArgumentException("future " + future.key() + " was released and can no longer be used");
        }
        KeyState old = access.state(future);
        if (old.status().equals(KeyState.ERROR)) {
            old.retire();
        }
        boolean[] created = {false};
        KeyState state = reference(future.key(), created);
        Future<R> out = access.make(state);
        if (created[0]) {
            List<String> key = List.of(future.key());
            sendOrdered(new Message.RetryKeys(id, key));
            sendOrdered(new Message.UpdateGraph(id, List.of(), key), List.of(state));
        }
        return out;
    }

    @Override
    public UnaryOperator<Object> futureReplacer(Set<String> deps) {
        return o -> {
            if (!(o instanceof Future<?> f)) {
                return o;
            }
            if (!access.isOurs(f)) {
                throw new RefusedFuture("future " + f.key() + " belongs to another client; "
                        + "pass futures only to the client that made them");
            }
            if (f.isReleased()) {
                throw new RefusedFuture("future " + f.key() + " was released and can no longer be used");
            }
            if (f.isCancelled()) {
                throw new RefusedFuture("future " + f.key() + " was cancelled; its value will never exist");
            }
            if (access.state(f).local) {
                return localValue(f); // an actor call's result: the scheduler has no key for it
            }
            deps.add(f.key());
            return new Ref(f.key());
        };
    }

    /** The value of a Future only this client holds (an actor call's), waited for within the request timeout. */
    private Object localValue(Future<?> f) {
        try {
            return resultOf(f, Results.deadline(requestTimeout));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RefusedFuture("interrupted while waiting for " + f.key() + ", an argument of the task");
        } catch (ExecutionException | TimeoutException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            throw new RefusedFuture("argument " + f.key() + " has no value to pass: " + c);
        }
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new dist.SchedulerUnavailableException(address, "this client is closed; connect a new one", null);
        }
        String lost = lostReason;
        if (lost != null) {
            throw new dist.SchedulerUnavailableException(address, lost, null);
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
    @Override
    public void flushReleases() {
        sendOrdered(null);
    }

    @Override
    public void releaseRef(KeyState state) {
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
    public int recipeCount() {
        return recipes.size();
    }

    /** The class loader results and recipes are decoded with here. */
    public ClassLoader loader() {
        return loader;
    }

    /** How many keys the table holds. */
    public int keyCount() {
        return keys.size();
    }

    /** Live keys and how many Futures hold each. For tests and diagnostics. */
    public Map<String, Integer> refCounts() {
        Map<String, Integer> m = new HashMap<>();
        keys.forEach((k, s) -> m.put(k, s.refs));
        return m;
    }

    @Override
    public void known(Message report) {
        if (report instanceof Message.KeyInMemory || report instanceof Message.KeyErred) {
            onSchedulerMessage(report);
        }
    }

    void onSchedulerMessage(Message message) {
        switch (message) {
            case Message.KeyInMemory m -> {
                KeyState s = keys.get(m.key());
                if (s != null) {
                    s.finished(m.whoHas(), m.nbytes(), m.value());
                    // the result exists: its recipe is not kept for it. By the key's own instance, which
                    // the recipes hold too: the lookup matches by identity, the decoded copy is not compared
                    recipes.settle(s.key);
                }
            }
            case Message.KeyErred m -> {
                KeyState s = keys.get(m.key());
                if (s != null) {
                    s.erred(m.exception(), m.summary(), m.causeKey());
                    recipes.settle(s.key);
                }
            }
            case Message.KeyCancelled m -> {
                KeyState s = keys.get(m.key());
                if (s != null) {
                    CompletableFuture<Void> fence = cancelFences.isEmpty() ? null : cancelFences.get(m.key());
                    if (fence != null && !fence.isDone()) {
                        // the answer to a cancel of ours, which ended the key here first: a key it ended
                        // as lost (scattered data gone with its workers) stays lost, not cancelled
                        s.cancelled(m.reason());
                    } else {
                        s.cancelledFromAnyState(m.reason()); // dask cancels an erred future too
                    }
                    recipes.settle(s.key);
                }
            }
            case Message.ErrorReply e -> refused(e.message());
            case Message.Batch b -> b.messages().forEach(this::onSchedulerMessage);
            case Message.ClassRequest r -> answerClassRequest(r);
            case Message.Logged l -> {
                java.util.logging.Logger.getLogger(l.logger() == null ? "" : l.logger())
                        .log(java.util.logging.Level.parse(Integer.toString(l.level())), l.text());
            }
            case Message.Printed p -> {
                java.io.PrintStream out = p.stderr() ? System.err : System.out;
                out.print(p.text());
                out.flush();
            }
            default -> {
                listeners.forEach(l -> l.accept(message));
                // other messages are not for clients; ignoring them keeps a newer scheduler compatible
            }
        }
    }

    /** Where this client finds the class files workers ask for. */
    public ClassSource classSource() {
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

    /** Sends a jar to the workers for this client's tasks; see {@code Client.uploadJar}. */
    public void uploadJar(Path jar) throws IOException, InterruptedException, ExecutionException, TimeoutException {
        Objects.requireNonNull(jar, "jar");
        ensureOpen();
        byte[] bytes = Files.readAllBytes(jar);
        Message reply;
        try {
            reply = ask(new Message.UploadJar(jar.getFileName().toString(), bytes), Results.deadline(requestTimeout.multipliedBy(2)));
        } catch (ExecutionException e) {
            throw new ExecutionException("uploading " + jar + " failed: " + e.getCause(), e.getCause());
        }
        if (!(reply instanceof Message.Ack)) {
            String why = "uploading " + jar + " failed: " + (reply instanceof Message.ErrorReply er ? er.message() : reply);
            throw new ExecutionException(why, new IllegalStateException(why));
        }
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
        java.util.concurrent.atomic.AtomicReference<Transport> made = new java.util.concurrent.atomic.AtomicReference<>();
        Reconnect again = new Reconnect("dist-client-reconnect", Reconnect.Policy.fromConfig(reconnectTimeout),
                () -> closed.get() || shuttingDown, timeout -> made.set(relinkOnce()));
        Reconnect.Outcome outcome;
        try {
            // the run ends by its own deadline (the reconnect timeout); this bound only guards against a bug
            outcome = again.start().get(reconnectTimeout.toMillis() + requestTimeout.toMillis() + 10_000,
                    TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            outcome = Reconnect.Outcome.TIMED_OUT;
        }
        if (outcome == Reconnect.Outcome.TIMED_OUT) {
            failAll(cause);
            return null;
        }
        return outcome == Reconnect.Outcome.CONNECTED ? made.get() : null;
    }

    /** One attempt: link, register, then send what this client holds; throws when the scheduler is not back. */
    private Transport relinkOnce() throws IOException, InterruptedException, ExecutionException, TimeoutException {
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
            // on t before it is published: a request racing this reconnect (a lock probe) must find
            // the holds registered again, and requests read the scheduler field without this lock
            for (java.util.function.Supplier<List<Message>> first : relinkListeners) {
                first.get().forEach(t::send);
            }
            scheduler = t;
            relinkedAt = System.nanoTime();
            sent = resendHeld();
            for (java.util.function.Supplier<List<Message>> r : resenders) {
                r.get().forEach(t::send);
            }
        } finally {
            sendLock.unlock();
        }
        watchReturn(t, sent);
        for (Runnable hook : relinkHooks) {
            Thread.ofVirtual().name("dist-client-relink").start(hook);
        }
        return t;
    }

    /** Run after a reconnect has sent what futures hold, each on a thread of its own: actors register again. */
    private final List<Runnable> relinkHooks = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Runs {@code hook} after every reconnect to a scheduler that came back. */
    public void onRelink(Runnable hook) {
        relinkHooks.add(hook);
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
                Map<String, List<String>> holders = whoHasKeys(asked, Results.deadline(requestTimeout));
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
            if (ask(new Message.GetDataset(name), Results.deadline(requestTimeout)) instanceof Message.DatasetReply d
                    && d.keys().equals(p.keys()) && java.util.Arrays.equals(d.shape(), p.shape())) {
                ask(new Message.UnpublishDataset(name), Results.deadline(requestTimeout));
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
     * Restarts the cluster and returns once as many workers as before are back; see
     * {@code Client.restart}. Every key here ends cancelled.
     */
    public void restart() throws InterruptedException, ExecutionException, TimeoutException {
        restart(true);
    }

    /**
     * Restarts the cluster; returns once the scheduler has, and, when {@code waitForWorkers}, once
     * as many workers as before are back. Every key here ends cancelled.
     */
    public void restart(boolean waitForWorkers) throws InterruptedException, ExecutionException, TimeoutException {
        ensureOpen();
        long deadline = Results.deadline(Config.getDuration("distributed.client.restart-timeout"));
        int before = workersInfo().size();
        for (KeyState s : keys.values()) {
            s.cancelledFromAnyState("the cluster was restarted");
        }
        keys.clear();
        recipes.clear();
        published.clear(); // the restart drops their data
        pendingReleases.clear();
        Message m;
        try {
            m = ask(new Message.RestartCluster(id), deadline);
        } catch (ExecutionException e) {
            // the restart's own bound ran out while the scheduler was answering: the documented TimeoutException
            if (e.getCause() instanceof TimeoutException) {
                throw new TimeoutException("the scheduler did not confirm the restart within "
                        + Config.getDuration("distributed.client.restart-timeout").toMillis()
                        + " ms (distributed.client.restart-timeout)");
            }
            throw e;
        }
        if (!(m instanceof Message.Ack)) {
            throw new ExecutionException(new IllegalStateException("the scheduler answered RestartCluster with " + m));
        }
        if (!waitForWorkers) {
            return;
        }
        int now = 0;
        while (Results.left(deadline) > 0) {
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

    @Override
    public void await(KeyState state, long deadline) throws InterruptedException, TimeoutException {
        if (SpinWait.until(() -> !state.isPending(), resultSpinNanos)) {
            return;
        }
        try (Secession s = Secession.begin()) {
            if (deadline < 0) {
                state.done.get();
            } else {
                state.done.get(Math.max(0, Results.left(deadline)), TimeUnit.NANOSECONDS);
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("a key's completion signal failed", e);
        } catch (TimeoutException e) {
            throw new TimeoutException("key " + state.key + " is still " + state.status() + " after the timeout");
        }
    }

    @Override
    public void await(Future<?> future, long deadline) throws InterruptedException, TimeoutException {
        await(access.state(future), deadline);
    }

    @Override
    public <T> T resultOf(Future<T> future, long deadline) throws InterruptedException, ExecutionException,
            TimeoutException {
        checkUsable(future);
        KeyState s = access.state(future);
        try {
            await(s, deadline);
            raiseIfFailed(s);
            if (s.data() == null) {
                fetcher.fetch(List.of(s), deadline);
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
        if (!access.isOurs(f)) {
            throw new IllegalArgumentException("future " + f.key() + " belongs to another client");
        }
    }

    private void raiseIfFailed(KeyState s) throws ExecutionException {
        switch (s.status()) {
            case KeyState.CANCELLED -> throw cancellation(s);
            case KeyState.ERROR, KeyState.LOST -> throw new KeyFailure(s.key, lostWithScheduler(s),
                    "task " + s.key + " failed: " + failureOf(s), failureOf(s));
            default -> {
            }
        }
    }

    /** Lost because the scheduler connection ended for good, not because its data went with its workers. */
    private boolean lostWithScheduler(KeyState s) {
        String gone = lostReason;
        return s.status().equals(KeyState.LOST) && gone != null && gone.equals(s.reason());
    }

    @Override
    public CancellationException cancellation(KeyState s) {
        String reason = s.reason();
        return new KeyCancellation(s.key, "key " + s.key + " was cancelled" + (reason == null || reason.isEmpty() ? "" : ": " + reason));
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
     * {@link KilledWorkerException}, a {@link dist.NoValidWorkerException} or an IllegalStateException for
     * failures the scheduler reports.
     */
    @Override
    public Throwable failureOf(KeyState s) {
        Throwable t = s.failure();
        if (t != null) {
            return t;
        }
        t = mapError(s.exceptionBytes(), s.summary(), s.key);
        s.failure(t);
        return t;
    }

    @Override
    public Throwable mapError(byte[] exceptionBytes, String summary, String key) {
        String text = summary == null ? "task " + key + " failed" : summary;
        if (exceptionBytes == null) {
            if (text.startsWith("KilledWorker")) {
                return new KilledWorkerException(text);
            }
            if (text.startsWith("NoValidWorkerError") || text.startsWith("NoWorkerError")) {
                return new dist.NoValidWorkerException(text);
            }
            return new IllegalStateException(text);
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

    @Override
    public Map<String, List<String>> whoHasKeys(List<String> keyList, long deadline)
            throws InterruptedException, TimeoutException, ExecutionException {
        Message m = ask(new Message.WhoHasRequest(keyList), deadline);
        if (m instanceof Message.WhoHasReply r) {
            return r.whoHas();
        }
        throw new ExecutionException(new IllegalStateException("the scheduler answered WhoHasRequest with " + m));
    }

    /**
     * Asks the scheduler {@code request} and waits up to {@code timeout} for the answer, beyond the
     * request timeout: for calls the scheduler answers only once workers did something (plugins' setup).
     */
    public Message askScheduler(Message request, Duration timeout)
            throws InterruptedException, TimeoutException, ExecutionException {
        ensureOpen();
        return scheduler.request(request, timeout).get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    }

    private Message ask(Message request, long deadline) throws InterruptedException, TimeoutException, ExecutionException {
        ensureOpen();
        long nanos = Math.min(requestTimeout.toNanos(), Math.max(1, Results.left(deadline)));
        // a scheduler's answer often comes sooner than a parked thread wakes
        return SpinWait.get(scheduler.request(request, Duration.ofNanos(nanos)), resultSpinNanos,
                nanos + TimeUnit.SECONDS.toNanos(1));
    }

    // ------------------------------------------------------------------ gather

    @Override
    public Object gather(Object shape, long deadline) throws InterruptedException, ExecutionException,
            TimeoutException {
        List<Future<?>> found = new ArrayList<>();
        Shapes.collect(shape, Future.class, found::add);
        Map<KeyState, Boolean> states = new IdentityHashMap<>();
        for (Future<?> f : found) {
            checkUsable(f);
            states.put(access.state(f), Boolean.TRUE);
        }
        awaitAllOrFirstFailure(states.keySet(), deadline);
        for (Future<?> f : found) {
            raiseIfFailed(access.state(f));
        }
        for (KeyState s : states.keySet()) {
            await(s, deadline); // all done here unless one failed, which raised above
        }
        fetcher.fetch(states.keySet(), deadline);
        // decode per Future, not per key: two Futures of one key get separate objects, as two results would
        ExecutionException[] failure = {null};
        Object out = Shapes.rebuild(shape, Future.class, f -> {
            try {
                return decodeResult(access.state(f));
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
                signal.get(Math.max(0, Results.left(deadline)), TimeUnit.NANOSECONDS);
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("a key's completion signal failed", e);
        } catch (TimeoutException e) {
            long pending = states.stream().filter(KeyState::isPending).count();
            throw new TimeoutException(pending + " of " + states.size() + " keys still pending after the timeout");
        }
    }

    // ------------------------------------------------------------------ cancel, info, close

    @Override
    public int cancelStates(List<KeyState> states, boolean finishedToo) {
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
                String why = "cancelled by this client";
                if (finishedToo ? s.cancelledFromAnyState(why) : s.cancelled(why)) {
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
    /**
     * Waits, at most the request timeout, until the scheduler handled this client's cancels of
     * {@code states} and its notices for the dependents it cancelled with them arrived, as dask's
     * awaited cancel. An interrupt ends the wait early and stays set.
     */
    public void awaitCancels(List<KeyState> states) {
        long deadline = System.nanoTime() + requestTimeout.toNanos();
        for (KeyState s : states) {
            CompletableFuture<Void> fence = cancelFences.get(s.key);
            if (fence == null) {
                continue;
            }
            try {
                fence.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException | TimeoutException e) {
                return; // the fence only ends normally; past the bound the caller goes on
            }
        }
    }

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

    @Override
    public List<Message.WorkerInfo> workersInfo() throws InterruptedException, ExecutionException, TimeoutException {
        Message m = ask(new Message.WorkersRequest(), -1);
        if (m instanceof Message.WorkersReply r) {
            return r.workers();
        }
        throw new ExecutionException(new IllegalStateException("the scheduler answered WorkersRequest with " + m));
    }

    /** {@code listener} reads every scheduler message the core itself does not handle, on the reader thread: it must not block. */
    public void listen(java.util.function.Consumer<Message> listener) {
        listeners.add(listener);
    }

    /** After a reconnect, the messages {@code resend} gives are sent to the scheduler that came back. */
    public void resendOnReconnect(java.util.function.Supplier<List<Message>> resend) {
        resenders.add(resend);
    }

    // ------------------------------------------------------------------ hooks for DataOps

    @Override
    public void published(String name, List<String> datasetKeys, byte[] shape) {
        published.put(name, new Published(List.copyOf(datasetKeys), shape));
    }

    @Override
    public void unpublished(String name) {
        published.remove(name);
    }

    @Override
    public <T> Future<T> holdKey(String key) {
        ensureOpen();
        boolean[] created = new boolean[1];
        KeyState state = reference(key, created);
        if (created[0]) {
            // held again before the release of an earlier Future of it went out: the scheduler must
            // not get that release after handing the key over
            pendingReleases.remove(key);
        }
        return access.make(state);
    }

    @Override
    public void awaitSent(Collection<String> wanted) {
        long deadline = System.nanoTime() + requestTimeout.toNanos();
        for (String k : wanted) {
            KeyState s = keys.get(k);
            while (s != null && !s.sent && !s.local) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("the submission of " + k + " was not sent within "
                            + requestTimeout.toMillis() + " ms (dist.comm.request-timeout)");
                }
                java.util.concurrent.locks.LockSupport.parkNanos(20_000); // the thread that made it sends it next
                s = keys.get(k);
            }
        }
        // a key is marked sent inside the send lock just before its update is written: once the lock
        // is free again, that update went out ahead of whatever this thread sends next
        sendLock.lock();
        sendLock.unlock();
    }

    @Override
    public void scattered(Future<?> future) {
        access.state(future).scattered = true;
    }

    @Override
    public void sendToScheduler(Message m, Collection<? extends Future<?>> asked) {
        ensureOpen();
        List<KeyState> states = new ArrayList<>(asked.size());
        for (Future<?> f : asked) {
            states.add(access.state(f));
        }
        sendOrdered(m, states);
    }

    @Override
    public Message request(Message m) throws InterruptedException, ExecutionException, TimeoutException {
        return ask(m, -1);
    }

    @Override
    public CompletableFuture<Message> requestWorker(String worker, Message m) {
        return workers.request(worker, m, requestTimeout);
    }

    @Override
    public byte[] encodeValue(Object value) {
        return codec.encode(value, o -> o);
    }

    @Override
    public byte[] encodeValue(Object value, UnaryOperator<Object> replacer) {
        return codec.encode(value, replacer);
    }

    @Override
    public Encoded encodeParts(Object value) {
        return codec.encodeParts(value, o -> o);
    }

    @Override
    public Object decodeValue(byte[] bytes) {
        return codec.decode(bytes, loader);
    }

    @Override
    public Duration requestTimeout() {
        return requestTimeout;
    }

    /** Stops the scheduler and every worker connected to it, then closes; see {@code Client.shutdown}. */
    public void shutdown() {
        shuttingDown = true;
        if (!closed.get() && lostReason == null) {
            try {
                ask(new Message.ShutdownCluster(), Results.deadline(Duration.ofSeconds(10)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                // the scheduler may close the connection before its answer arrives: it is stopping either way
            }
        }
        close();
    }

    /** Why the connection to the scheduler is gone for good (past the reconnect window), or null. */
    public String lostReason() {
        return lostReason;
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed.get();
    }

    /**
     * Releases every key this client holds, closes its connections, and cancels futures still
     * pending here. Idempotent.
     */
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
        workers.closeAll();
    }

    /**
     * On every reconnect, sends what {@code messages} gives (one way) before anything else on the new
     * link, so every later request of this client finds them applied.
     */
    public void onRelink(java.util.function.Supplier<List<Message>> messages) {
        relinkListeners.add(messages);
    }

    @Override
    public String toString() {
        return "ClientCore[" + id + " -> " + address + (closed.get() ? ", closed" : "") + ", keys=" + keys.size() + "]";
    }
}
