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
 * A lazy function call: builds a task graph from calls, run later on a cluster. Arguments may be
 * other Delayed values or futures (also inside lists, sets, maps and records): those are the
 * call's dependencies. Nothing runs until {@link #compute(Submitter)} or {@link #persist(Submitter)}.
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
public final class Delayed<T> {
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

    private static <R> Delayed<R> call(Invokable fn, Object... args) {
        Objects.requireNonNull(fn, "function");
        return new Delayed<>(fn, Collections.unmodifiableList(new ArrayList<>(Arrays.asList(args))), false, null, null);
    }

    public static <R> Delayed<R> of(Fn0<R> fn) {
        return call(fn);
    }

    public static <A, R> Delayed<R> of(Fn1<A, R> fn, Object a) {
        return call(fn, a);
    }

    public static <A, B, R> Delayed<R> of(Fn2<A, B, R> fn, Object a, Object b) {
        return call(fn, a, b);
    }

    public static <A, B, C, R> Delayed<R> of(Fn3<A, B, C, R> fn, Object a, Object b, Object c) {
        return call(fn, a, b, c);
    }

    public static <A, B, C, D, R> Delayed<R> of(Fn4<A, B, C, D, R> fn, Object a, Object b, Object c, Object d) {
        return call(fn, a, b, c, d);
    }

    public static <A, B, C, D, E, R> Delayed<R> of(Fn5<A, B, C, D, E, R> fn, Object a, Object b, Object c, Object d,
                                                   Object e) {
        return call(fn, a, b, c, d, e);
    }

    public static <A, B, C, D, E, F, R> Delayed<R> of(Fn6<A, B, C, D, E, F, R> fn, Object a, Object b, Object c,
                                                      Object d, Object e, Object f) {
        return call(fn, a, b, c, d, e, f);
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
        return call(fn, this);
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
