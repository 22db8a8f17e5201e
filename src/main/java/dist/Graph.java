package dist;

import dist.client.GraphCompiler;
import dist.protocol.Invokable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A task graph: a map from key to task, where a task is a function call whose arguments are
 * literals, {@linkplain #key(String) references to other keys} of the graph, or futures; or a
 * plain value. Run it with {@link Submitter#get(Graph, Object)}, {@link Submitter#compute(Graph, List)}
 * or {@link Submitter#persist(Graph, List)}.
 *
 * <pre>{@code
 * Graph g = new Graph()
 *         .value("x", 1)
 *         .task("y", Demo::inc, Graph.key("x"))              // y = inc(x)
 *         .task("z", Demo::add, Graph.key("x"), Graph.key("y"));
 * int z = client.get(g, "z");                                // 3
 * Object both = client.get(g, List.of("y", List.of("z")));   // [2, [3]]
 * }</pre>
 *
 * <p>Keys are used on the cluster as they are, as dask does: a key already held there is the same
 * computation and is not run again. References may sit inside lists, sets, maps and records of
 * arguments. Before anything runs, a graph with a cycle or a reference to a key it lacks is refused
 * with an error that names the keys. Only the tasks the asked-for keys need are sent; the scheduler
 * drops intermediate results as soon as no remaining task needs them.
 *
 * <p>Not thread-safe while being built.
 */
public final class Graph {

    /** A reference to another key of the graph, in a task's arguments. */
    public record Key(String name) {
        public Key {
            Objects.requireNonNull(name, "key name");
        }
    }

    private final Map<String, GraphCompiler.Call> entries = new LinkedHashMap<>();

    /** An empty graph. */
    public Graph() {
    }

    /** A reference to {@code name}, for use as a task argument. */
    public static Key key(String name) {
        return new Key(name);
    }

    /** {@code key} holds {@code value} itself (which may contain {@link Key}s and futures). */
    public Graph value(String key, Object value) {
        return put(key, new GraphCompiler.Call(null, null, value));
    }

    public <R> Graph task(String key, Fn0<R> fn) {
        return call(key, fn);
    }

    public <A, R> Graph task(String key, Fn1<A, R> fn, Object a) {
        return call(key, fn, a);
    }

    public <A, B, R> Graph task(String key, Fn2<A, B, R> fn, Object a, Object b) {
        return call(key, fn, a, b);
    }

    public <A, B, C, R> Graph task(String key, Fn3<A, B, C, R> fn, Object a, Object b, Object c) {
        return call(key, fn, a, b, c);
    }

    public <A, B, C, D, R> Graph task(String key, Fn4<A, B, C, D, R> fn, Object a, Object b, Object c, Object d) {
        return call(key, fn, a, b, c, d);
    }

    public <A, B, C, D, E, R> Graph task(String key, Fn5<A, B, C, D, E, R> fn, Object a, Object b, Object c,
                                         Object d, Object e) {
        return call(key, fn, a, b, c, d, e);
    }

    public <A, B, C, D, E, F, R> Graph task(String key, Fn6<A, B, C, D, E, F, R> fn, Object a, Object b,
                                            Object c, Object d, Object e, Object f) {
        return call(key, fn, a, b, c, d, e, f);
    }

    private Graph call(String key, Invokable fn, Object... args) {
        Objects.requireNonNull(fn, "function of task " + key);
        return put(key, new GraphCompiler.Call(fn, Collections.unmodifiableList(new ArrayList<>(Arrays.asList(args))),
                null));
    }

    private Graph put(String key, GraphCompiler.Call e) {
        if (key == null || key.isBlank()) {
            throw new IllegalArgumentException("a graph key must be a non-blank string, got " + (key == null ? "null" : "\"" + key + "\""));
        }
        entries.put(key, e);
        return this;
    }

    /** The graph's keys, in insertion order. */
    public Set<String> keys() {
        return Collections.unmodifiableSet(entries.keySet());
    }

    public int size() {
        return entries.size();
    }

    public boolean containsKey(String key) {
        return entries.containsKey(key);
    }

    /** The entries, by key in insertion order, as the compiler takes them. */
    Map<String, GraphCompiler.Call> entries() {
        return entries;
    }

    @Override
    public String toString() {
        return "Graph[" + entries.size() + " keys]";
    }
}
