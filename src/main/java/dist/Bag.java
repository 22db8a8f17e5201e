package dist;

import dist.client.RemoteOps;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A parallel collection split into partitions: each operation adds one task per partition, and
 * aggregations combine partial results in a tree (at most {@value #SPLIT_EVERY} inputs per task).
 * Nothing runs until {@code compute}; an aggregation gives a {@link Delayed}.
 *
 * <pre>{@code
 * Bag<Integer> xs = Bag.fromSequence(IntStream.range(0, 400).boxed().toList(), 200);
 * Number total = xs.map(Demo::multiplyByTwo).sum().compute(client);    // 159600
 * long evens = xs.filter(x -> x % 2 == 0).count().compute(client);      // 200
 * List<Integer> small = xs.filter(x -> x < 3).compute(client);          // [0, 1, 2]
 * }</pre>
 *
 * <p>Functions travel to the workers, so they must be serializable: method references and lambdas
 * typed as {@link Fn1}/{@link Fn2} are. Immutable.
 *
 * @param <T> the element type
 */
public final class Bag<T> {
    /** How many partial results one combining task takes. */
    public static final int SPLIT_EVERY = 8;

    private final List<Delayed<List<T>>> partitions;

    private Bag(List<Delayed<List<T>>> partitions) {
        this.partitions = Collections.unmodifiableList(partitions);
    }

    /** {@code items} cut into {@code npartitions} partitions of nearly equal size, order kept. */
    public static <T> Bag<T> fromSequence(List<? extends T> items, int npartitions) {
        Objects.requireNonNull(items, "items");
        if (npartitions < 1) {
            throw new IllegalArgumentException("npartitions must be at least 1, got " + npartitions);
        }
        int n = Math.max(1, Math.min(npartitions, items.size()));
        List<Delayed<List<T>>> parts = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int from = (int) ((long) items.size() * i / n);
            int to = (int) ((long) items.size() * (i + 1) / n);
            parts.add(Delayed.value(new ArrayList<>(items.subList(from, to))));
        }
        return new Bag<>(parts);
    }

    /** A bag over partitions that are already on the cluster, each a list. */
    public static <T> Bag<T> fromFutures(List<Future<List<T>>> partitions) {
        List<Delayed<List<T>>> parts = new ArrayList<>(partitions.size());
        for (Future<List<T>> f : partitions) {
            parts.add(Delayed.of(f));
        }
        return new Bag<>(parts);
    }

    public int npartitions() {
        return partitions.size();
    }

    /** The partitions as lazy lists. */
    public List<Delayed<List<T>>> partitions() {
        return partitions;
    }

    /** {@code fn} applied to every element. */
    public <R> Bag<R> map(Fn1<? super T, ? extends R> fn) {
        Objects.requireNonNull(fn, "function");
        List<Delayed<List<R>>> out = new ArrayList<>(partitions.size());
        for (Delayed<List<T>> p : partitions) {
            out.add(cast(Delayed.ofUnchecked(RemoteOps::mapPartition, fn, p)));
        }
        return new Bag<>(out);
    }

    /** The elements for which {@code keep} returns true. */
    public Bag<T> filter(Fn1<? super T, Boolean> keep) {
        Objects.requireNonNull(keep, "predicate");
        List<Delayed<List<T>>> out = new ArrayList<>(partitions.size());
        for (Delayed<List<T>> p : partitions) {
            out.add(cast(Delayed.ofUnchecked(RemoteOps::filterPartition, keep, p)));
        }
        return new Bag<>(out);
    }

    /**
     * Folds each partition from {@code initial} with {@code binop}, then merges the partial results
     * with {@code combine}. {@code initial} must be neutral for {@code combine} (0 for a sum).
     */
    public <R> Delayed<R> fold(Fn2<R, ? super T, R> binop, Fn2<R, R, R> combine, R initial) {
        Objects.requireNonNull(binop, "binop");
        Objects.requireNonNull(combine, "combine");
        List<Delayed<Object>> partials = new ArrayList<>(partitions.size());
        for (Delayed<List<T>> p : partitions) {
            partials.add(Delayed.ofUnchecked(RemoteOps::foldPartition, binop, initial, p));
        }
        return cast(Delayed.ofUnchecked(RemoteOps::finish, tree(combine, partials)));
    }

    /** Folds with one function that both adds an element and merges partials (like {@code a + b}). */
    public Delayed<T> fold(Fn2<T, T, T> binop, T initial) {
        return fold(binop, binop, initial);
    }

    /** Reduces the elements with {@code binop} (associative); an empty bag fails with NoSuchElementException. */
    public Delayed<T> reduce(Fn2<T, T, T> binop) {
        Objects.requireNonNull(binop, "binop");
        List<Delayed<Object>> partials = new ArrayList<>(partitions.size());
        for (Delayed<List<T>> p : partitions) {
            partials.add(Delayed.ofUnchecked(RemoteOps::reducePartition, binop, p));
        }
        return cast(Delayed.ofUnchecked(RemoteOps::finish, tree(binop, partials)));
    }

    /** The sum of numeric elements: a Long when all are integral (overflow fails), else a Double; 0L when empty. */
    public Delayed<Number> sum() {
        return cast(fold(cast((Fn2<Object, Object, Object>) RemoteOps::add), cast((Fn2<Object, Object, Object>) RemoteOps::add), (Object) 0L));
    }

    /** The number of elements. */
    public Delayed<Long> count() {
        return cast(fold(cast((Fn2<Object, Object, Object>) RemoteOps::countOne),
                cast((Fn2<Object, Object, Object>) RemoteOps::add), (Object) 0L));
    }

    /** Merges partials in rounds of at most {@value #SPLIT_EVERY}, so no task waits on all partitions. */
    private static Delayed<Object> tree(Fn2<?, ?, ?> combine, List<Delayed<Object>> partials) {
        List<Delayed<Object>> level = partials;
        if (level.isEmpty()) {
            return Delayed.value(RemoteOps.Empty.INSTANCE);
        }
        do {
            List<Delayed<Object>> next = new ArrayList<>((level.size() + SPLIT_EVERY - 1) / SPLIT_EVERY);
            for (int i = 0; i < level.size(); i += SPLIT_EVERY) {
                List<Delayed<Object>> group = new ArrayList<>(level.subList(i, Math.min(level.size(), i + SPLIT_EVERY)));
                next.add(Delayed.ofUnchecked(RemoteOps::combine, combine, group));
            }
            level = next;
        } while (level.size() > 1);
        return level.get(0);
    }

    /** Every element, in order, brought to this process. */
    public List<T> compute(Submitter client) {
        return compute(client, null);
    }

    /** {@link #compute(Submitter)} waiting at most {@code timeout} ({@code null}: no bound). */
    public List<T> compute(Submitter client, Duration timeout) {
        List<Future<List<T>>> fs = client.compute(partitions);
        try {
            @SuppressWarnings("unchecked")
            List<List<T>> parts = (List<List<T>>) client.gatherShape(fs, timeout);
            List<T> out = new ArrayList<>();
            parts.forEach(out::addAll);
            return out;
        } finally {
            fs.forEach(Future::release);
        }
    }

    /** Starts computing every partition and returns a bag over the results kept on the cluster. */
    public Bag<T> persist(Submitter client) {
        return fromFutures(client.compute(partitions));
    }

    @SuppressWarnings("unchecked")
    private static <X> X cast(Object o) {
        return (X) o;
    }

    @Override
    public String toString() {
        return "Bag[" + partitions.size() + " partitions]";
    }
}
