package dist;

import dist.client.GraphCompiler;
import dist.protocol.Invokable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A lazy function call: builds a task graph from calls, run later on a cluster. Each argument is a
 * value of the function's parameter type or a {@link Dependency} of it (a Delayed or a
 * {@link Future}): those are the call's dependencies, and a wrong type fails to compile. A list of
 * them goes where the function takes their values through {@link #all(List)}; other shapes holding
 * them (a record, a list mixed with plain values) through {@code ofUnchecked}. Nothing runs until
 * {@link #compute(Submitter)} or {@link #persist(Submitter)}.
 *
 * <pre>{@code
 * Delayed<Integer> x = Delayed.of(Demo::add, 1, 2);
 * Delayed<Integer> y = Delayed.of(Demo::add, x, x);
 * int v = y.compute(client);                          // 6
 * Future<Integer> f = client.compute(y);              // runs in the background
 * Delayed<Integer> kept = x.persist(client);          // x stays on the cluster for later graphs
 * }</pre>
 *
 * <p>Keys are hashes of the call and its inputs' keys, so the same call on the same inputs is
 * computed once. Intermediate results are dropped on the cluster once nothing needs them. Immutable
 * and thread-safe (as far as the arguments are).
 *
 * @param <T> the result type
 */
public final class Delayed<T> extends DelayedCalls implements Dependency<T> {
    private final Invokable fn;
    private final List<Object> args;
    private final boolean isValue;
    private final Object value;
    private final Future<T> future;

    private Delayed(Invokable fn, List<Object> args, boolean isValue, Object value, Future<T> future) {
        this.fn = fn;
        this.args = args;
        this.isValue = isValue;
        this.value = value;
        this.future = future;
    }

    /** {@code fn(args)}, delayed; the typed {@code of} forms come here. */
    static <R> Delayed<R> call(Invokable fn, Object[] args) {
        Objects.requireNonNull(fn, "function");
        return new Delayed<>(fn, Collections.unmodifiableList(new ArrayList<>(Arrays.asList(args))), false, null, null);
    }

    /**
     * {@code values} (Delayed values or futures) typed as the list of their results, to pass to a
     * function that takes that list: each is a dependency of the call, which receives the results.
     * Only an argument: read here, its elements are still the Delayed values and futures.
     *
     * <pre>{@code
     * List<Delayed<Integer>> parts = List.of(Delayed.of(Demo::inc, 1), Delayed.of(Demo::inc, 2));
     * Delayed<Integer> total = Delayed.of(Demo::sum, Delayed.all(parts));   // sum(List<Integer>)
     * }</pre>
     */
    @SuppressWarnings("unchecked")
    public static <T> List<T> all(List<? extends Dependency<? extends T>> values) {
        // the same elements: the graph compiler finds each Delayed and future inside the list
        return (List<T>) (List<?>) Collections.unmodifiableList(Objects.requireNonNull(values, "values"));
    }

    /** A plain value; used as an argument it travels inside the call that uses it. */
    public static <T> Delayed<T> value(T value) {
        return new Delayed<>(null, null, true, value, null);
    }

    /** A result already on the cluster. */
    public static <T> Delayed<T> of(Future<T> future) {
        return new Delayed<>(null, null, false, null, Objects.requireNonNull(future, "future"));
    }

    /** {@code fn(this)}, delayed. */
    public <R> Delayed<R> then(Fn1<? super T, R> fn) {
        return call(fn, new Object[] {this});
    }

    /** Runs the graph on the cluster and waits for the value. */
    public T compute(Submitter client) {
        Future<T> f = client.compute(this);
        try {
            return f.result();
        } finally {
            f.release();
        }
    }

    /** {@link #compute(Submitter)} waiting at most {@code timeout}. */
    public T compute(Submitter client, Duration timeout) {
        Future<T> f = client.compute(this);
        try {
            return f.result(timeout);
        } finally {
            f.release();
        }
    }

    /** Starts the computation and returns at once: a Delayed backed by the result's Future. */
    public Delayed<T> persist(Submitter client) {
        return client.persist(this);
    }

    /** The Future behind a persisted Delayed, or null. */
    public Future<T> future() {
        return future;
    }

    /** The actor refs the calls of these graphs take (in lists too), each once. */
    static List<ActorRef<?>> actorRefs(List<? extends Delayed<?>> roots) {
        java.util.Set<Object> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        List<ActorRef<?>> out = new ArrayList<>();
        java.util.ArrayDeque<Object> todo = new java.util.ArrayDeque<>(roots);
        while (!todo.isEmpty()) {
            Object o = todo.pop();
            if (!seen.add(o)) {
                continue;
            }
            if (o instanceof ActorRef<?> r) {
                out.add(r);
            } else if (o instanceof Delayed<?> d && d.args != null) {
                todo.addAll(d.args);
            } else if (o instanceof List<?> l) {
                todo.addAll(l);
            }
        }
        return out;
    }

    /** The call or value, as the compiler takes it (not for a Delayed backed by a Future). */
    GraphCompiler.Call call() {
        return isValue ? new GraphCompiler.Call(null, null, value) : new GraphCompiler.Call(fn, args, null);
    }

    @Override
    public String toString() {
        if (future != null) {
            return "Delayed[" + future.key() + "]";
        }
        return isValue ? "Delayed[value " + value + "]" : "Delayed[" + dist.client.Keys.prefix(fn) + "(" + args.size() + " args)]";
    }
}
