package dist;

import dist.client.Results;
import dist.client.Tasks;
import dist.protocol.Invokable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * Submits function calls as tasks with one set of {@link Options}. A {@link Client} is a submitter
 * with the default options; {@link #with(Options)} gives one with others.
 *
 * <pre>{@code
 * Future<Integer> x = client.submit(Demo::inc, 10);
 * Future<Integer> y = client.submit(Demo::add, x, 5);            // x is resolved on the worker
 * List<Future<Integer>> squares = client.map(Demo::square, List.of(1, 2, 3));
 * Future<Double> r = client.with(Options.defaults().pure(false)).submit(Math::random);
 * }</pre>
 *
 * Any argument may be a {@link Future} of this client, or hold futures inside lists, sets, maps or
 * records; the worker receives their values. Arguments travel through the serializer, so they must be
 * of types it supports.
 */
public abstract sealed class Submitter extends Operations permits Client, Submitter.WithOptions {

    Submitter(Tasks tasks, Results results, BooleanSupplier closed) {
        super(tasks, results, closed);
    }

    abstract Client client();

    /** The options calls through this submitter get. */
    public abstract Options options();

    /** A submitter with {@code options} instead of these. */
    public Submitter with(Options options) {
        return new WithOptions(client(), Objects.requireNonNull(options, "options"));
    }

    /**
     * Places {@code values} in the workers' memory with these options: {@link Options#pure(boolean)
     * pure(false)} gives each value a fresh key even when an equal value was scattered before (dask's
     * {@code hash=False}); {@link Options#workers(String...) workers} names where they go.
     *
     * <pre>{@code
     * Future<Integer> a = client.scatter(List.of(123)).get(0);
     * Future<Integer> b = client.with(Options.defaults().pure(false)).scatter(List.of(123)).get(0);
     * // a.key() != b.key(): two copies the scheduler tracks apart
     * }</pre>
     */
    public <T> List<Future<T>> scatter(List<? extends T> values) {
        Options o = options();
        return client().scatter(values, o.workers(), false, o.isPure());
    }

    public <R> Future<R> submit(Fn0<R> fn) {
        return submitOne(fn, List.of());
    }

    public <A, R> Future<R> submit(Fn1<A, R> fn, Object a) {
        return submitOne(fn, args(a));
    }

    public <A, B, R> Future<R> submit(Fn2<A, B, R> fn, Object a, Object b) {
        return submitOne(fn, args(a, b));
    }

    public <A, B, C, R> Future<R> submit(Fn3<A, B, C, R> fn, Object a, Object b, Object c) {
        return submitOne(fn, args(a, b, c));
    }

    public <A, B, C, D, R> Future<R> submit(Fn4<A, B, C, D, R> fn, Object a, Object b, Object c, Object d) {
        return submitOne(fn, args(a, b, c, d));
    }

    public <A, B, C, D, E, R> Future<R> submit(Fn5<A, B, C, D, E, R> fn, Object a, Object b, Object c, Object d,
                                               Object e) {
        return submitOne(fn, args(a, b, c, d, e));
    }

    public <A, B, C, D, E, F, R> Future<R> submit(Fn6<A, B, C, D, E, F, R> fn, Object a, Object b, Object c,
                                                  Object d, Object e, Object f) {
        return submitOne(fn, args(a, b, c, d, e, f));
    }

    private <R> Future<R> submitOne(Invokable fn, List<Object> args) {
        return tasks.<R>submitMany(options(), fn, List.of(args)).get(0);
    }

    /** One task per element, all sent in one message. Elements may be futures. */
    public <A, R> List<Future<R>> map(Fn1<A, R> fn, List<?> as) {
        List<List<Object>> calls = new ArrayList<>(as.size());
        for (Object a : as) {
            calls.add(args(a));
        }
        return tasks.submitMany(mapOptions(), fn, calls);
    }

    /**
     * One task per position: {@code fn(as[i], bs[i])}. Like Python's {@code map} and {@code zip}, it
     * stops at the end of the shorter list.
     *
     * <pre>{@code
     * client.map(Demo::add, List.of(1, 2), List.of(10, 20, 30));   // two tasks: 11, 22
     * }</pre>
     */
    public <A, B, R> List<Future<R>> map(Fn2<A, B, R> fn, List<?> as, List<?> bs) {
        int n = shortest(as, bs);
        List<List<Object>> calls = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            calls.add(args(as.get(i), bs.get(i)));
        }
        return tasks.submitMany(mapOptions(), fn, calls);
    }

    /** One task per position: {@code fn(as[i], bs[i], cs[i])}, stopping at the end of the shortest list. */
    public <A, B, C, R> List<Future<R>> map(Fn3<A, B, C, R> fn, List<?> as, List<?> bs, List<?> cs) {
        int n = shortest(as, bs, cs);
        List<List<Object>> calls = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            calls.add(args(as.get(i), bs.get(i), cs.get(i)));
        }
        return tasks.submitMany(mapOptions(), fn, calls);
    }

    /** A map's options: an explicit key names its tasks' prefix, as dask's {@code map(..., key="INC")}. */
    private Options mapOptions() {
        Options o = options();
        return o.key() == null ? o : o.key(null).keyPrefix(o.key());
    }

    /** The length of the shortest list: dask's map zips its iterables, so the extra elements are unused. */
    private static int shortest(List<?>... lists) {
        int n = Integer.MAX_VALUE;
        for (List<?> l : lists) {
            n = Math.min(n, l.size());
        }
        return n;
    }

    /** A list that, unlike List.of, allows null arguments. */
    private static List<Object> args(Object... a) {
        return new ArrayList<>(Arrays.asList(a));
    }

    /** A client's submitter bound to non-default options. */
    static final class WithOptions extends Submitter {
        private final Client client;
        private final Options options;

        WithOptions(Client client, Options options) {
            super(client.core(), client.core(), client::isClosed);
            this.client = client;
            this.options = options;
        }

        @Override
        Client client() {
            return client;
        }

        @Override
        public Options options() {
            return options;
        }

        @Override
        public String toString() {
            return "Submitter[" + client + ", " + options + "]";
        }
    }
}
