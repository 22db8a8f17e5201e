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
 * Arguments are typed: each is a value of the function's parameter type or a {@link Future} of this
 * client holding one, so a wrong type fails to compile; the worker receives the future's value. A list,
 * set or map of futures goes where the function takes their values through {@link Futures#all(List)};
 * for other shapes holding futures (a record, a mixed list) {@code submitUnchecked} takes any
 * arguments. With a future argument a lambda declares its parameter types: {@code (Integer x) -> x + 1}
 * (javac cannot choose between a value of type {@code Future} and a future otherwise), and a bare
 * {@code null} argument a cast, {@code (String) null}. Arguments travel through the serializer, so
 * they must be of types it supports.
 */
public abstract sealed class Submitter extends SubmitCalls permits Client, Submitter.WithOptions {

    Submitter(Tasks tasks, Results results, BooleanSupplier closed) {
        super(tasks, results, closed);
    }

    abstract Client client();

    /** The options calls through this submitter get. */
    public abstract Options options();

    /**
     * Places an actor built by {@code constructor} on a worker the scheduler chooses (with these
     * options' workers and resources), as dask's {@code submit(Counter, actor=True)}.
     *
     * <pre>{@code
     * ActorRef<Counter> counter = client.actor(Counter::new);
     * int n = counter.call(c -> c.add(5)).result();
     * }</pre>
     *
     * @throws DistException when no worker can hold it (none connected, none matches)
     */
    public <T> ActorRef<T> actor(Fn0<? extends T> constructor) {
        return actor(constructor, ActorOptions.defaults());
    }

    /** {@link #actor(Fn0)} with restarts, concurrency or a name: {@code client.actor(Counter::new, ActorOptions.restarts(3))}. */
    public <T> ActorRef<T> actor(Fn0<? extends T> constructor, ActorOptions actorOptions) {
        return placeActor(constructor, java.util.List.of(), actorOptions);
    }

    /** {@link #actor(Fn0)} with a constructor argument: {@code client.actor(Counter::new, 10, ActorOptions.defaults())}. */
    public <A, T> ActorRef<T> actor(Fn1<A, ? extends T> constructor, A arg, ActorOptions actorOptions) {
        return placeActor(constructor, java.util.Collections.singletonList(arg), actorOptions);
    }

    private <T> ActorRef<T> placeActor(dist.protocol.Invokable constructor, java.util.List<Object> args, ActorOptions ao) {
        Objects.requireNonNull(constructor, "constructor");
        Objects.requireNonNull(ao, "actorOptions");
        String name = ao.name() != null ? ao.name() : actorName(constructor);
        dist.client.ActorLink link = client().actors();
        String id = Calls.call(client().link, "Client.actor(" + name + ")", client().core().requestTimeout(),
                Calls.REQUEST_TIMEOUT, () -> link.create(name, constructor, args, options(), ao.restarts(), ao.concurrent()));
        return new ActorRef<>(id, name, link);
    }

    /** A constructor reference's class name ({@code Counter::new} gives "Counter"), else "actor". */
    private static String actorName(Object constructor) {
        try {
            java.lang.reflect.Method m = constructor.getClass().getDeclaredMethod("writeReplace");
            m.setAccessible(true);
            if (m.invoke(constructor) instanceof java.lang.invoke.SerializedLambda sl
                    && sl.getImplMethodName().equals("<init>")) {
                String cls = sl.getImplClass();
                return cls.substring(cls.lastIndexOf('/') + 1).replace('$', '.');
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // not a serializable lambda: the generic name will do
        }
        return "actor";
    }

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

    /** One task: {@code fn(args)}, futures among or inside the arguments resolved on the worker. */
    @Override
    final <R> Future<R> call(Invokable fn, Object[] args) {
        Future<R> f = tasks.<R>submitMany(options(), fn, List.of(new ArrayList<>(Arrays.asList(args)))).get(0);
        keepActors(f, Arrays.asList(args));
        return f;
    }

    /**
     * Keeps the actor refs among a task's arguments reachable until the task is done, as dask's
     * dependency on the actor does: collected while it waits, a ref would release its actor before
     * the task could call it.
     */
    private static void keepActors(Future<?> f, List<?> args) {
        List<ActorRef<?>> refs = null;
        for (Object a : args) {
            if (a instanceof ActorRef<?> r) {
                if (refs == null) {
                    refs = new ArrayList<>(1);
                }
                refs.add(r);
            }
        }
        if (refs != null) {
            f.keepUntilDone(refs);
        }
    }

    /**
     * One task per position: like Python's {@code map} and {@code zip}, it stops at the end of the
     * shortest list, so extra elements are unused.
     */
    @Override
    final <R> List<Future<R>> mapCall(Invokable fn, List<?>... columns) {
        int n = shortest(columns);
        List<List<Object>> calls = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            List<Object> call = new ArrayList<>(columns.length);
            for (List<?> column : columns) {
                call.add(column.get(i));
            }
            calls.add(call);
        }
        List<Future<R>> fs = tasks.submitMany(mapOptions(), fn, calls);
        for (int i = 0; i < fs.size(); i++) {
            keepActors(fs.get(i), calls.get(i));
        }
        return fs;
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
