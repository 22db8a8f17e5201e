package dist;

import dist.client.BagOps;
import dist.client.BagPipeline;
import dist.client.RemoteOps;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * <p>{@code map}, {@code filter} and {@code flatMap} add no task of their own: their steps run in
 * one pass inside the next task that needs the elements (a fold, a shuffle's input, or a partition
 * computed), as dask.bag fuses such chains, so the lists in between are never stored or moved.
 *
 * <p>Functions travel to the workers, so they must be serializable: method references and lambdas
 * typed as {@link Fn1}/{@link Fn2} are. Immutable.
 *
 * @param <T> the element type
 */
public final class Bag<T> {
    /** How many partial results one combining task takes. */
    public static final int SPLIT_EVERY = 8;

    /**
     * A partition: a task's value, and the steps not run on it yet (a source among them when the
     * value is a shuffle's, to be read where it landed).
     */
    record Part(Delayed<?> input, BagPipeline steps) {
        /** The partition as a task of its own (its input when there is no step). */
        Delayed<?> made() {
            return steps.isEmpty() ? input : Delayed.ofUnchecked(steps, input);
        }

        /** A task that runs the steps, then {@code consume} on the list; named {@code name} unless a source names it. */
        Delayed<Object> consume(String name, Fn1<List<Object>, Object> consume) {
            return Delayed.ofUnchecked(new BagPipeline.Consume(name, steps, consume), input);
        }

        /**
         * This partition as a plain input for a task with a name of its own (a next shuffle's input):
         * a source's reading runs in a task of its own, named by it.
         */
        Part plain() {
            return steps.hasSource() ? new Part(made(), BagPipeline.NONE) : this;
        }
    }

    private final List<Part> parts;
    /** The partitions as tasks, made on first use. */
    private volatile List<Delayed<List<T>>> partitions;

    private Bag(List<Part> parts) {
        this.parts = Collections.unmodifiableList(parts);
    }

    /** A bag whose partitions are these tasks' lists. */
    private static <T> Bag<T> over(List<? extends Delayed<?>> partitions) {
        List<Part> ps = new ArrayList<>(partitions.size());
        for (Delayed<?> d : partitions) {
            ps.add(new Part(d, BagPipeline.NONE));
        }
        return new Bag<>(ps);
    }

    /** This bag with one more step on every partition. */
    private <R> Bag<R> then(int kind, Fn1<?, ?> fn) {
        List<Part> out = new ArrayList<>(parts.size());
        for (Part p : parts) {
            out.add(new Part(p.input(), p.steps().then(kind, cast(fn))));
        }
        return new Bag<>(out);
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
        return over(parts);
    }

    /** A bag over partitions that are already on the cluster, each a list. */
    public static <T> Bag<T> fromFutures(List<Future<List<T>>> partitions) {
        List<Delayed<List<T>>> parts = new ArrayList<>(partitions.size());
        for (Future<List<T>> f : partitions) {
            parts.add(Delayed.of(f));
        }
        return over(parts);
    }

    public int npartitions() {
        return parts.size();
    }

    /** The partitions as lazy lists; a partition with steps pending becomes a task of its own. */
    public List<Delayed<List<T>>> partitions() {
        List<Delayed<List<T>>> made = partitions;
        if (made == null) {
            List<Delayed<List<T>>> out = new ArrayList<>(parts.size());
            for (Part p : parts) {
                out.add(cast(p.made()));
            }
            partitions = made = Collections.unmodifiableList(out);
        }
        return made;
    }

    /** {@code fn} applied to every element. */
    public <R> Bag<R> map(Fn1<? super T, ? extends R> fn) {
        Objects.requireNonNull(fn, "function");
        return then(BagPipeline.MAP, fn);
    }

    /** The elements for which {@code keep} returns true. */
    public Bag<T> filter(Fn1<? super T, Boolean> keep) {
        Objects.requireNonNull(keep, "predicate");
        return then(BagPipeline.FILTER, keep);
    }

    /**
     * Every element of the iterables {@code fn} gives, in order (dask's {@code map(...).flatten()}).
     * A projection such as dask's {@code pluck} is a {@link #map} with an accessor:
     * {@code people.map(Person::name)}.
     *
     * <pre>{@code
     * Bag<String> words = lines.flatMap(line -> List.of(line.split(" ")));
     * }</pre>
     */
    public <R> Bag<R> flatMap(Fn1<? super T, ? extends Iterable<? extends R>> fn) {
        Objects.requireNonNull(fn, "function");
        return then(BagPipeline.FLAT_MAP, fn);
    }

    /**
     * Folds each partition from {@code initial} with {@code binop}, then merges the partial results
     * with {@code combine}. {@code initial} must be neutral for {@code combine} (0 for a sum).
     */
    public <R> Delayed<R> fold(Fn2<R, ? super T, R> binop, Fn2<R, R, R> combine, R initial) {
        Objects.requireNonNull(binop, "binop");
        Objects.requireNonNull(combine, "combine");
        List<Delayed<Object>> partials = new ArrayList<>(parts.size());
        for (Part p : parts) {
            partials.add(p.consume("foldPartition", new BagPipeline.Fold(cast(binop), initial)));
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
        List<Delayed<Object>> partials = new ArrayList<>(parts.size());
        for (Part p : parts) {
            partials.add(p.consume("reducePartition", new BagPipeline.Reduce(cast(binop))));
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

    // ------------------------------------------------------------------ by key

    /**
     * The elements grouped by {@code key}, one record per key with its elements in bag order, in as
     * many partitions as this bag (dask's {@code groupby}). Every element moves to the partition its
     * key hashes to, so keys need a {@code hashCode} that is the same in every JVM (strings, boxes,
     * records and lists of them, enums) and an {@code equals}.
     *
     * <pre>{@code
     * Bag<KeyValue<Integer, List<String>>> byLength = words.groupBy(String::length);
     * }</pre>
     */
    public <K> Bag<KeyValue<K, List<T>>> groupBy(Fn1<? super T, ? extends K> key) {
        return groupBy(key, parts.size());
    }

    /** {@link #groupBy(Fn1)} into {@code npartitions} partitions: {@code words.groupBy(String::length, 10)}. */
    public <K> Bag<KeyValue<K, List<T>>> groupBy(Fn1<? super T, ? extends K> key, int npartitions) {
        Objects.requireNonNull(key, "key");
        List<BagShuffle.Side> side = List.of(new BagShuffle.Side(parts, key, -1));
        return new Bag<>(BagShuffle.shuffle(side, checkPartitions(npartitions), new BagOps.Group(cast(key))));
    }

    /**
     * Folds the elements of each key, without moving the elements (dask's {@code foldby}): each
     * partition folds its own elements per key from {@code initial} with {@code binop}, then the
     * partial values of a key merge with {@code combine}. One partition of one record per key.
     *
     * <pre>{@code
     * Fn2<Long, String, Long> addLength = (acc, w) -> acc + w.length();
     * Bag<KeyValue<Character, Long>> lettersByInitial = words.foldBy(w -> w.charAt(0), addLength, 0L, Long::sum);
     * }</pre>
     */
    public <K, R> Bag<KeyValue<K, R>> foldBy(Fn1<? super T, ? extends K> key, Fn2<R, ? super T, R> binop, R initial,
                                             Fn2<R, R, R> combine) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(binop, "binop");
        Objects.requireNonNull(combine, "combine");
        List<Delayed<Object>> partials = new ArrayList<>(parts.size());
        for (Part p : parts) {
            partials.add(p.consume("foldByPartition", new BagOps.FoldBy(cast(key), cast(binop), initial)));
        }
        Delayed<Object> merged = tree(new BagOps.MergeFolds(cast(combine)), partials);
        Delayed<List<KeyValue<K, R>>> one = cast(Delayed.ofUnchecked(BagOps::entries, merged));
        return over(List.of(one));
    }

    /**
     * How many times each distinct element occurs, one partition of one record per element.
     *
     * <pre>{@code
     * Map<String, Long> counts = words.frequencies().compute(client).stream()
     *         .collect(Collectors.toMap(KeyValue::key, KeyValue::value));
     * }</pre>
     */
    public Bag<KeyValue<T, Long>> frequencies() {
        Fn1<T, T> self = cast(RemoteOps.IDENTITY);
        Fn2<Long, T, Long> one = cast((Fn2<Object, Object, Object>) BagOps::countOne);
        Fn2<Long, Long, Long> add = cast((Fn2<Object, Object, Object>) BagOps::addLongs);
        return foldBy(self, one, 0L, add);
    }

    /**
     * Each distinct element once (by {@code equals}), in as many partitions as this bag: equal
     * elements meet in the partition their hash picks, as {@link #groupBy(Fn1)} keys do.
     *
     * <pre>{@code
     * long vocabulary = words.distinct().count().compute(client);
     * }</pre>
     */
    public Bag<T> distinct() {
        List<BagShuffle.Side> side = List.of(new BagShuffle.Side(parts, RemoteOps.IDENTITY, -1));
        return new Bag<>(BagShuffle.shuffle(side, parts.size(), new BagOps.Distinct()));
    }

    /**
     * The {@code k} largest elements by {@code order}, largest first, as one partition (dask's
     * {@code topk}). The comparator travels to the workers, so it must be serializable:
     * {@code Comparator.naturalOrder()} and {@code reverseOrder()} are, a lambda cast to
     * {@code (Comparator<T> & Serializable)} is; {@link #topKBy(int, Fn1)} takes a key instead.
     *
     * <pre>{@code
     * List<Integer> largest = numbers.topK(3, Comparator.naturalOrder()).compute(client);   // [99, 98, 97]
     * }</pre>
     */
    public Bag<T> topK(int k, Comparator<? super T> order) {
        Objects.requireNonNull(order, "order");
        if (k < 0) {
            throw new IllegalArgumentException("k must not be negative, got " + k);
        }
        if (!(order instanceof java.io.Serializable)) {
            throw new IllegalArgumentException("the comparator must be serializable to reach the workers: "
                    + "use Comparator.naturalOrder(), a lambda cast to (Comparator<T> & Serializable), or topKBy(k, keyFn)");
        }
        Comparator<Object> cmp = cast(order);
        List<Delayed<Object>> partials = new ArrayList<>(parts.size());
        for (Part p : parts) {
            partials.add(p.consume("topKPartition", new BagOps.TopK(k, cmp)));
        }
        Delayed<Object> merged = tree(new BagOps.MergeTopK(k, cmp), partials);
        Delayed<List<T>> one = cast(Delayed.ofUnchecked(BagOps::topKResult, merged));
        return over(List.of(one));
    }

    /**
     * The {@code k} elements with the largest {@code key}, largest first, as one partition.
     *
     * <pre>{@code
     * List<String> longest = words.topKBy(10, String::length).compute(client);
     * }</pre>
     */
    public <C extends Comparable<? super C>> Bag<T> topKBy(int k, Fn1<? super T, C> key) {
        Objects.requireNonNull(key, "key");
        Comparator<T> byKey = cast(new BagOps.ByKey(cast(key)));
        return topK(k, byKey);
    }

    /**
     * The pairs of an element of this bag and an element of {@code other} with equal keys (an inner
     * join), in as many partitions as the larger of the two bags: both sides move to the partition
     * their key hashes to, so keys follow the rules of {@link #groupBy(Fn1)}.
     *
     * <pre>{@code
     * Bag<Pair<Order, Customer>> joined = orders.join(customers, Order::customerId, Customer::id);
     * }</pre>
     */
    public <U, K> Bag<Pair<T, U>> join(Bag<U> other, Fn1<? super T, ? extends K> key, Fn1<? super U, ? extends K> otherKey) {
        Objects.requireNonNull(other, "other");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(otherKey, "otherKey");
        int n = Math.max(parts.size(), other.parts.size());
        List<BagShuffle.Side> sides = List.of(new BagShuffle.Side(parts, key, 0),
                new BagShuffle.Side(other.parts, otherKey, 1));
        return new Bag<>(BagShuffle.shuffle(sides, n, new BagOps.Join(cast(key), cast(otherKey))));
    }

    /**
     * The pairs of an element and the value {@code other} holds for its key (elements whose key it
     * lacks drop out). The map travels with each partition's task, so it should be small; nothing
     * moves between partitions and order is kept (dask's {@code join} with an in-memory sequence).
     *
     * <pre>{@code
     * Bag<Pair<Order, String>> named = orders.join(Map.of(1, "Alice", 2, "Bob"), Order::customerId);
     * }</pre>
     */
    public <U, K> Bag<Pair<T, U>> join(Map<K, U> other, Fn1<? super T, ? extends K> key) {
        Objects.requireNonNull(other, "other");
        Objects.requireNonNull(key, "key");
        Map<K, U> copy = new HashMap<>(other);
        List<Delayed<List<Pair<T, U>>>> out = new ArrayList<>(parts.size());
        for (Part p : parts) {
            out.add(cast(p.consume("joinMapPartition", new BagOps.JoinMap(cast(key), cast(copy)))));
        }
        return over(out);
    }

    /**
     * The same elements in the same order in {@code npartitions} partitions, as dask's
     * {@code repartition}: fewer by joining neighbouring partitions, more by cutting each into
     * nearly equal pieces. Order is what a bag promises, so this moves contiguous runs, not a
     * shuffle; an empty bag stays one partition.
     *
     * <pre>{@code
     * Bag<String> fewer = lines.repartition(4);
     * }</pre>
     */
    public Bag<T> repartition(int npartitions) {
        int nout = checkPartitions(npartitions);
        List<Delayed<List<T>>> partitions = partitions();
        int nin = partitions.size();
        List<Delayed<List<T>>> out = new ArrayList<>(nout);
        if (nout <= nin) {
            for (int j = 0; j < nout; j++) {
                int from = (int) ((long) nin * j / nout);
                int to = (int) ((long) nin * (j + 1) / nout);
                List<Delayed<List<T>>> group = new ArrayList<>(partitions.subList(from, to));
                out.add(to - from == 1 ? group.get(0) : cast(Delayed.ofUnchecked(BagOps::concat, group)));
            }
        } else {
            for (int i = 0; i < nin; i++) {
                int pieces = nout / nin + (i < nout % nin ? 1 : 0);
                for (int p = 0; p < pieces; p++) {
                    out.add(cast(Delayed.ofUnchecked(BagOps::slice, p, pieces, partitions.get(i))));
                }
            }
        }
        return over(out);
    }

    private static int checkPartitions(int npartitions) {
        if (npartitions < 1) {
            throw new IllegalArgumentException("npartitions must be at least 1, got " + npartitions);
        }
        return npartitions;
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
        List<Future<List<T>>> fs = client.compute(partitions());
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
        return fromFutures(client.compute(partitions()));
    }

    @SuppressWarnings("unchecked")
    private static <X> X cast(Object o) {
        return (X) o;
    }

    @Override
    public String toString() {
        return "Bag[" + parts.size() + " partitions]";
    }
}
