package dist.api;

import dist.Bag;
import dist.Client;
import dist.Delayed;
import dist.Fn1;
import dist.Fn2;
import dist.KeyValue;
import dist.Pair;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bag operations that group, join and repartition, each checked against the same operation with
 * Java streams on one machine; on four single-thread workers (threads mode).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BagByKeyTest {
    static final Duration T = Duration.ofSeconds(60);
    static ClusterFixture fx;
    static Client client;

    @BeforeAll
    static void start() throws Exception {
        fx = ClusterFixture.start(4, 1);
        client = fx.client;
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    enum Colour { RED, GREEN, BLUE }

    record Order(int id, int customer, Colour colour) {
    }

    record Customer(int id, String name) {
    }

    static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    static List<String> words() {
        String[] vocabulary = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"};
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            out.add(vocabulary[(i * 7 + i / 3) % vocabulary.length] + (i % 13 == 0 ? "!" : ""));
        }
        return out;
    }

    static <K, V> Map<K, V> asMap(List<KeyValue<K, V>> kvs) {
        Map<K, V> out = new HashMap<>();
        for (KeyValue<K, V> kv : kvs) {
            assertTrue(out.put(kv.key(), kv.value()) == null, "key " + kv.key() + " appears twice");
        }
        return out;
    }

    /** dask: dask/bag/tests/test_bag.py::test_map_partitions_flatten (flatten after map). */
    @Test
    void flatMapMatchesStreams() {
        List<String> lines = List.of("a b c", "", "d e", "f");
        Fn1<String, List<String>> split = l -> l.isEmpty() ? List.of() : List.of(l.split(" "));
        List<String> expected = lines.stream().flatMap(l -> l.isEmpty() ? java.util.stream.Stream.<String>empty()
                : java.util.Arrays.stream(l.split(" "))).toList();
        assertEquals(expected, Bag.fromSequence(lines, 3).flatMap(split).compute(client, T));
    }

    /** dask: dask/bag/tests/test_bag.py::test_groupby (each key once, its elements in order). */
    @Test
    void groupByMatchesStreams() {
        List<String> ws = words();
        Fn1<String, Integer> length = String::length;
        Bag<KeyValue<Integer, List<String>>> grouped = Bag.fromSequence(ws, 7).groupBy(length);
        assertEquals(7, grouped.npartitions());
        Map<Integer, List<String>> expected = ws.stream().collect(Collectors.groupingBy(String::length));
        assertEquals(expected, asMap(grouped.compute(client, T)));
        assertEquals(expected, asMap(Bag.fromSequence(ws, 7).groupBy(length, 3).compute(client, T)));
        assertEquals(3, Bag.fromSequence(ws, 7).groupBy(length, 3).npartitions());
    }

    /**
     * Two consumers of one grouping in one graph, and a grouping of a grouping. In p2p each
     * consumer reads the output partition where it landed, so both must find it there, and a
     * second shuffle's input reads the first's output.
     */
    @Test
    void twoConsumersOfOneGroupingAndAGroupingOfAGrouping() {
        List<Integer> xs = range(2000);
        Fn1<Integer, Integer> mod = x -> x % 37;
        Bag<KeyValue<Integer, List<Integer>>> grouped = Bag.fromSequence(xs, 6).groupBy(mod, 5);
        Fn1<KeyValue<Integer, List<Integer>>, Integer> size = kv -> kv.value().size();
        Fn2<Long, Number, List<Object>> both = (groups, total) -> List.of(groups, total);
        assertEquals(List.of(37L, 2000L), Delayed.of(both, grouped.count(), grouped.map(size).sum()).compute(client, T));

        Map<Integer, Long> keysBySize = xs.stream().collect(Collectors.groupingBy(x -> x % 37, Collectors.counting()))
                .values().stream().collect(Collectors.groupingBy(c -> (int) (long) c, Collectors.counting()));
        Fn1<KeyValue<Integer, List<KeyValue<Integer, List<Integer>>>>, KeyValue<Integer, Long>> keys =
                kv -> new KeyValue<>(kv.key(), (long) kv.value().size());
        assertEquals(keysBySize, asMap(grouped.groupBy(size, 3).map(keys).compute(client, T)));
    }

    /** Keys hash the same on every JVM: enum and record keys (identity hash codes) still meet. */
    @Test
    void groupByEnumAndRecordKeys() {
        List<Order> orders = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            orders.add(new Order(i, i % 17, Colour.values()[i % 3]));
        }
        Fn1<Order, Colour> colour = Order::colour;
        assertEquals(orders.stream().collect(Collectors.groupingBy(Order::colour)),
                asMap(Bag.fromSequence(orders, 6).groupBy(colour).compute(client, T)));
        Fn1<Order, Customer> who = o -> new Customer(o.customer(), "c" + o.customer());
        assertEquals(orders.stream().collect(Collectors.groupingBy(o -> new Customer(o.customer(), "c" + o.customer()))),
                asMap(Bag.fromSequence(orders, 6).groupBy(who).compute(client, T)));
    }

    /** dask: dask/bag/tests/test_bag.py::test_foldby. */
    @Test
    void foldByMatchesStreams() {
        List<Integer> xs = range(1000);
        Fn1<Integer, Integer> mod7 = x -> x % 7;
        Fn2<Long, Integer, Long> add = (acc, x) -> acc + x;
        Fn2<Long, Long, Long> merge = Long::sum;
        Map<Integer, Long> expected = xs.stream().collect(Collectors.groupingBy(x -> x % 7, Collectors.summingLong(x -> x)));
        Bag<KeyValue<Integer, Long>> folded = Bag.fromSequence(xs, 9).foldBy(mod7, add, 0L, merge);
        assertEquals(1, folded.npartitions());
        assertEquals(expected, asMap(folded.compute(client, T)));
        assertEquals(Map.of(), asMap(Bag.fromSequence(List.<Integer>of(), 2).foldBy(mod7, add, 0L, merge).compute(client, T)));
    }

    /** dask: dask/bag/tests/test_bag.py::test_frequencies. */
    @Test
    void frequenciesMatchStreams() {
        List<String> ws = words();
        Map<String, Long> expected = ws.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
        assertEquals(expected, asMap(Bag.fromSequence(ws, 5).frequencies().compute(client, T)));
    }

    /** dask: dask/bag/tests/test_bag.py::test_distinct. */
    @Test
    void distinctMatchesStreams() {
        List<String> ws = words();
        List<String> got = Bag.fromSequence(ws, 6).distinct().compute(client, T);
        assertEquals(got.size(), new HashSet<>(got).size(), "no element twice");
        assertEquals(new HashSet<>(ws), new HashSet<>(got));
        assertEquals(List.of(), Bag.fromSequence(List.<String>of(), 3).distinct().compute(client, T));
    }

    /** dask: dask/bag/tests/test_bag.py::test_topk and test_topk_with_non_callable_key (a key). */
    @Test
    void topKMatchesStreams() {
        List<Integer> xs = new ArrayList<>(range(200));
        java.util.Collections.shuffle(xs, new java.util.Random(7));
        assertEquals(xs.stream().sorted(Comparator.reverseOrder()).limit(5).toList(),
                Bag.fromSequence(xs, 8).topK(5, Comparator.naturalOrder()).compute(client, T));
        Comparator<Integer> smallest = (Comparator<Integer> & Serializable) (a, b) -> Integer.compare(b, a);
        assertEquals(xs.stream().sorted().limit(3).toList(), Bag.fromSequence(xs, 8).topK(3, smallest).compute(client, T));
        Fn1<String, Integer> length = String::length;
        List<String> ws = List.of("a", "abcd", "ab", "abcdef", "abc");
        assertEquals(List.of("abcdef", "abcd"), Bag.fromSequence(ws, 3).topKBy(2, length).compute(client, T));
        Comparator<Integer> plain = (a, b) -> a - b;
        assertThrows(IllegalArgumentException.class, () -> Bag.fromSequence(xs, 2).topK(1, plain));
    }

    /** dask: dask/bag/tests/test_bag.py::test_join (every matching pair, here between two bags). */
    @Test
    void joinOfTwoBagsMatchesStreams() {
        List<Order> orders = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            orders.add(new Order(i, (i * 31) % 60, Colour.RED));
        }
        List<Customer> customers = new ArrayList<>();
        for (int c = 0; c < 50; c++) {
            customers.add(new Customer(c, "c" + c));
            if (c % 10 == 0) {
                customers.add(new Customer(c, "twin" + c));   // a key on the right twice: both pairs
            }
        }
        Fn1<Order, Integer> byCustomer = Order::customer;
        Fn1<Customer, Integer> byId = Customer::id;
        List<Pair<Order, Customer>> got = Bag.fromSequence(orders, 5).join(Bag.fromSequence(customers, 3), byCustomer, byId)
                .compute(client, T);
        List<Pair<Order, Customer>> expected = new ArrayList<>();
        for (Order o : orders) {
            for (Customer c : customers) {
                if (c.id() == o.customer()) {
                    expected.add(new Pair<>(o, c));
                }
            }
        }
        Comparator<Pair<Order, Customer>> order = Comparator.<Pair<Order, Customer>>comparingInt(p -> p.left().id())
                .thenComparing(p -> p.right().name());
        assertEquals(expected.stream().sorted(order).toList(), got.stream().sorted(order).toList());
    }

    /** dask: dask/bag/tests/test_bag.py::test_join (the other side an in-memory collection). */
    @Test
    void joinWithAMapKeepsOrder() {
        Map<Integer, String> names = new TreeMap<>(Map.of(1, "one", 3, "three"));
        Fn1<Integer, Integer> mod4 = x -> x % 4;
        List<Pair<Integer, String>> expected = range(20).stream().filter(x -> names.containsKey(x % 4))
                .map(x -> new Pair<>(x, names.get(x % 4))).toList();
        assertEquals(expected, Bag.fromSequence(range(20), 3).join(names, mod4).compute(client, T));
    }

    /** dask: dask/bag/tests/test_bag.py::test_repartition_npartitions (more and fewer, order kept). */
    @Test
    void repartitionKeepsOrder() {
        List<Integer> xs = range(101);
        Bag<Integer> b = Bag.fromSequence(xs, 7);
        for (int n : new int[] {1, 3, 7, 10, 23}) {
            Bag<Integer> r = b.repartition(n);
            assertEquals(n, r.npartitions());
            assertEquals(xs, r.compute(client, T));
        }
        assertThrows(IllegalArgumentException.class, () -> b.repartition(0));
    }
}
