package dist;

import dist.client.GraphCompiler;
import dist.client.QueuePump;
import dist.client.RemoteOps;
import dist.client.Results;
import dist.client.Shapes;
import dist.client.Tasks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * What a {@link Submitter} (and so a {@link Client}) offers beyond single calls: task graphs,
 * {@link Delayed} values, an {@link java.util.concurrent.ExecutorService} on the cluster, and
 * pipelines over queues. Every task made here gets the submitter's {@link Options}.
 *
 * <pre>{@code
 * Graph g = new Graph().value("x", 1).task("y", Demo::inc, Graph.key("x"));
 * int y = client.get(g, "y");                                  // 2
 * Future<Integer> f = client.compute(Delayed.of(Demo::inc, 41));
 * }</pre>
 */
public abstract sealed class Operations permits SubmitCalls {
    /** Where tasks go: the client's core. */
    final Tasks tasks;
    /** Where results come from: the client's core. */
    final Results results;
    /** Whether the client closed: the queue pumps stop then. */
    private final BooleanSupplier closed;

    Operations(Tasks tasks, Results results, BooleanSupplier closed) {
        this.tasks = tasks;
        this.results = results;
        this.closed = closed;
    }

    /** The options tasks made through this object get. */
    public abstract Options options();

    // ------------------------------------------------------------------ task graphs

    /** Runs what {@code key} needs of {@code graph} and returns its value. */
    @SuppressWarnings("unchecked")
    public <T> T get(Graph graph, String key) {
        return (T) get(graph, (Object) key);
    }

    /**
     * Runs what {@code keys} need of {@code graph} and returns their values in the shape of {@code keys}:
     * a key gives its value, a list of keys (nested lists allowed) a list of values.
     */
    public Object get(Graph graph, Object keys) {
        Object shape = futuresShape(graph, keys);
        try {
            return gatherShape(shape, null);
        } finally {
            Shapes.collect(shape, Future.class, Future::release);
        }
    }

    /** {@link #get(Graph, Object)} waiting at most {@code timeout}. */
    public Object get(Graph graph, Object keys, Duration timeout) {
        Object shape = futuresShape(graph, keys);
        try {
            return gatherShape(shape, Objects.requireNonNull(timeout, "timeout"));
        } finally {
            Shapes.collect(shape, Future.class, Future::release);
        }
    }

    /** {@code shape} with every Future inside replaced by its result; {@code timeout} null: no bound. */
    Object gatherShape(Object shape, Duration timeout) {
        long deadline = timeout == null ? -1 : Results.deadline(timeout);
        Client client = ((Submitter) this).client(); // the only subclass
        int[] n = {0};
        Shapes.collect(shape, Future.class, f -> n[0]++);
        return Calls.call(client.link, "the results of " + n[0] + " tasks",
                timeout == null ? client.core().requestTimeout() : timeout,
                timeout == null ? Calls.REQUEST_TIMEOUT : "the timeout parameter", () -> results.gather(shape, deadline));
    }

    private Object futuresShape(Graph graph, Object keys) {
        Objects.requireNonNull(graph, "graph");
        List<String> wanted = new ArrayList<>();
        if (!collectKeys(keys, wanted)) {
            throw new IllegalArgumentException("keys must be a key (String) or nested lists of keys; got " + keys);
        }
        List<Future<Object>> futures = GraphCompiler.submit(tasks, options(), graph.entries(), wanted);
        int[] i = {0};
        return Shapes.rebuild(keys, String.class, k -> futures.get(i[0]++));
    }

    private static boolean collectKeys(Object keys, List<String> into) {
        if (keys instanceof String k) {
            into.add(k);
            return true;
        }
        if (keys instanceof List<?> l) {
            for (Object o : l) {
                if (!collectKeys(o, into)) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    /** Starts computing {@code key} of {@code graph}; returns its Future at once. */
    public <T> Future<T> compute(Graph graph, String key) {
        return GraphCompiler.<T>submit(tasks, options(), Objects.requireNonNull(graph, "graph").entries(), List.of(key))
                .get(0);
    }

    /** Starts computing {@code keys} of {@code graph}; returns a Future per key, in order. */
    public List<Future<Object>> compute(Graph graph, List<String> keys) {
        return GraphCompiler.submit(tasks, options(), Objects.requireNonNull(graph, "graph").entries(),
                List.copyOf(keys));
    }

    /**
     * Starts computing {@code keys} of {@code graph} and keeps them on the cluster: their Futures by key.
     * Other keys of the graph are dropped once these are computed.
     */
    public Map<String, Future<Object>> persist(Graph graph, List<String> keys) {
        List<Future<Object>> fs = compute(graph, keys);
        Map<String, Future<Object>> out = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            out.put(keys.get(i), fs.get(i));
        }
        return out;
    }

    // ------------------------------------------------------------------ Delayed

    /** Starts computing {@code value}'s graph; returns its Future at once. */
    public <T> Future<T> compute(Delayed<T> value) {
        Future<T> f = GraphCompiler.<T>submit(tasks, options(), List.of(Objects.requireNonNull(value, "value")), Delayed::call)
                .get(0);
        keepActors(List.of(value), List.of(f));
        return f;
    }

    /** Starts computing several Delayed values in one graph (shared parts run once); a Future each, in order. */
    public <T> List<Future<T>> compute(List<? extends Delayed<? extends T>> values) {
        List<Future<T>> fs = GraphCompiler.submit(tasks, options(), values, Delayed::call);
        keepActors(values, fs);
        return fs;
    }

    /** As a submitted task's: the actor refs a graph takes stay reachable until its results are done. */
    private static void keepActors(List<? extends Delayed<?>> values, List<? extends Future<?>> results) {
        List<ActorRef<?>> refs = Delayed.actorRefs(values);
        if (!refs.isEmpty()) {
            for (Future<?> f : results) {
                f.keepUntilDone(refs);
            }
        }
    }

    /** Starts computing {@code value} and returns a Delayed backed by its Future, for use in further graphs. */
    public <T> Delayed<T> persist(Delayed<T> value) {
        return Delayed.of(compute(value));
    }

    // ------------------------------------------------------------------ executor

    /**
     * A {@link java.util.concurrent.ExecutorService} that runs its tasks on the cluster, so code written
     * for a thread pool runs there unchanged. Tasks must be serializable (a lambda typed
     * {@code (Callable<T> & Serializable)}, or a record implementing Callable or Runnable); others are
     * rejected with {@link java.util.concurrent.RejectedExecutionException}. Its futures are this
     * library's {@link Future}s. Shutting it down leaves the client open.
     *
     * <pre>{@code
     * ExecutorService pool = client.executorService();
     * java.util.concurrent.Future<Integer> f = pool.submit((Callable<Integer> & Serializable) () -> 6 * 7);
     * List<java.util.concurrent.Future<Integer>> all = pool.invokeAll(tasks);
     * pool.shutdown();
     * }</pre>
     */
    public java.util.concurrent.ExecutorService executorService() {
        return new ClusterExecutor(tasks, options());
    }

    // ------------------------------------------------------------------ streams over queues

    /**
     * Sends each item taken from {@code in} to the cluster and puts its Future on the returned queue, as
     * items arrive. Here an item travels inside a small task that returns it (not placed on a worker
     * directly). The returned queue is bounded like {@code in}, so a slow consumer slows the pipeline.
     * The pump runs on a virtual thread until the client closes.
     *
     * <pre>{@code
     * BlockingQueue<Integer> input = new LinkedBlockingQueue<>();
     * BlockingQueue<Future<Integer>> remote = client.scatter(input);
     * BlockingQueue<Future<Integer>> incremented = client.map(Demo::inc, remote);
     * BlockingQueue<Future<Integer>> doubled = client.map(Demo::twice, incremented);
     * BlockingQueue<Integer> results = client.gather(doubled);
     * input.put(10);
     * results.take();   // 22
     * }</pre>
     */
    public <T> java.util.concurrent.BlockingQueue<Future<T>> scatter(java.util.concurrent.BlockingQueue<? extends T> in) {
        Fn1<Object, T> scatterItem = RemoteOps::scatterItem;
        return QueuePump.start(closed, in, "scatter", item -> one(scatterItem, item));
    }

    /** {@code fn} applied to each item (a value or a Future) taken from {@code in}, as a Future on the returned queue. */
    public <A, R> java.util.concurrent.BlockingQueue<Future<R>> map(Fn1<A, R> fn, java.util.concurrent.BlockingQueue<?> in) {
        Objects.requireNonNull(fn, "function");
        return QueuePump.start(closed, in, "map", item -> one(fn, item));
    }

    /**
     * The result of each Future taken from {@code in}, in the order they were taken. A Future that fails
     * is logged and skipped, so one bad item does not stop the stream.
     */
    public <T> java.util.concurrent.BlockingQueue<T> gather(java.util.concurrent.BlockingQueue<? extends Future<? extends T>> in) {
        return QueuePump.start(closed, in, "gather", f -> QueuePump.resultOrSkip(f));
    }

    /** One task calling {@code fn} on {@code item} (a value or a Future), with these options. */
    private <R> Future<R> one(Fn1<?, R> fn, Object item) {
        List<Object> args = new ArrayList<>(1);
        args.add(item);
        return tasks.<R>submitMany(options(), fn, List.of(args)).get(0);
    }
}
