package dist.api;

import dist.Client;
import dist.Delayed;
import dist.Fn6;
import dist.Future;
import dist.Futures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The typed submit, map and Delayed.of run what they compile: values and futures mixed in any
 * position, lambdas with inferred parameters, and collections of futures passed as their values.
 * What javac accepts and rejects is checked in {@code dist.TypedCallsCompileTest}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TypedCallsTest {
    static final Duration T = Duration.ofSeconds(30);
    static ClusterFixture fx;
    static Client client;

    @BeforeAll
    static void start() throws Exception {
        fx = ClusterFixture.start(2, 2);
        client = fx.client;
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    static int inc(int x) {
        return x + 1;
    }

    static int square(int x) {
        return x * x;
    }

    static int neg(int x) {
        return -x;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    static int sumSet(Set<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    static int total(Map<String, Integer> m) {
        return m.values().stream().mapToInt(Integer::intValue).sum();
    }

    static String describe(int a, String b, long c) {
        return a + b + c;
    }

    record Pair(Object left, Object right) {
    }

    static int pairSum(Pair p) {
        return (Integer) p.left() + (Integer) p.right();
    }

    @Test
    void implicitlyTypedLambdaRunsWithTheValuesType() throws Exception {
        int k = 7;
        assertEquals(42, client.submit(v -> v * k, 6).result(T));
        assertEquals("AB", client.submit((a, b) -> a + b, "A", "B").result(T));
    }

    @Test
    void valuesAndFuturesMixAtArity6() throws Exception {
        Future<Integer> one = client.submit(TypedCallsTest::inc, 0);
        Fn6<Integer, Integer, Integer, Integer, Integer, Integer, Integer> weigh =
                (a, b, c, d, e, f) -> a + 10 * b + 100 * c + 1000 * d + 10000 * e + 100000 * f;
        assertEquals(654321, client.submit(weigh, one, 2, 3, 4, 5, 6).result(T));
        assertEquals(654321, client.submit(weigh, 1, 2, client.submit(TypedCallsTest::inc, 2), 4, 5,
                client.submit(TypedCallsTest::inc, 5)).result(T));
        Future<String> b = client.submit(v -> v + "!", "b");
        assertEquals("1b!3", client.submit(TypedCallsTest::describe, one, b, 3L).result(T));
    }

    /** The quickstart: a map over futures, then their values summed by a function taking a list. */
    @Test
    void mapOverFuturesThenSumThroughAll() throws Exception {
        List<Integer> range = IntStream.range(0, 10).boxed().toList();
        List<Future<Integer>> squares = client.map(TypedCallsTest::square, range);
        List<Future<Integer>> negs = client.map(TypedCallsTest::neg, squares);
        assertEquals(-285, client.submit(TypedCallsTest::sum, Futures.all(negs)).result(T));
        List<Future<Integer>> shifted = client.map((Integer x, Integer y) -> x + y, squares, List.of(100, 200));
        assertEquals(List.of(100, 201), client.gather(shifted));
    }

    @Test
    void setsAndMapsOfFuturesPassAsTheirValues() throws Exception {
        Future<Integer> x = client.submit(TypedCallsTest::inc, 1);
        Future<Integer> y = client.submit(TypedCallsTest::inc, 10);
        assertEquals(13, client.submit(TypedCallsTest::sumSet, Futures.all(Set.of(x, y))).result(T));
        assertEquals(13, client.submit(TypedCallsTest::total, Futures.all(Map.of("x", x, "y", y))).result(T));
        assertEquals(13, client.submitUnchecked(TypedCallsTest::pairSum, new Pair(x, y)).result(T));
    }

    @Test
    void delayedOfMixesValuesDelayedAndFutures() throws Exception {
        Future<Integer> f = client.submit(TypedCallsTest::inc, 1);                 // 2
        Delayed<Integer> d = Delayed.of(TypedCallsTest::inc, f);                   // 3
        Delayed<Integer> s = Delayed.of(TypedCallsTest::describe, d, "-", 4L)
                .then(String::length);                                             // "3-4"
        assertEquals(3, s.compute(client, T));
        Delayed<Integer> all = Delayed.of(TypedCallsTest::sum, Delayed.all(List.of(d, d, f)));
        assertEquals(8, all.compute(client, T));
        assertEquals(8, Delayed.of((a, b) -> a * b, 2, 4).compute(client, T));
    }
}
