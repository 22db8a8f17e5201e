package dist;

import dist.client.KeyState;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Waiting on several futures: {@link #wait(Collection, Duration, ReturnWhen)} and
 * {@link #asCompleted(Collection)}.
 *
 * <pre>{@code
 * Futures.DoneAndNotDone<Integer> r = Futures.wait(fs, Duration.ofSeconds(10), Futures.ReturnWhen.FIRST_COMPLETED);
 * for (Future<Integer> f : Futures.asCompleted(fs)) { ... }
 * }</pre>
 */
public final class Futures {
    private Futures() {
    }

    /** When {@link #wait} returns. */
    public enum ReturnWhen {
        /** As soon as any future is done (succeeded, failed or cancelled). */
        FIRST_COMPLETED,
        /** As soon as any future fails or is cancelled, or when all are done. */
        FIRST_EXCEPTION,
        /** When every future is done. */
        ALL_COMPLETED
    }

    /** The futures that were done when {@link #wait} returned, and the others. */
    public record DoneAndNotDone<T>(Set<Future<T>> done, Set<Future<T>> notDone) {
    }

    /** An iterator over {@code futures} in the order they finish; see {@link AsCompleted}. */
    public static <T> AsCompleted<T> asCompleted(Collection<? extends Future<? extends T>> futures) {
        return new AsCompleted<>(futures);
    }

    /**
     * Waits until {@code returnWhen} holds or {@code timeout} passed ({@code null}: no bound) and
     * returns which futures are done. A timeout is not an error: the not-done set says what is left.
     *
     * @throws DistInterruptedException when this thread is interrupted while waiting
     */
    public static <T> DoneAndNotDone<T> wait(Collection<? extends Future<? extends T>> futures, Duration timeout,
                                             ReturnWhen returnWhen) {
        List<Future<T>> fs = new ArrayList<>(futures.size());
        for (Future<? extends T> f : futures) {
            @SuppressWarnings("unchecked")
            Future<T> ft = (Future<T>) java.util.Objects.requireNonNull(f, "future");
            fs.add(ft);
        }
        CompletableFuture<Void> signal = new CompletableFuture<>();
        List<CompletableFuture<Void>> dones = new ArrayList<>(fs.size());
        for (Future<T> f : fs) {
            CompletableFuture<Void> d = f.state.done;
            dones.add(d);
            switch (returnWhen) {
                case FIRST_COMPLETED -> d.thenRun(() -> signal.complete(null));
                case FIRST_EXCEPTION -> d.thenRun(() -> {
                    if (!f.state.status().equals(KeyState.FINISHED)) {
                        signal.complete(null);
                    }
                });
                case ALL_COMPLETED -> { }
            }
        }
        CompletableFuture.allOf(dones.toArray(CompletableFuture[]::new)).thenRun(() -> signal.complete(null));
        try {
            if (timeout == null) {
                signal.get();
            } else {
                signal.get(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
            }
        } catch (TimeoutException | ExecutionException e) {
            // report what is done so far
        } catch (InterruptedException e) {
            throw Calls.interrupted("futures to finish", e);
        }
        Set<Future<T>> done = new LinkedHashSet<>();
        Set<Future<T>> notDone = new LinkedHashSet<>();
        for (Future<T> f : fs) {
            (f.isDone() ? done : notDone).add(f);
        }
        return new DoneAndNotDone<>(Collections.unmodifiableSet(done), Collections.unmodifiableSet(notDone));
    }

    /** Waits for all of {@code futures}, at most {@code timeout}. */
    public static <T> DoneAndNotDone<T> wait(Collection<? extends Future<? extends T>> futures, Duration timeout) {
        return wait(futures, timeout, ReturnWhen.ALL_COMPLETED);
    }

    /**
     * {@code futures} typed as the list of their values, to pass to a function that takes that list:
     * the worker receives the values. Only an argument: read here, its elements are still the futures.
     *
     * <pre>{@code
     * List<Future<Integer>> squares = client.map(Demo::square, List.of(1, 2, 3));
     * Future<Integer> total = client.submit(Demo::sum, Futures.all(squares));   // sum(List<Integer>)
     * }</pre>
     */
    @SuppressWarnings("unchecked")
    public static <T> List<T> all(List<? extends Future<? extends T>> futures) {
        // the same elements: the client sends each future as a reference the worker resolves
        return (List<T>) (List<?>) Collections.unmodifiableList(java.util.Objects.requireNonNull(futures, "futures"));
    }

    /**
     * {@code futures} typed as the set of their values, to pass to a function that takes that set: the
     * worker receives the values. Only an argument, as {@link #all(List)}.
     *
     * <pre>{@code
     * Future<Integer> total = client.submit(Demo::sumSet, Futures.all(Set.of(x, y)));   // sumSet(Set<Integer>)
     * }</pre>
     */
    @SuppressWarnings("unchecked")
    public static <T> Set<T> all(Set<? extends Future<? extends T>> futures) {
        return (Set<T>) (Set<?>) Collections.unmodifiableSet(java.util.Objects.requireNonNull(futures, "futures"));
    }

    /**
     * {@code futures} typed as the map of their values, to pass to a function that takes that map:
     * the worker receives the values under the same keys. Only an argument, as {@link #all(List)}.
     *
     * <pre>{@code
     * Future<Integer> r = client.submit(Demo::total, Futures.all(Map.of("x", x, "y", y)));   // total(Map<String, Integer>)
     * }</pre>
     */
    @SuppressWarnings("unchecked")
    public static <K, T> java.util.Map<K, T> all(java.util.Map<K, ? extends Future<? extends T>> futures) {
        return (java.util.Map<K, T>) (java.util.Map<?, ?>) Collections.unmodifiableMap(java.util.Objects.requireNonNull(futures, "futures"));
    }

    /**
     * Every Future inside {@code shape} (itself, or in lists, sets, maps, arrays and records), each once,
     * in the order met; as dask's {@code futures_of}.
     *
     * <pre>{@code
     * List<Future<?>> fs = Futures.of(Map.of("x", x, "ys", List.of(y, z)));   // x, y, z
     * client.cancel(fs);
     * }</pre>
     */
    public static List<Future<?>> of(Object shape) {
        LinkedHashSet<Future<?>> found = new LinkedHashSet<>();
        dist.client.Shapes.collect(shape, Future.class, found::add);
        return List.copyOf(found);
    }
}
