package dist;

import dist.client.Callbacks;
import dist.client.FutureAccess;
import dist.client.KeyRefs;
import dist.client.KeyState;
import dist.client.Results;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A task's result that lives on the cluster. Pass it to further submissions (the worker resolves it,
 * nothing travels through the client) or ask for the value with {@link #result()}.
 *
 * <pre>{@code
 * Future<Integer> x = client.submit(Demo::inc, 10);
 * Future<Integer> y = client.submit(Demo::inc, x);
 * System.out.println(y.key() + " " + y.state());    // inc-3f1c... RUNNING
 * int v = y.result(Duration.ofSeconds(30));          // 12
 * y.release();                                       // the cluster may forget it now
 * }</pre>
 *
 * <p>The cluster keeps a key's data while any Future for it exists in the client: the key is
 * released when its last Future is {@linkplain #release() released}, garbage-collected, or its client
 * closes. Several Futures may share a key (the same pure call submitted twice); they share its state.
 *
 * <p>{@link #result()} is the unchecked counterpart of {@link #get()}, as
 * {@link CompletableFuture#join()} is: it throws {@link TaskFailedException} whose cause is the task's
 * own exception (its class when loadable here, else {@code dist.serial.RemoteException}) or a
 * {@link KilledWorkerException}; {@link TaskCancelledException} when the key was cancelled;
 * {@link DistTimeoutException}, {@link DistInterruptedException}, {@link SchedulerUnavailableException}
 * (the scheduler connection ended before the result came), or a {@link DistException} when the result
 * cannot be brought here. {@link #get()} keeps the JDK's contract: {@link ExecutionException} with the
 * same cause, {@link CancellationException}, and the checked {@link InterruptedException} and
 * {@link TimeoutException}.
 *
 * @param <T> the result type
 */
public final class Future<T> implements java.util.concurrent.Future<T>, Dependency<T> {
    private static final Cleaner CLEANER = Cleaner.create();

    /** The client's core, through what a Future needs of it; one per client. */
    private final Access access;
    final KeyState state;
    private final Releaser releaser;
    private final Cleaner.Cleanable cleanable;
    private final AtomicReference<CompletableFuture<T>> completable = new AtomicReference<>();

    private Future(Access access, KeyState state) {
        this.access = access;
        this.state = state;
        this.releaser = new Releaser(access.refs, state);
        this.cleanable = CLEANER.register(this, releaser);
    }

    /** The cleanup action; it must not reference the Future, or the Future could never be collected. */
    private static final class Releaser implements Runnable {
        private final KeyRefs refs;
        private final KeyState state;
        private final AtomicBoolean released = new AtomicBoolean();

        Releaser(KeyRefs refs, KeyState state) {
            this.refs = refs;
            this.state = state;
        }

        @Override
        public void run() {
            if (released.compareAndSet(false, true)) {
                refs.releaseRef(state);
            }
        }
    }

    /** How a client's core makes its Futures and reads their state. */
    static final class Access implements FutureAccess {
        private final Client client;
        private final Results results;
        private final KeyRefs refs;

        Access(Client client, Results results, KeyRefs refs) {
            this.client = client;
            this.results = results;
            this.refs = refs;
        }

        @Override
        public <T> Future<T> make(KeyState state) {
            return new Future<>(this, state);
        }

        @Override
        public KeyState state(Future<?> future) {
            return future.state;
        }

        @Override
        public boolean isOurs(Future<?> future) {
            return future.access == this;
        }
    }

    /** The task's key, e.g. {@code inc-3f1c0d...}. */
    public String key() {
        return state.key;
    }

    /** The client this future belongs to. */
    public Client client() {
        return access.client;
    }

    @Override
    public boolean isDone() {
        return !state.isPending();
    }

    @Override
    public boolean isCancelled() {
        return state.status().equals(KeyState.CANCELLED);
    }

    /** Whether {@link #release()} was called (or the client closed the key). */
    public boolean isReleased() {
        return releaser.released.get();
    }

    /**
     * The state without fetching anything. A key lost with the scheduler connection counts as
     * {@code FAILED}: {@link #result()} then throws {@link SchedulerUnavailableException} rather than
     * {@link TaskFailedException}, which tells the two apart (a key whose data was lost with its
     * workers is a {@link TaskFailedException} saying so).
     */
    @Override
    public java.util.concurrent.Future.State state() {
        return switch (state.status()) {
            case KeyState.FINISHED -> java.util.concurrent.Future.State.SUCCESS;
            case KeyState.ERROR, KeyState.LOST -> java.util.concurrent.Future.State.FAILED;
            case KeyState.CANCELLED -> java.util.concurrent.Future.State.CANCELLED;
            default -> java.util.concurrent.Future.State.RUNNING;
        };
    }

    /**
     * Waits for the result and brings it to this process; the unchecked {@link #get()}. A wait for
     * the result is unbounded, each request it makes is bounded by the request timeout.
     *
     * <pre>{@code
     * try {
     *     int v = f.result();
     * } catch (TaskFailedException e) {
     *     log.warn("task " + e.key() + " failed", e.getCause());
     * }
     * }</pre>
     *
     * @throws TaskFailedException            the task failed; the cause is its exception
     * @throws TaskCancelledException         the key was cancelled
     * @throws SchedulerUnavailableException  the scheduler connection ended first, or the client is closed
     * @throws DistInterruptedException       this thread was interrupted (the flag is set again)
     * @throws DistTimeoutException           a request for the data timed out
     */
    public T result() {
        return Calls.call(access.client.link, "result of " + key(), access.client.core().requestTimeout(),
                Calls.REQUEST_TIMEOUT, () -> access.results.resultOf(this, -1));
    }

    /**
     * {@link #result()} waiting at most {@code timeout} in all (computation and transfer).
     *
     * <pre>{@code
     * int v = f.result(Duration.ofSeconds(30));   // DistTimeoutException after 30 s
     * }</pre>
     *
     * @throws DistTimeoutException when the result is not here within {@code timeout}
     */
    public T result(Duration timeout) {
        long deadline = Results.deadline(timeout);
        return Calls.call(access.client.link, "result of " + key(), timeout,
                "the timeout parameter of Future.result(Duration)", () -> access.results.resultOf(this, deadline));
    }

    @Override
    public T get() throws InterruptedException, ExecutionException {
        try {
            return access.results.resultOf(this, -1);
        } catch (TimeoutException e) {
            throw new ExecutionException("a request for the result of " + key() + " timed out", e);
        }
    }

    @Override
    public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
        return access.results.resultOf(this, Results.deadline(Duration.of(timeout, unit.toChronoUnit())));
    }

    /**
     * Waits until done and returns the task's exception, or null when it succeeded.
     *
     * <pre>{@code
     * Throwable t = f.exception();   // e.g. the ArithmeticException the task threw
     * }</pre>
     *
     * @throws TaskCancelledException when the key was cancelled
     */
    public Throwable exception() {
        return exception(null);
    }

    /**
     * {@link #exception()} waiting at most {@code timeout} ({@code null}: no bound).
     *
     * @throws DistTimeoutException when the task is not done within {@code timeout}
     */
    public Throwable exception(Duration timeout) {
        try {
            return Calls.call(access.client.link, "exception of " + key(), timeout,
                    "the timeout parameter of Future.exception(Duration)", () -> {
                        access.results.await(state, timeout == null ? -1 : Results.deadline(timeout));
                        return switch (state.status()) {
                            case KeyState.CANCELLED -> throw access.results.cancellation(state);
                            case KeyState.ERROR, KeyState.LOST -> access.results.failureOf(state);
                            default -> null;
                        };
                    });
        } finally {
            java.lang.ref.Reference.reachabilityFence(this); // see ClientCore.resultOf
        }
    }

    /** The failed task's stack trace as text (the remote frames), or null unless the status is "error". */
    public String remoteStackTrace() {
        if (!state.status().equals(KeyState.ERROR)) {
            return null;
        }
        StringWriter w = new StringWriter();
        access.results.failureOf(state).printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    /**
     * Runs this erred future's task again, with the erred tasks it depends on, and returns a new
     * Future of the same key; this future keeps its error (a done Java future stays done). Retrying a
     * future that did not err gives a Future of its present state. (dask's {@code client.retry(fs)}:
     * for several, retry each.)
     *
     * <pre>{@code
     * Future<Report> r = client.submit(Reports::fetch, day);   // failed: the service was down
     * Future<Report> again = r.retry();
     * again.result();
     * }</pre>
     */
    public Future<T> retry() {
        return client().retry(this);
    }

    /**
     * Cancels the key on the cluster (and every Future sharing it); false if it was already done. The
     * scheduler forgets the task; a worker already running it finishes the run (whatever
     * {@code mayInterruptIfRunning} says) but its result is dropped.
     *
     * <pre>{@code
     * f.cancel(true);
     * f.isCancelled();   // true; f.result() throws TaskCancelledException
     * }</pre>
     */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        return access.refs.cancelStates(java.util.List.of(state), false) > 0;
    }

    /**
     * Tells the client this Future is no longer needed. When no other Future holds the key, the
     * cluster may forget it. Idempotent; the Future cannot give its result afterwards.
     */
    public void release() {
        cleanable.clean();
    }

    /**
     * A CompletableFuture that completes with the result (fetched on a virtual thread) or with the
     * failure itself (not wrapped in ExecutionException). It keeps this Future alive until done.
     */
    public CompletableFuture<T> toCompletableFuture() {
        CompletableFuture<T> cf = completable.get();
        if (cf != null) {
            return cf;
        }
        CompletableFuture<T> fresh = new CompletableFuture<>();
        if (!completable.compareAndSet(null, fresh)) {
            return completable.get();
        }
        state.done.whenComplete((v, e) -> Thread.ofVirtual().name("dist-result-" + key()).start(() -> {
            try {
                fresh.complete(get());
            } catch (ExecutionException x) {
                fresh.completeExceptionally(x.getCause());
            } catch (Throwable t) {
                fresh.completeExceptionally(t);
            }
        }));
        return fresh;
    }

    /**
     * Calls {@code callback} with this future once it is done (succeeded, failed or cancelled), on a
     * thread of its own, never on the client's I/O threads, so it may block or ask for the result.
     * A callback added after completion runs at once (still on its own thread).
     */
    public void addDoneCallback(java.util.function.Consumer<? super Future<T>> callback) {
        Callbacks.whenDone(this, state, callback);
    }

    /** Keeps {@code o} reachable until this future is done (held by its key's state, not by this Future). */
    void keepUntilDone(Object o) {
        state.done.whenComplete((v, e) -> java.lang.ref.Reference.reachabilityFence(o));
    }

    @Override
    public String toString() {
        // "lost" tells apart a key whose scheduler connection ended, which state() counts as failed
        String s = state.status().equals(KeyState.LOST) ? "lost" : state().name().toLowerCase(java.util.Locale.ROOT);
        return "Future[" + key() + ", " + s + "]";
    }
}
