package dist;

import java.time.Duration;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Yields futures in the order they finish, whether they succeed, fail, are cancelled or lost.
 * More futures may be {@linkplain #add added} while iterating, from any thread; iteration ends when
 * every added future was yielded. A future that is {@linkplain Future#release() released} before it
 * finished is yielded too (it will never finish), so iteration never hangs on it.
 *
 * <pre>{@code
 * AsCompleted<Integer> seq = Futures.asCompleted(client.map(Demo::inc, List.of(1, 2, 3)));
 * for (Future<Integer> f : seq) {
 *     System.out.println(f.result());
 *     if (f.result() < 3) seq.add(client.submit(Demo::inc, f));   // more work as results come
 * }
 * for (AsCompleted.Completed<Integer> c : Futures.asCompleted(fs).withResults()) {
 *     System.out.println(c.future().key() + " -> " + (c.error() == null ? c.result() : c.error()));
 * }
 * }</pre>
 *
 * <p>One thread should iterate; {@link #add} is safe from any thread.
 *
 * @param <T> the result type
 */
public final class AsCompleted<T> implements Iterator<Future<T>>, Iterable<Future<T>> {
    /** How often a blocked {@link #next()} looks for released futures. */
    private static final long SWEEP_MILLIS = 100;

    /** A finished future with its result or its failure (cancellation included). */
    public record Completed<T>(Future<T> future, T result, Throwable error) {
        public boolean succeeded() {
            return error == null;
        }
    }

    private final LinkedBlockingQueue<Future<T>> finished = new LinkedBlockingQueue<>();
    /** Not yet finished, by an identity token per add (a future added twice is yielded twice). */
    private final Map<Object, Future<T>> pending = new ConcurrentHashMap<>();
    /** Added and not yet yielded. */
    private final AtomicInteger remaining = new AtomicInteger();

    /** An iterator over {@code futures}; add more with {@link #add}. */
    public AsCompleted(Collection<? extends Future<? extends T>> futures) {
        addAll(futures);
    }

    /** Adds a future to iterate over. */
    @SuppressWarnings("unchecked")
    public void add(Future<? extends T> future) {
        Future<T> f = (Future<T>) java.util.Objects.requireNonNull(future, "future");
        Object token = new Object();
        remaining.incrementAndGet();
        pending.put(token, f);
        // runs on the thread that completes the key: only hand over, never block
        f.state.done.thenRun(() -> moveToFinished(token));
    }

    public void addAll(Collection<? extends Future<? extends T>> futures) {
        for (Future<? extends T> f : futures) {
            add(f);
        }
    }

    private void moveToFinished(Object token) {
        Future<T> f = pending.remove(token);
        if (f != null) {
            finished.add(f);
        }
    }

    /** True while some added future was not yet yielded (it may still be running). */
    @Override
    public boolean hasNext() {
        return remaining.get() > 0;
    }

    /** The next future to finish, waiting as long as needed. */
    @Override
    public Future<T> next() {
        if (!hasNext()) {
            throw new NoSuchElementException("every future was yielded");
        }
        try {
            Future<T> f;
            while ((f = poll(SWEEP_MILLIS)) == null) {
                sweepReleased();
            }
            return f;
        } catch (InterruptedException e) {
            throw Calls.interrupted("the next future to finish", e);
        }
    }

    /**
     * The next future to finish, or null when none finished within {@code timeout} or none is left.
     *
     * @throws DistInterruptedException when this thread is interrupted while waiting
     */
    public Future<T> next(Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (hasNext()) {
            long leftMillis = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime());
            Future<T> f = pollInterruptibly(Math.max(0, Math.min(SWEEP_MILLIS, leftMillis)));
            if (f != null) {
                return f;
            }
            sweepReleased();
            if (end - System.nanoTime() <= 0) {
                return pollInterruptibly(0);
            }
        }
        return null;
    }

    private Future<T> pollInterruptibly(long millis) {
        try {
            return poll(millis);
        } catch (InterruptedException e) {
            throw Calls.interrupted("the next future to finish", e);
        }
    }

    private Future<T> poll(long millis) throws InterruptedException {
        Future<T> f = finished.poll(millis, TimeUnit.MILLISECONDS);
        if (f != null) {
            remaining.decrementAndGet();
        }
        return f;
    }

    private void sweepReleased() {
        for (Map.Entry<Object, Future<T>> e : pending.entrySet()) {
            if (e.getValue().isReleased()) {
                moveToFinished(e.getKey());
            }
        }
    }

    /** Futures finished and not yet yielded. */
    public int readyCount() {
        return finished.size();
    }

    /**
     * Futures added and not yet yielded, finished or not (dask's {@code count()}).
     * <pre>{@code while (seq.count() > 0) use(seq.next()); }</pre>
     */
    public int count() {
        return remaining.get();
    }

    /** True when every added future was yielded (dask's {@code is_empty()}): {@code while (!seq.isEmpty()) ...}. */
    public boolean isEmpty() {
        return !hasNext();
    }

    /**
     * Every finished, not yet yielded future; with {@code block}, first waits for one when none is
     * ready. Empty when nothing is left. Use: {@code for (Future<T> f : seq.nextBatch(true)) use(f);}
     */
    public java.util.List<Future<T>> nextBatch(boolean block) {
        java.util.List<Future<T>> out = new java.util.ArrayList<>();
        if (block && hasNext() && finished.isEmpty()) {
            out.add(next());
        }
        Future<T> f;
        while ((f = finished.poll()) != null) {
            remaining.decrementAndGet();
            out.add(f);
        }
        return out;
    }

    /** Forgets every added future, finished or not; iteration then ends. Use: {@code seq.clear();} */
    public void clear() {
        pending.clear();
        while (finished.poll() != null) {
            remaining.decrementAndGet();
        }
        remaining.set(0);
    }

    /** {@code AsCompleted<waiting=2, done=1>}: futures not finished and finished-not-yielded, as dask's repr. */
    @Override
    public String toString() {
        return "AsCompleted<waiting=" + pending.size() + ", done=" + finished.size() + ">";
    }

    /** This iterator, for use in a for-each loop. */
    @Override
    public Iterator<Future<T>> iterator() {
        return this;
    }

    /** The same sequence, each future with its result (fetched here) or its failure. */
    public Iterable<Completed<T>> withResults() {
        return () -> new Iterator<>() {
            @Override
            public boolean hasNext() {
                return AsCompleted.this.hasNext();
            }

            @Override
            public Completed<T> next() {
                Future<T> f = AsCompleted.this.next();
                try {
                    return new Completed<>(f, f.get(), null);
                } catch (ExecutionException e) {
                    return new Completed<>(f, null, e.getCause());
                } catch (IllegalStateException e) { // CancellationException is one too
                    return new Completed<>(f, null, e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return new Completed<>(f, null, e);
                }
            }
        };
    }
}
