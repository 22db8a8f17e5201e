package dist.api;

import dist.TaskFailedException;
import dist.Client;
import dist.Delayed;
import dist.Future;
import dist.Graph;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Task graphs and Delayed values on a thread-worker cluster. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GraphTest {
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

    static int add(int a, int b) {
        return a + b;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    static int boom(int x) {
        throw new ArithmeticException("boom on " + x);
    }

    @Test
    void theSeedsGraphGivesTwo() throws Exception {
        // dsk = {'x': 1, 'y': (inc, 'x')}; executor.get(dsk, 'y') == 2
        Graph dsk = new Graph().value("seed-x", 1).task("seed-y", GraphTest::inc, Graph.key("seed-x"));
        assertEquals(2, (Integer) client.get(dsk, "seed-y"));
    }

    @Test
    void valuesComeBackInTheShapeOfTheKeys() throws Exception {
        Graph g = new Graph()
                .value("shape-x", 1)
                .task("shape-y", GraphTest::inc, Graph.key("shape-x"))
                .task("shape-z", GraphTest::add, Graph.key("shape-x"), Graph.key("shape-y"))
                .value("shape-l", List.of(Graph.key("shape-y"), Graph.key("shape-z"), 7));
        Object out = client.get(g, List.of("shape-z", List.of("shape-y", List.of("shape-l"))), T);
        assertEquals(List.of(3, List.of(2, List.of(List.of(2, 3, 7)))), out);
    }

    @Test
    void missingKeysAreRefusedBeforeAnythingRunsAndNamed() {
        Graph g = new Graph().task("miss-a", GraphTest::inc, 1).task("miss-b", GraphTest::add, Graph.key("miss-a"),
                Graph.key("miss-nowhere"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> client.get(g, "miss-b"));
        assertTrue(e.getMessage().contains("miss-nowhere") && e.getMessage().contains("miss-b"), e.getMessage());
        assertEquals("null", fx.stateOf("miss-a"), "nothing may reach the scheduler");
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> client.compute(g, "miss-zz"));
        assertTrue(e2.getMessage().contains("miss-zz"), e2.getMessage());
    }

    @Test
    void cyclesAreRefusedWithTheKeysOnTheCycle() {
        Graph g = new Graph()
                .task("cyc-start", GraphTest::inc, 1)
                .task("cyc-a", GraphTest::add, Graph.key("cyc-start"), Graph.key("cyc-c"))
                .task("cyc-b", GraphTest::inc, Graph.key("cyc-a"))
                .task("cyc-c", GraphTest::inc, Graph.key("cyc-b"))
                .task("cyc-out", GraphTest::inc, Graph.key("cyc-c"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> client.get(g, "cyc-out"));
        for (String k : List.of("cyc-a", "cyc-b", "cyc-c")) {
            assertTrue(e.getMessage().contains(k), e.getMessage());
        }
        assertTrue(!e.getMessage().contains("cyc-out"), "only keys on the cycle are named: " + e.getMessage());
        assertEquals("null", fx.stateOf("cyc-start"));
        Graph self = new Graph().task("self", GraphTest::inc, Graph.key("self"));
        assertThrows(IllegalArgumentException.class, () -> client.get(self, "self"));
    }

    @Test
    void intermediatesAreReleasedAndUnneededTasksNeverRun() throws Exception {
        Graph g = new Graph()
                .task("rel-a", GraphTest::inc, 1)
                .task("rel-b", GraphTest::inc, Graph.key("rel-a"))
                .task("rel-c", GraphTest::inc, Graph.key("rel-b"))
                .task("rel-unused", GraphTest::boom, 1);
        Future<Integer> c = client.compute(g, "rel-c");
        assertEquals(4, c.result(T));
        // released: the data is dropped; the scheduler may keep the recipe while a dependent lives
        assertTrue(ClusterFixture.eventually(T, () -> gone(fx.stateOf("rel-a")) && gone(fx.stateOf("rel-b"))),
                "intermediates should be released, are " + fx.stateOf("rel-a") + " and " + fx.stateOf("rel-b"));
        assertEquals("memory", fx.stateOf("rel-c"), "the wanted key stays while its future lives");
        assertEquals("null", fx.stateOf("rel-unused"));
        c.release();
        assertTrue(ClusterFixture.eventually(T, () -> fx.stateOf("rel-c").equals("null")));
    }

    static boolean gone(String state) {
        return state.equals("null") || state.equals("released");
    }

    @Test
    void tenThousandTasks() throws Exception {
        Graph g = new Graph();
        List<Graph.Key> parts = new ArrayList<>();
        for (int i = 0; i < 9_999; i++) {
            g.task("big-" + i, GraphTest::inc, i);
            parts.add(Graph.key("big-" + i));
        }
        g.task("big-total", GraphTest::sum, parts);
        assertEquals(10_000, g.size());
        int expected = 9_999 * 10_000 / 2; // sum of 1..9999
        assertEquals(expected, (Integer) client.get(g, "big-total", T));
        assertTrue(ClusterFixture.eventually(T, () -> gone(fx.stateOf("big-5000"))));
    }

    @Test
    void persistKeepsTheAskedKeysAndFuturesMayFeedGraphs() throws Exception {
        Future<Integer> ten = client.submit(GraphTest::inc, 9);
        Graph g = new Graph().task("per-a", GraphTest::add, ten, 5).task("per-b", GraphTest::inc, Graph.key("per-a"));
        Map<String, Future<Object>> kept = client.persist(g, List.of("per-a", "per-b"));
        assertEquals(16, kept.get("per-b").result(T));
        assertEquals(15, kept.get("per-a").result(T));
        assertEquals("memory", fx.stateOf("per-a"));
    }

    @Test
    void aFailingTaskFailsItsDependents() throws Exception {
        Graph g = new Graph().task("err-a", GraphTest::boom, 3).task("err-b", GraphTest::inc, Graph.key("err-a"));
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> client.get(g, "err-b", T));
        assertInstanceOf(ArithmeticException.class, e.getCause());
    }

    @Test
    void badKeyArgumentsAreRefused() {
        Graph g = new Graph().value("bk", 1);
        assertThrows(IllegalArgumentException.class, () -> client.get(g, (Object) 42));
        assertThrows(IllegalArgumentException.class, () -> g.value(" ", 1));
    }

    // ------------------------------------------------------------------ Delayed

    @Test
    void theSeedsDelayedExample() throws Exception {
        // x = do(add)(1, 2); y = do(add)(x, x); xx, yy = executor.compute([x, y])
        Delayed<Integer> x = Delayed.of(GraphTest::add, 1, 2);
        Delayed<Integer> y = Delayed.of(GraphTest::add, x, x);
        List<Future<Integer>> fs = client.compute(List.of(x, y));
        assertEquals(3, fs.get(0).result(T));
        assertEquals(6, fs.get(1).result(T));
        assertEquals(6, y.compute(client, T));
    }

    @Test
    void delayedInfersDependenciesFromDelayedAndFuturesInsideArguments() throws Exception {
        Future<Integer> f = client.submit(GraphTest::inc, 99);               // 100
        Delayed<Integer> a = Delayed.of(GraphTest::inc, f);                  // 101
        Delayed<Integer> total = Delayed.ofUnchecked(GraphTest::sum, List.of(a, Delayed.value(5), f, Delayed.of(f)));
        assertEquals(101 + 5 + 100 + 100, total.compute(client, T));
        assertEquals(102, a.then(GraphTest::inc).compute(client, T));
    }

    @Test
    void equalCallsShareAKeyAndPersistKeepsTheValue() throws Exception {
        Future<Integer> one = client.compute(Delayed.of(GraphTest::add, 20, 22));
        Future<Integer> two = client.compute(Delayed.of(GraphTest::add, 20, 22));
        assertEquals(one.key(), two.key());
        assertNotEquals(one.key(), client.compute(Delayed.of(GraphTest::add, 22, 20)).key());
        Delayed<Integer> kept = Delayed.of(GraphTest::inc, 1000).persist(client);
        assertEquals(1001, kept.future().result(T));
        assertEquals(1002, Delayed.of(GraphTest::inc, kept).compute(client, T));
        TaskFailedException e = assertThrows(TaskFailedException.class,
                () -> Delayed.of(GraphTest::boom, 1).then(GraphTest::inc).compute(client, T));
        assertInstanceOf(ArithmeticException.class, e.getCause());
    }
}
