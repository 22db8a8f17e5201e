package dist.client;

import dist.Fn1;
import dist.Fn2;

import java.util.ArrayList;
import java.util.List;

/**
 * The per-element steps (map, filter, flatMap) a bag has not run yet on a partition, run in one
 * pass inside the task that next needs the elements, as dask.bag fuses such chains: the partitions
 * in between are never stored, encoded or moved. {@code bag.flatMap(f).groupBy(k)} is one task per
 * input partition, not two. Internal: public only so {@code dist.Bag} can name it.
 *
 * <p>A pipeline may also start from a {@code source}, a function that makes the partition from the
 * task's input: a p2p shuffle's output partition is read from the shards its worker received, in
 * the task that consumes it, so the grouped partition is never stored or encoded either. Such a
 * task is named by its source ({@code p2pShuffleUnpack-<j>}), whatever it does after, because the
 * scheduler runs it on output j's owner by that name.
 *
 * @param source makes the partition from the task's input (null: the input is the partition)
 * @param steps  in the order they were called
 */
public record BagPipeline(Fn1<Object, List<Object>> source, List<Step> steps) implements Fn1<Object, List<Object>>, Keys.Named {
    public static final int MAP = 0, FILTER = 1, FLAT_MAP = 2;

    /** No step: a partition as it is. */
    public static final BagPipeline NONE = new BagPipeline(null, List.of());

    /** One step: {@code fn} is the map function, the predicate, or the function giving an iterable. */
    public record Step(int kind, Fn1<Object, Object> fn) {
    }

    public BagPipeline {
        steps = List.copyOf(steps);
    }

    /** No step yet, the partition made by {@code source} from the task's input. */
    public static BagPipeline from(Fn1<Object, List<Object>> source) {
        return new BagPipeline(java.util.Objects.requireNonNull(source, "source"), List.of());
    }

    /** These steps, then {@code fn} as a step of {@code kind}. */
    public BagPipeline then(int kind, Fn1<Object, Object> fn) {
        List<Step> more = new ArrayList<>(steps.size() + 1);
        more.addAll(steps);
        more.add(new Step(kind, fn));
        return new BagPipeline(source, more);
    }

    /** Neither a source nor a step: the task's input is the partition as it is. */
    public boolean isEmpty() {
        return source == null && steps.isEmpty();
    }

    /** Whether a source makes the partition: such a pipeline must run in a task named by it. */
    public boolean hasSource() {
        return source != null;
    }

    /**
     * The partition the source and the steps make of {@code input}: a new list, or the list itself
     * when there is neither.
     */
    @Override
    @SuppressWarnings("unchecked")
    public List<Object> apply(Object input) throws Exception {
        List<Object> part = source == null ? (List<Object>) input : source.apply(input);
        if (steps.isEmpty()) {
            return part;
        }
        Step[] s = steps.toArray(Step[]::new);
        List<Object> out = new ArrayList<>(part.size());
        for (Object x : part) {
            push(s, 0, x, out);
        }
        return out;
    }

    /** Runs element {@code x} through steps {@code i..} into {@code out}. */
    private static void push(Step[] s, int i, Object x, List<Object> out) throws Exception {
        for (; i < s.length; i++) {
            Step step = s[i];
            switch (step.kind) {
                case MAP -> x = step.fn.apply(x);
                case FILTER -> {
                    if (!Boolean.TRUE.equals(step.fn.apply(x))) {
                        return;
                    }
                }
                default -> {
                    Object many = step.fn.apply(x);
                    if (many == null) {
                        return;
                    }
                    if (i == s.length - 1 && many instanceof java.util.Collection<?> c) {
                        out.addAll(c); // the last step: one bulk copy
                        return;
                    }
                    for (Object y : (Iterable<?>) many) {
                        push(s, i + 1, y, out);
                    }
                    return;
                }
            }
        }
        out.add(x);
    }

    /** A partition made on its own is named by its source, else by its last step, as the unfused task was. */
    @Override
    public String keyPrefix() {
        return named(null);
    }

    /** The name of a task that runs this pipeline then does {@code what}: its source's name when it has one. */
    public String named(String what) {
        if (source instanceof Keys.Named n) {
            return n.keyPrefix();
        }
        if (what != null) {
            return what;
        }
        if (steps.isEmpty()) {
            return "partition";
        }
        return switch (steps.getLast().kind) {
            case MAP -> "mapPartition";
            case FILTER -> "filterPartition";
            default -> "flatMapPartition";
        };
    }

    // ------------------------------------------------------------------ tasks that run the steps first

    /**
     * A task over one partition: the pipeline, then {@code consume} on the list it makes, so that
     * list is never stored. Named {@code name}, or by the pipeline's source when it has one.
     */
    public record Consume(String name, BagPipeline steps, Fn1<List<Object>, Object> consume)
            implements Fn1<Object, Object>, Keys.Named {
        @Override
        public Object apply(Object input) throws Exception {
            return consume.apply(steps.apply(input));
        }

        @Override
        public String keyPrefix() {
            return steps.named(name);
        }
    }

    /** Folds a partition from {@code initial} with {@code binop}. */
    public record Fold(Fn2<Object, Object, Object> binop, Object initial) implements Fn1<List<Object>, Object> {
        @Override
        public Object apply(List<Object> part) throws Exception {
            return RemoteOps.foldPartition(binop, initial, part);
        }
    }

    /** Reduces a partition with {@code binop}. */
    public record Reduce(Fn2<Object, Object, Object> binop) implements Fn1<List<Object>, Object> {
        @Override
        public Object apply(List<Object> part) throws Exception {
            return RemoteOps.reducePartition(binop, part);
        }
    }
}
