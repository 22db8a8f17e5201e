package dist.client;

import dist.Fn1;
import dist.Fn2;
import dist.KeyValue;
import dist.Pair;
import dist.serial.Serializer;
import dist.worker.ShuffleService;
import dist.worker.TaskContext;

import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * What a bag's grouping, joining and repartitioning tasks run on the workers. Internal: public only
 * so {@code dist.Bag} can name it.
 */
public final class BagOps {
    private BagOps() {
    }

    // ------------------------------------------------------------------ hashing keys to output partitions

    /**
     * Which of {@code n} output partitions a key goes to. The same on every JVM, which
     * {@code hashCode} is not for enums and other identity-hashed types: enums hash by class and
     * name, records and lists by their parts, everything else by its own {@code hashCode}.
     */
    public static int partitionOf(Object key, int n) {
        return Math.floorMod(mix(stableHash(key)), n);
    }

    public static int stableHash(Object key) {
        if (key == null) {
            return 0;
        }
        if (key instanceof Enum<?> e) {
            return e.getDeclaringClass().getName().hashCode() * 31 + e.name().hashCode();
        }
        if (key instanceof List<?> list) {
            int h = 1;
            for (Object x : list) {
                h = 31 * h + stableHash(x);
            }
            return h;
        }
        if (key instanceof Record r) {
            int h = r.getClass().getName().hashCode();
            for (Method m : ACCESSORS.get(r.getClass())) {
                try {
                    h = 31 * h + stableHash(m.invoke(r));
                } catch (ReflectiveOperationException ex) {
                    return r.hashCode();
                }
            }
            return h;
        }
        return key.hashCode();
    }

    private static final ClassValue<Method[]> ACCESSORS = new ClassValue<>() {
        @Override
        protected Method[] computeValue(Class<?> c) {
            RecordComponent[] rc = c.getRecordComponents();
            Method[] out = new Method[rc.length];
            for (int i = 0; i < rc.length; i++) {
                out[i] = rc[i].getAccessor();
                out[i].setAccessible(true);
            }
            return out;
        }
    };

    /** Spreads small integer hashes (Integer keys 0..n) over all partitions (murmur3's finalizer). */
    private static int mix(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        return h ^ (h >>> 16);
    }

    // ------------------------------------------------------------------ the task-based shuffle

    /**
     * A partition cut into {@code n} buckets by the output partition of each element's key; with a
     * {@code tag} of 0 or more each element travels as a {@link Tagged} (the two sides of a join).
     */
    public static List<List<Object>> split(Fn1<Object, Object> key, int n, int tag, BagPipeline steps, List<Object> input)
            throws Exception {
        List<Object> part = steps.apply(input);
        // the partition of each element first, so that each bucket is made at its size once
        int size = part.size();
        int[] to = new int[size];
        int[] counts = new int[n];
        int i = 0;
        for (Object t : part) {
            int j = partitionOf(key.apply(t), n);
            to[i++] = j;
            counts[j]++;
        }
        List<List<Object>> out = new ArrayList<>(n);
        for (int j = 0; j < n; j++) {
            out.add(new ArrayList<>(counts[j]));
        }
        i = 0;
        for (Object t : part) {
            out.get(to[i++]).add(tag < 0 ? t : new Tagged(tag, t));
        }
        return out;
    }

    /** An element of one side of a join on its way to its output partition. */
    public record Tagged(int side, Object value) {
    }

    public static List<Object> bucket(List<List<Object>> split, int j) {
        return split.get(j);
    }

    public static List<Object> concat(List<List<Object>> parts) {
        int size = 0;
        for (List<Object> p : parts) {
            size += p.size();
        }
        List<Object> out = new ArrayList<>(size);
        parts.forEach(out::addAll);
        return out;
    }

    // ------------------------------------------------------------------ what an output partition makes of its elements

    /** What an output partition makes of its buckets (one per input, in input order). */
    public static List<Object> finish(Fn1<List<List<Object>>, List<Object>> finish, List<List<Object>> buckets) throws Exception {
        return finish.apply(buckets);
    }

    /** Every element of the buckets, in order. */
    public record Concat() implements Fn1<List<List<Object>>, List<Object>> {
        @Override
        public List<Object> apply(List<List<Object>> buckets) {
            return concat(buckets);
        }
    }

    /** Groups in the order their keys first appear. */
    public record Group(Fn1<Object, Object> key) implements Fn1<List<List<Object>>, List<Object>> {
        @Override
        public List<Object> apply(List<List<Object>> buckets) throws Exception {
            // each element's group first (one hash lookup each), so that each group's list is made
            // at its size once instead of growing by copies
            int size = 0;
            for (List<Object> part : buckets) {
                size += part.size();
            }
            Map<Object, Integer> index = new HashMap<>();
            List<Object> keys = new ArrayList<>();
            int[] group = new int[size];
            int[] counts = new int[16];
            int i = 0;
            for (List<Object> part : buckets) {
                for (Object t : part) {
                    Object k = key.apply(t);
                    Integer g = index.get(k);
                    if (g == null) {
                        g = keys.size();
                        index.put(k, g);
                        keys.add(k);
                        if (g == counts.length) {
                            counts = Arrays.copyOf(counts, 2 * g);
                        }
                    }
                    group[i++] = g;
                    counts[g]++;
                }
            }
            List<List<Object>> lists = new ArrayList<>(keys.size());
            for (int g = 0; g < keys.size(); g++) {
                lists.add(new ArrayList<>(counts[g]));
            }
            i = 0;
            for (List<Object> part : buckets) {
                for (Object t : part) {
                    lists.get(group[i++]).add(t);
                }
            }
            List<Object> out = new ArrayList<>(keys.size());
            for (int g = 0; g < keys.size(); g++) {
                out.add(new KeyValue<>(keys.get(g), lists.get(g)));
            }
            return out;
        }
    }

    /** Each element once, in the order first seen. */
    public record Distinct() implements Fn1<List<List<Object>>, List<Object>> {
        @Override
        public List<Object> apply(List<List<Object>> buckets) {
            LinkedHashSet<Object> seen = new LinkedHashSet<>();
            buckets.forEach(seen::addAll);
            return new ArrayList<>(seen);
        }
    }

    /** An inner hash join of the {@link Tagged} sides (0 left, 1 right), in the left side's order. */
    public record Join(Fn1<Object, Object> leftKey, Fn1<Object, Object> rightKey) implements Fn1<List<List<Object>>, List<Object>> {
        @Override
        public List<Object> apply(List<List<Object>> buckets) throws Exception {
            Map<Object, List<Object>> byKey = new HashMap<>();
            List<Object> left = new ArrayList<>();
            for (List<Object> part : buckets) {
                for (Object o : part) {
                    Tagged t = (Tagged) o;
                    if (t.side() == 0) {
                        left.add(t.value());
                    } else {
                        byKey.computeIfAbsent(rightKey.apply(t.value()), k -> new ArrayList<>(1)).add(t.value());
                    }
                }
            }
            List<Object> out = new ArrayList<>();
            for (Object l : left) {
                List<Object> matches = byKey.get(leftKey.apply(l));
                if (matches != null) {
                    for (Object r : matches) {
                        out.add(new Pair<>(l, r));
                    }
                }
            }
            return out;
        }
    }

    // ------------------------------------------------------------------ the peer-to-peer shuffle's tasks

    /**
     * A shuffle input: cuts the partition by output partition and sends the encoded shards to the
     * workers owning those partitions; the value says which run they went to. The scheduler knows
     * these tasks by this method's name.
     */
    public static ShuffleService.Sent p2pShuffleTransfer(int n, Fn1<Object, Object> key, int tag, int input, BagPipeline steps,
                                                         List<Object> part) throws Exception {
        List<List<Object>> buckets = split(key, n, tag, steps, part);
        byte[][] shards = new byte[n][];
        for (int j = 0; j < n; j++) {
            shards[j] = Serializer.defaults().encode(buckets.get(j));
            buckets.set(j, null);
        }
        return ShuffleService.send(input, shards);
    }

    /** Waits for every input (as its dependencies): their shards are all with the partitions' owners. */
    public static ShuffleService.Ready p2pShuffleBarrier(List<ShuffleService.Sent> inputs) throws Exception {
        return ShuffleService.barrier(inputs);
    }

    /**
     * A shuffle output, partition {@code j}: reads the shards its worker received and finishes them.
     * Its keys are {@code p2pShuffleUnpack-<j>-<hash>}: the scheduler reads j there to run it on j's owner.
     */
    public record P2PShuffleUnpack(int j, Fn1<List<List<Object>>, List<Object>> finish)
            implements Fn1<ShuffleService.Ready, List<Object>>, Keys.Named {
        @Override
        @SuppressWarnings("unchecked")
        public List<Object> apply(ShuffleService.Ready ready) throws Exception {
            List<byte[]> shards = ShuffleService.collect(ready, j);
            ClassLoader loader = TaskContext.current().classLoader();
            List<List<Object>> buckets = new ArrayList<>(shards.size());
            for (int i = 0; i < shards.size(); i++) {
                buckets.add((List<Object>) Serializer.defaults().decode(shards.get(i), null, loader, null));
                shards.set(i, null);
            }
            return finish.apply(buckets);
        }

        @Override
        public String keyPrefix() {
            return "p2pShuffleUnpack-" + j;
        }
    }

    /** A join against a map that travels with the task: one pair per element whose key it holds. */
    public record JoinMap(Fn1<Object, Object> key, Map<Object, Object> other) implements Fn1<List<Object>, Object> {
        @Override
        public Object apply(List<Object> part) throws Exception {
            List<Object> out = new ArrayList<>();
            for (Object t : part) {
                Object k = key.apply(t);
                if (other.containsKey(k)) {
                    out.add(new Pair<>(t, other.get(k)));
                }
            }
            return out;
        }
    }

    // ------------------------------------------------------------------ reductions to one partition

    /** A partition folded per key: key to its value from {@code initial} with {@code binop}, in first-seen order. */
    public record FoldBy(Fn1<Object, Object> key, Fn2<Object, Object, Object> binop, Object initial)
            implements Fn1<List<Object>, Object> {
        @Override
        public Object apply(List<Object> part) throws Exception {
            Map<Object, Object> acc = new LinkedHashMap<>();
            for (Object t : part) {
                Object k = key.apply(t);
                Object prev = acc.containsKey(k) ? acc.get(k) : initial;
                acc.put(k, binop.apply(prev, t));
            }
            return acc;
        }
    }

    /** Merges two partial foldBy maps key by key with the user's combine. */
    public record MergeFolds(Fn2<Object, Object, Object> combine) implements Fn2<Map<Object, Object>, Map<Object, Object>, Map<Object, Object>> {
        @Override
        public Map<Object, Object> apply(Map<Object, Object> a, Map<Object, Object> b) throws Exception {
            Map<Object, Object> out = new LinkedHashMap<>(a);
            for (Map.Entry<Object, Object> e : b.entrySet()) {
                out.put(e.getKey(), out.containsKey(e.getKey()) ? combine.apply(out.get(e.getKey()), e.getValue()) : e.getValue());
            }
            return out;
        }
    }

    /** The folded map as one partition of key-value records; an empty bag folds to no records. */
    public static List<Object> entries(Object folded) {
        List<Object> out = new ArrayList<>();
        if (folded instanceof Map<?, ?> m) {
            m.forEach((k, v) -> out.add(new KeyValue<>(k, v)));
        }
        return out;
    }

    public static Object countOne(Object acc, Object ignored) {
        return (Long) acc + 1;
    }

    public static Object addLongs(Object a, Object b) {
        return (Long) a + (Long) b;
    }

    /** The {@code k} largest of a partition, largest first. */
    public record TopK(int k, Comparator<Object> cmp) implements Fn1<List<Object>, Object> {
        @Override
        public Object apply(List<Object> part) {
            return new MergeTopK(k, cmp).keep(part);
        }
    }

    /** Keeps the {@code k} largest of two partial top-k lists. */
    public record MergeTopK(int k, Comparator<Object> cmp) implements Fn2<List<Object>, List<Object>, List<Object>> {
        @Override
        public List<Object> apply(List<Object> a, List<Object> b) {
            List<Object> both = new ArrayList<>(a.size() + b.size());
            both.addAll(a);
            both.addAll(b);
            return keep(both);
        }

        List<Object> keep(Collection<Object> xs) {
            PriorityQueue<Object> heap = new PriorityQueue<>(Math.max(1, k), cmp);
            for (Object x : xs) {
                if (heap.size() < k) {
                    heap.add(x);
                } else if (k > 0 && cmp.compare(x, heap.peek()) > 0) {
                    heap.poll();
                    heap.add(x);
                }
            }
            List<Object> out = new ArrayList<>(heap);
            out.sort(cmp.reversed());
            return out;
        }
    }

    /** Orders by a key the user function gives (natural order of the key). */
    public record ByKey(Fn1<Object, Comparable<Object>> key) implements Comparator<Object>, java.io.Serializable {
        @Override
        public int compare(Object a, Object b) {
            try {
                return key.apply(a).compareTo(key.apply(b));
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    public static List<Object> topKResult(Object merged) {
        return merged instanceof List<?> l ? new ArrayList<>(l) : new ArrayList<>();
    }

    // ------------------------------------------------------------------ repartition keeping order

    /** Piece {@code i} of {@code k} nearly equal contiguous pieces of a partition. */
    public static List<Object> slice(int i, int k, List<Object> part) {
        int from = (int) ((long) part.size() * i / k);
        int to = (int) ((long) part.size() * (i + 1) / k);
        return new ArrayList<>(part.subList(from, to));
    }
}
