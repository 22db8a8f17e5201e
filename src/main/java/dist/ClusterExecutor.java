package dist;

import dist.client.RemoteOps;
import dist.client.Tasks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * An {@link ExecutorService} whose tasks run on the cluster. Tasks travel to workers, so they must
 * be serializable: a lambda typed {@code (Callable<T> & Serializable)}, a record implementing
 * {@link Callable} or {@link Runnable}, or a class the serializer knows. A task that cannot be sent
 * is rejected with {@link RejectedExecutionException}. Every call is a new task (impure keys).
 * Internal; obtained through {@link Operations#executorService()}.
 */
final class ClusterExecutor implements ExecutorService {
    private final Tasks tasks;
    /** The client's options, made impure: every call is a new task. */
    private final Options options;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile boolean shutdown;
    private final CountDownLatch terminated = new CountDownLatch(1);
    /** Submitted and not yet done, with the task as given (for shutdownNow). */
    private final Map<Future<?>, Object> inflight = new ConcurrentHashMap<>();

    ClusterExecutor(Tasks tasks, Options options) {
        this.tasks = tasks;
        this.options = options.pure(false).key(null);
    }

    @Override
    public <T> Future<T> submit(Callable<T> task) {
        Objects.requireNonNull(task, "task");
        return this.<T>submitAll(List.of(task)).get(0);
    }

    @Override
    public <T> Future<T> submit(Runnable task, T result) {
        Objects.requireNonNull(task, "task");
        List<Object> args = new ArrayList<>(2); // result may be null
        args.add(task);
        args.add(result);
        return track(task, () -> cast(tasks.submitMany(options, RemoteOps.RUN, List.of(args)).get(0)));
    }

    @Override
    public Future<?> submit(Runnable task) {
        return submit(task, null);
    }

    @Override
    public void execute(Runnable command) {
        submit(command, null);
    }

    /** One message for all tasks; every returned future is tracked until done. */
    private <T> List<Future<T>> submitAll(Collection<? extends Callable<T>> tasks) {
        List<Object> list = new ArrayList<>(tasks.size());
        for (Callable<T> t : tasks) {
            list.add(Objects.requireNonNull(t, "task"));
        }
        lock.readLock().lock();
        try {
            checkOpen();
            List<Future<Object>> fs;
            try {
                List<List<Object>> calls = new ArrayList<>(list.size());
                for (Object t : list) {
                    calls.add(List.of(t));
                }
                fs = this.tasks.submitMany(options, RemoteOps.CALL, calls);
            } catch (RuntimeException e) {
                throw rejected(e);
            }
            List<Future<T>> out = new ArrayList<>(fs.size());
            for (int i = 0; i < fs.size(); i++) {
                out.add(cast(register(fs.get(i), list.get(i))));
            }
            return out;
        } finally {
            lock.readLock().unlock();
        }
    }

    private <T> Future<T> track(Object task, java.util.function.Supplier<Future<T>> submit) {
        lock.readLock().lock();
        try {
            checkOpen();
            try {
                return register(submit.get(), task);
            } catch (RejectedExecutionException e) {
                throw e;
            } catch (RuntimeException e) {
                throw rejected(e);
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    private <T> Future<T> register(Future<T> f, Object task) {
        inflight.put(f, task);
        f.state.done.thenRun(() -> {
            inflight.remove(f);
            maybeTerminate();
        });
        return f;
    }

    private void checkOpen() {
        if (shutdown) {
            throw new RejectedExecutionException("this executor was shut down; it takes no new tasks");
        }
    }

    private static RejectedExecutionException rejected(RuntimeException e) {
        return new RejectedExecutionException("the task could not be sent to the cluster: " + e.getMessage()
                + " (a task must be serializable: write a lambda as (Callable<T> & Serializable) () -> ..., "
                + "or use a record that implements Callable or Runnable)", e);
    }

    private void maybeTerminate() {
        if (shutdown && inflight.isEmpty()) {
            terminated.countDown();
        }
    }

    @Override
    public void shutdown() {
        lock.writeLock().lock();
        try {
            shutdown = true;
        } finally {
            lock.writeLock().unlock();
        }
        maybeTerminate();
    }

    /**
     * Shuts down and cancels every task not yet done. The cluster cannot tell whether a task started
     * running, so the list holds every task that was cancelled here; running one of them runs its task
     * in this process.
     */
    @Override
    public List<Runnable> shutdownNow() {
        shutdown();
        List<Runnable> notRun = new ArrayList<>();
        for (Map.Entry<Future<?>, Object> e : inflight.entrySet()) {
            if (e.getKey().cancel(true)) {
                Object task = e.getValue();
                notRun.add(task instanceof Runnable r ? r : new FutureTask<>((Callable<?>) task));
            }
        }
        maybeTerminate();
        return notRun;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return terminated.getCount() == 0;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return terminated.await(timeout, unit);
    }

    @Override
    public <T> List<java.util.concurrent.Future<T>> invokeAll(Collection<? extends Callable<T>> tasks)
            throws InterruptedException {
        List<Future<T>> fs = submitAll(tasks);
        try {
            Futures.wait(fs, null, Futures.ReturnWhen.ALL_COMPLETED);
        } catch (DistInterruptedException e) {
            fs.forEach(f -> f.cancel(true));
            Thread.interrupted(); // the JDK's contract: the flag is clear once InterruptedException is thrown
            throw (InterruptedException) e.getCause();
        }
        return new ArrayList<>(fs);
    }

    @Override
    public <T> List<java.util.concurrent.Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout,
                                                              TimeUnit unit) throws InterruptedException {
        List<Future<T>> fs = submitAll(tasks);
        try {
            Futures.wait(fs, Duration.of(timeout, unit.toChronoUnit()), Futures.ReturnWhen.ALL_COMPLETED);
        } catch (DistInterruptedException e) {
            Thread.interrupted();
            throw (InterruptedException) e.getCause();
        } finally {
            for (Future<T> f : fs) {
                if (!f.isDone()) {
                    f.cancel(true);
                }
            }
        }
        return new ArrayList<>(fs);
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws InterruptedException, ExecutionException {
        try {
            return any(tasks, null);
        } catch (TimeoutException e) {
            throw new IllegalStateException("no timeout was set, yet the wait timed out", e);
        }
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        return any(tasks, Duration.of(timeout, unit.toChronoUnit()));
    }

    private <T> T any(Collection<? extends Callable<T>> tasks, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("invokeAny needs at least one task");
        }
        List<Future<T>> fs = submitAll(tasks);
        long end = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
        AsCompleted<T> seq = new AsCompleted<>(fs);
        ExecutionException last = null;
        try {
            while (seq.hasNext()) {
                Future<T> f;
                try {
                    f = timeout == null ? seq.next() : seq.next(Duration.ofNanos(Math.max(0, end - System.nanoTime())));
                } catch (DistInterruptedException e) {
                    Thread.interrupted(); // the JDK's contract: the flag is clear once InterruptedException is thrown
                    throw (InterruptedException) e.getCause();
                }
                if (f == null) {
                    throw new TimeoutException("no task of " + fs.size() + " succeeded within " + timeout);
                }
                try {
                    return f.get();
                } catch (ExecutionException e) {
                    last = e;
                } catch (java.util.concurrent.CancellationException e) {
                    last = new ExecutionException("task " + f.key() + " was cancelled", e);
                }
            }
            throw last;
        } finally {
            fs.forEach(f -> f.cancel(true));
        }
    }

    @SuppressWarnings("unchecked")
    private static <X> X cast(Object o) {
        return (X) o;
    }

    @Override
    public String toString() {
        return "ClusterExecutor[" + options + (shutdown ? ", shut down" : "") + ", " + inflight.size() + " in flight]";
    }
}
