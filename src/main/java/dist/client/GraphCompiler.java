package dist.client;

import dist.Delayed;
import dist.Future;
import dist.Graph;
import dist.Options;
import dist.protocol.Invokable;
import dist.protocol.TaskCall;
import dist.protocol.TaskSpec;
import dist.serial.Ref;

import java.lang.reflect.RecordComponent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Turns {@link Graph}s and {@link Delayed} values into task specs and submits them. Internal: public
 * for the graph methods of {@code dist.Submitter}, which hand over each entry's {@link Call}.
 */
public final class GraphCompiler {
    private GraphCompiler() {
    }

    /**
     * One entry of a graph or one Delayed: a call of {@code fn} on {@code args}, or ({@code fn} null)
     * the plain {@code value}.
     */
    public record Call(Invokable fn, List<Object> args, Object value) {
        boolean isValue() {
            return fn == null;
        }
    }

    /** An encoded task before ordering: its call bytes, its graph dependencies and all dependencies. */
    private record Encoded(byte[] run, Set<String> graphDeps, Set<String> allDeps) {
    }

    // ------------------------------------------------------------------ Graph

    /** Submits what {@code outputs} need of the graph whose entries are {@code entries}; a Future per output. */
    public static <R> List<Future<R>> submit(Tasks tasks, Options options, Map<String, Call> entries,
                                             List<String> outputs) {
        List<String> absent = outputs.stream().filter(k -> !entries.containsKey(k)).distinct().toList();
        if (!absent.isEmpty()) {
            throw new IllegalArgumentException("asked for key(s) " + absent + " that the graph does not have; it has "
                    + preview(entries.keySet()));
        }
        Map<String, Encoded> encoded = new HashMap<>(entries.size() * 2);
        Map<String, List<String>> missing = new LinkedHashMap<>();
        for (Map.Entry<String, Call> e : entries.entrySet()) {
            Set<String> graphDeps = new LinkedHashSet<>();
            Set<String> allDeps = new LinkedHashSet<>();
            UnaryOperator<Object> futures = tasks.futureReplacer(allDeps);
            UnaryOperator<Object> replacer = o -> {
                if (o instanceof Graph.Key k) {
                    graphDeps.add(k.name());
                    allDeps.add(k.name());
                    return new Ref(k.name());
                }
                return futures.apply(o);
            };
            Call entry = e.getValue();
            TaskCall call = entry.fn() != null ? new TaskCall(entry.fn(), entry.args())
                    : new TaskCall(RemoteOps.IDENTITY, singleton(entry.value()));
            byte[] run;
            try {
                run = tasks.encodeCall(call, replacer);
            } catch (RuntimeException x) {
                throw new IllegalArgumentException("task " + e.getKey() + " of the graph does not encode: " + x.getMessage(), x);
            }
            for (String d : graphDeps) {
                if (!entries.containsKey(d)) {
                    missing.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(d);
                }
            }
            encoded.put(e.getKey(), new Encoded(run, graphDeps, allDeps));
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("the graph refers to keys it does not have (task -> missing keys): "
                    + preview(missing.entrySet()) + "; add them to the graph or pass futures instead");
        }
        List<String> order = topologicalOrder(encoded);
        // only what the outputs need, in dependency order
        Set<String> needed = new java.util.HashSet<>();
        ArrayDeque<String> todo = new ArrayDeque<>(outputs);
        while (!todo.isEmpty()) {
            String k = todo.poll();
            if (needed.add(k)) {
                todo.addAll(encoded.get(k).graphDeps());
            }
        }
        int priority = options.priority();
        List<TaskSpec> specs = new ArrayList<>(needed.size());
        for (String k : order) {
            if (needed.contains(k)) {
                Encoded en = encoded.get(k);
                specs.add(new TaskSpec(k, en.run(), List.copyOf(en.allDeps()), tasks.nextPriority(priority),
                        WireOptions.of(options)));
            }
        }
        return tasks.submitSpecs(specs, outputs);
    }

    private static List<Object> singleton(Object v) {
        List<Object> l = new ArrayList<>(1);
        l.add(v);
        return l;
    }

    /** Kahn's order; a cycle is refused with the keys on it. */
    private static List<String> topologicalOrder(Map<String, Encoded> tasks) {
        Map<String, Integer> waiting = new HashMap<>(tasks.size() * 2);
        Map<String, List<String>> dependents = new HashMap<>();
        ArrayDeque<String> ready = new ArrayDeque<>();
        for (Map.Entry<String, Encoded> e : tasks.entrySet()) {
            waiting.put(e.getKey(), e.getValue().graphDeps().size());
            for (String d : e.getValue().graphDeps()) {
                dependents.computeIfAbsent(d, k -> new ArrayList<>()).add(e.getKey());
            }
            if (e.getValue().graphDeps().isEmpty()) {
                ready.add(e.getKey());
            }
        }
        List<String> order = new ArrayList<>(tasks.size());
        while (!ready.isEmpty()) {
            String k = ready.poll();
            order.add(k);
            for (String d : dependents.getOrDefault(k, List.of())) {
                if (waiting.merge(d, -1, Integer::sum) == 0) {
                    ready.add(d);
                }
            }
        }
        if (order.size() < tasks.size()) {
            throw new IllegalArgumentException("the graph has a cycle: " + String.join(" -> ", findCycle(tasks, waiting))
                    + "; a task cannot depend on its own result");
        }
        return order;
    }

    /** A cycle among the keys Kahn's order could not place: follow unplaced dependencies until one repeats. */
    private static List<String> findCycle(Map<String, Encoded> tasks, Map<String, Integer> waiting) {
        String start = null;
        for (Map.Entry<String, Integer> e : waiting.entrySet()) {
            if (e.getValue() > 0) {
                start = e.getKey();
                break;
            }
        }
        Map<String, Integer> seenAt = new HashMap<>();
        List<String> path = new ArrayList<>();
        String k = start;
        while (k != null && !seenAt.containsKey(k)) {
            seenAt.put(k, path.size());
            path.add(k);
            String next = null;
            for (String d : tasks.get(k).graphDeps()) {
                if (waiting.get(d) > 0) {
                    next = d;
                    break;
                }
            }
            k = next;
        }
        if (k == null) {
            return path;
        }
        List<String> cycle = new ArrayList<>(path.subList(seenAt.get(k), path.size()));
        cycle.add(k);
        return cycle;
    }

    private static String preview(Collection<?> items) {
        List<String> shown = new ArrayList<>();
        int i = 0;
        for (Object o : items) {
            if (i++ == 10) {
                shown.add("... " + (items.size() - 10) + " more");
                break;
            }
            shown.add(String.valueOf(o));
        }
        return shown.toString();
    }

    // ------------------------------------------------------------------ Delayed

    /**
     * Submits the graphs behind {@code roots} and returns a Future per root. Keys are hashes of each
     * call with its inputs' keys, so equal calls share a key; literal values are inlined into the calls
     * that use them. {@code calls} gives the call of a Delayed not backed by a Future.
     */
    public static <R> List<Future<R>> submit(Tasks tasks, Options options, List<? extends Delayed<?>> roots,
                                             Function<Delayed<?>, Call> calls) {
        Map<Delayed<?>, String> keys = new IdentityHashMap<>();
        Map<String, TaskSpec> specs = new LinkedHashMap<>();
        int priority = options.priority();
        // iterative post-order: a node is encoded once all Delayed inside its arguments have keys
        ArrayDeque<Delayed<?>> stack = new ArrayDeque<>();
        Map<Delayed<?>, Boolean> expanded = new IdentityHashMap<>();
        for (Delayed<?> root : roots) {
            stack.push(root);
            while (!stack.isEmpty()) {
                Delayed<?> d = stack.peek();
                if (keys.containsKey(d)) {
                    stack.pop();
                    continue;
                }
                if (d.future() != null) {
                    keys.put(d, d.future().key());
                    stack.pop();
                    continue;
                }
                if (expanded.put(d, Boolean.TRUE) == null) {
                    List<Delayed<?>> children = new ArrayList<>();
                    Call dc = calls.apply(d);
                    walk(dc.isValue() ? dc.value() : dc.args(), children::add);
                    boolean pushed = false;
                    for (Delayed<?> c : children) {
                        if (!keys.containsKey(c)) {
                            stack.push(c);
                            pushed = true;
                        }
                    }
                    if (pushed) {
                        continue;
                    }
                }
                stack.pop();
                Set<String> deps = new LinkedHashSet<>();
                UnaryOperator<Object> futures = tasks.futureReplacer(deps);
                UnaryOperator<Object> replacer = o -> {
                    if (o instanceof Delayed<?> c) {
                        Call cc = c.future() == null ? calls.apply(c) : null;
                        if (cc != null && cc.isValue()) {
                            return cc.value(); // inlined; the serializer walks it with this replacer too
                        }
                        String ck = keys.get(c);
                        if (ck == null) {
                            throw new IllegalArgumentException("a Delayed inside an argument of a kind this builder "
                                    + "does not look into (put it directly, or in a list, set, map or record)");
                        }
                        if (c.future() != null) {
                            return futures.apply(c.future());
                        }
                        deps.add(ck);
                        return new Ref(ck);
                    }
                    return futures.apply(o);
                };
                Call dc = calls.apply(d);
                Invokable fn = dc.isValue() ? RemoteOps.IDENTITY : dc.fn();
                List<Object> args = dc.isValue() ? singleton(dc.value()) : dc.args();
                byte[] run = tasks.encodeCall(new TaskCall(fn, args), replacer);
                String key = Keys.pure(dc.isValue() ? "value" : Keys.prefix(fn), run);
                keys.put(d, key);
                specs.putIfAbsent(key, new TaskSpec(key, run, List.copyOf(deps), tasks.nextPriority(priority),
                        WireOptions.of(options)));
            }
        }
        List<String> wanted = new ArrayList<>(roots.size());
        for (Delayed<?> r : roots) {
            wanted.add(keys.get(r));
        }
        return tasks.submitSpecs(new ArrayList<>(specs.values()), wanted);
    }

    /** Every Delayed inside {@code o}: in collections, maps, arrays, optionals and records. */
    private static void walk(Object o, Consumer<Delayed<?>> sink) {
        ArrayDeque<Object> todo = new ArrayDeque<>();
        todo.push(o == null ? List.of() : o);
        while (!todo.isEmpty()) {
            Object x = todo.pop();
            if (x instanceof Delayed<?> d) {
                sink.accept(d);
            } else if (x instanceof Collection<?> c) {
                c.forEach(e -> pushNonNull(todo, e));
            } else if (x instanceof Map<?, ?> m) {
                m.forEach((k, v) -> {
                    pushNonNull(todo, k);
                    pushNonNull(todo, v);
                });
            } else if (x instanceof Object[] a) {
                for (Object e : a) {
                    pushNonNull(todo, e);
                }
            } else if (x instanceof Optional<?> op) {
                op.ifPresent(todo::push);
            } else if (x instanceof Record r) {
                for (RecordComponent rc : r.getClass().getRecordComponents()) {
                    try {
                        rc.getAccessor().setAccessible(true);
                        pushNonNull(todo, rc.getAccessor().invoke(r));
                    } catch (ReflectiveOperationException | RuntimeException e) {
                        // unreadable component: the encoder reports a Delayed it meets there
                    }
                }
            }
        }
    }

    private static void pushNonNull(ArrayDeque<Object> todo, Object o) {
        if (o != null) {
            todo.push(o);
        }
    }
}
