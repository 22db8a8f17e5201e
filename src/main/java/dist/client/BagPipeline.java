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
 * @param steps in the order they were called
 */
public record BagPipeline(List<Step> steps) implements Fn1<List<Object>, List<Object>>, Keys.Named {
    public static final int MAP = 0, FILTER = 1, FLAT_MAP = 2;

    /** No step: a partition as it is. */
    public static final BagPipeline NONE = new BagPipeline(List.of());

    /** One step: {@code fn} is the map function, the predicate, or the function giving an iterable. */
    public record Step(int kind, Fn1<Object, Object> fn) {
    }

    public BagPipeline {
        steps = List.copyOf(steps);
    }

    /** These steps, then {@code fn} as a step of {@code kind}. */
    public BagPipeline then(int kind, Fn1<Object, Object> fn) {
        List<Step> more = new ArrayList<>(steps.size() + 1);
        more.addAll(steps);
        more.add(new Step(kind, fn));
        return new BagPipeline(more);
    }

    public boolean isEmpty() {
        return steps.isEmpty();
    }

    /** The partition the steps make of {@code part}: a new list, or {@code part} itself when there is no step. */
    @Override
    public List<Object> apply(List<Object> part) throws Exception {
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

    /** A partition made on its own is named by its last step, as the unfused task was. */
    @Override
    public String keyPrefix() {
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

    public static Object foldPartition(Fn2<Object, Object, Object> binop, Object initial, BagPipeline steps,
                                       List<Object> part) throws Exception {
        return RemoteOps.foldPartition(binop, initial, steps.apply(part));
    }

    public static Object reducePartition(Fn2<Object, Object, Object> binop, BagPipeline steps, List<Object> part)
            throws Exception {
        return RemoteOps.reducePartition(binop, steps.apply(part));
    }
}
