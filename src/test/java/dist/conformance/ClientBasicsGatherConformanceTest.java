package dist.conformance;

import dist.TaskFailedException;
import dist.TaskCancelledException;
import dist.Client;
import dist.Fn2;
import dist.Future;
import dist.Futures;
import dist.Graph;
import dist.Options;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Gather (errors skipped, another client's futures), wait, get on graphs and futures_of, ported from
 * dask's distributed/tests/test_client.py, on one scheduler with two workers of two threads.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientBasicsGatherConformanceTest {
    static final Duration T = ClientBasicsCluster.T;
    static final Options IMPURE = Options.defaults().pure(false);
    static ClientBasicsCluster cluster;
    static Client client;

    static int inc(int x) {
        return x + 1;
    }

    static int add(int x, int y) {
        return x + y;
    }

    static double div(int x, int y) {
        if (y == 0) {
            throw new ArithmeticException("division by zero");
        }
        return (double) x / y;
    }

    static int slowinc(int x, int delayMs) throws InterruptedException {
        Thread.sleep(delayMs);
        return x + 1;
    }

    /** dask's block_on_event: the thread workers share this JVM, so a latch stands for the Event. */
    static final CountDownLatch EVENT = new CountDownLatch(1);

    static int blockOnEvent(int tag) throws InterruptedException {
        if (!EVENT.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("event never set");
        }
        return tag;
    }

    static Throwable cause(Future<?> f) {
        return assertThrows(TaskFailedException.class, () -> f.result(T)).getCause();
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = ClientBasicsCluster.start(2, 2);
        client = cluster.client;
    }

    @AfterAll
    static void stop() {
        EVENT.countDown();
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * dask: test_client.py::test_gather — gather of a future is its value, of [x] is [11], and of
     * {"x": x, "y": [y]} keeps the shape: {"x": 11, "y": [12]}.
     */
    @Test
    void gather() throws Exception {
        Future<Integer> x = client.submit(ClientBasicsGatherConformanceTest::inc, 10);
        Future<Integer> y = client.submit(ClientBasicsGatherConformanceTest::inc, x);
        assertEquals(11, client.gather((Object) x, T));
        assertEquals(List.of(11), client.gather((Object) List.of(x), T));
        assertEquals(Map.of("x", 11, "y", List.of(12)), client.gather((Object) Map.of("x", x, "y", List.of(y)), T));
    }

    /**
     * dask: test_client.py::test_gather_mismatched_client — gathering a future of another client
     * raises the ValueError counterpart, saying it was made by another client.
     */
    @Test
    void gatherMismatchedClient() throws Exception {
        try (Client c2 = cluster.newClient()) {
            Future<Integer> x = client.submit(ClientBasicsGatherConformanceTest::inc, 10);
            Future<Integer> y = c2.submit(ClientBasicsGatherConformanceTest::inc, 5);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> client.gather((Object) List.of(x, y), T));
            assertTrue(e.getMessage().contains("another client"), e.getMessage());
        }
    }

    /**
     * dask: test_client.py::test_gather_sync, test_gather_strict — gather of [div(2, 1), div(1, 0)]
     * raises the division error; with errors skipped it gives only [2].
     */
    @Test
    void gatherStrictAndSkip() throws Exception {
        Future<Integer> x0 = client.submit(ClientBasicsGatherConformanceTest::inc, 1);
        assertEquals(2, client.gather((Object) x0, T));
        Future<Double> x = client.submit(ClientBasicsGatherConformanceTest::div, 2, 1);
        Future<Double> y = client.submit(ClientBasicsGatherConformanceTest::div, 1, 0);
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> client.gather((Object) List.of(x, y), T));
        assertInstanceOf(ArithmeticException.class, e.getCause());
        Futures.wait(List.of(x, y), T); // so the skipping gather below does not wait unbounded
        assertEquals(List.of(2.0), client.gather(List.of(x, y), Client.GatherErrors.SKIP));
        assertEquals(List.of(2.0, 2.0), client.gather(List.of(x, x), Client.GatherErrors.SKIP));
        TaskFailedException raised = assertThrows(TaskFailedException.class,
                () -> client.gather(List.of(x, y), Client.GatherErrors.RAISE));
        assertInstanceOf(ArithmeticException.class, raised.getCause());
    }

    /**
     * dask: test_client.py::test_gather_skip — a failing div(1, 0) at priority 10 and a 500 ms
     * slowinc(1): gather with errors skipped waits for the slow one and gives [2]. A cancelled future
     * is skipped too.
     */
    @Test
    void gatherSkip() throws Exception {
        Future<Double> x = client.with(IMPURE.priority(10)).submit(ClientBasicsGatherConformanceTest::div, 1, 0);
        Future<Integer> y = client.with(IMPURE).submit(ClientBasicsGatherConformanceTest::slowinc, 1, 500);
        Futures.wait(List.of(x, y), T); // a bound for the wait inside the skipping gather
        assertEquals(List.of(2), client.gather(List.<Future<?>>of(x, y), Client.GatherErrors.SKIP));
        Future<Integer> z = client.with(IMPURE).submit(ClientBasicsGatherConformanceTest::slowinc, 5, 10_000);
        client.cancel(List.of(z));
        assertEquals(List.of(2), client.gather(List.<Future<?>>of(z, y), Client.GatherErrors.SKIP));
    }

    static class TypeErrorLike extends RuntimeException {
    }

    static class AttributeErrorLike extends RuntimeException {
    }

    /**
     * dask: test_client.py::test_gather_errors — gathering a future whose function raised TypeError
     * raises TypeError, and one that raised AttributeError raises AttributeError (two exception
     * types of the test's own here).
     */
    @Test
    void gatherErrors() {
        Fn2<Integer, Integer, Integer> f = (a, b) -> {
            throw new TypeErrorLike();
        };
        Fn2<Integer, Integer, Integer> g = (a, b) -> {
            throw new AttributeErrorLike();
        };
        Future<Integer> ff = client.submit(f, 1, 2);
        Future<Integer> fg = client.submit(g, 1, 2);
        assertInstanceOf(TypeErrorLike.class, assertThrows(TaskFailedException.class, () -> client.gather((Object) ff, T)).getCause());
        assertInstanceOf(AttributeErrorLike.class, assertThrows(TaskFailedException.class, () -> client.gather((Object) fg, T)).getCause());
    }

    /**
     * dask: test_client.py::test_wait, test_wait_sync — wait on inc(1), inc(1), inc(2): all done,
     * none left, status "finished".
     */
    @Test
    void waitAll() throws Exception {
        Future<Integer> x = client.submit(ClientBasicsGatherConformanceTest::inc, 1);
        Future<Integer> y = client.submit(ClientBasicsGatherConformanceTest::inc, 1);
        Future<Integer> z = client.submit(ClientBasicsGatherConformanceTest::inc, 2);
        Futures.DoneAndNotDone<Integer> r = Futures.wait(List.of(x, y, z), T);
        assertEquals(Set.of(x, y, z), r.done());
        assertEquals(Set.of(), r.notDone());
        assertEquals(Future.State.SUCCESS, x.state());
        assertEquals(Future.State.SUCCESS, y.state());
    }

    /**
     * dask: test_client.py::test_wait_first_completed — two tasks blocked on an event and inc(2):
     * waiting for the first completed gives {z} done and {x, y} pending.
     */
    @Test
    void waitFirstCompleted() throws Exception {
        Future<Integer> x = client.with(IMPURE).submit(ClientBasicsGatherConformanceTest::blockOnEvent, 1);
        Future<Integer> y = client.with(IMPURE).submit(ClientBasicsGatherConformanceTest::blockOnEvent, 2);
        Future<Integer> z = client.submit(ClientBasicsGatherConformanceTest::inc, 2);
        Futures.DoneAndNotDone<Integer> r = Futures.wait(List.of(x, y, z), T, Futures.ReturnWhen.FIRST_COMPLETED);
        assertEquals(Set.of(z), r.done());
        assertEquals(Set.of(x, y), r.notDone());
        assertEquals(Future.State.SUCCESS, z.state());
        assertEquals(Future.State.RUNNING, x.state());
        assertEquals(Future.State.RUNNING, y.state());
        EVENT.countDown();
        assertEquals(List.of(1, 2), client.gather((Object) List.of(x, y), T));
    }

    /**
     * dask: test_client.py::test_wait_timeout, test_wait_sync — waiting 10 ms on a 300 ms task ends
     * at the timeout. dask raises TimeoutError; dist returns, as concurrent.futures.wait, with the
     * task in the not-done set.
     */
    @Test
    void waitTimeout() throws Exception {
        Future<Integer> f = client.with(IMPURE).submit(ClientBasicsGatherConformanceTest::slowinc, 0, 300);
        Futures.DoneAndNotDone<Integer> r = Futures.wait(List.of(f), Duration.ofMillis(10));
        assertEquals(Set.of(f), r.notDone());
        assertTrue(r.done().isEmpty());
        assertEquals(1, f.result(T));
    }

    /**
     * dask: test_client.py::test_get — a graph computed without waiting gives a future for "x" (2),
     * a list of futures for ["x"] ([2]), nothing for an empty graph, and 3 for a chain x2 = inc(x1)
     * (dask's tuple keys are text here).
     */
    @Test
    void get() throws Exception {
        Future<Integer> future = client.compute(new Graph().task("get-x", ClientBasicsGatherConformanceTest::inc, 1), "get-x");
        assertEquals(2, future.result(T));
        List<Future<Object>> futures = client.compute(new Graph().task("get-x", ClientBasicsGatherConformanceTest::inc, 1),
                List.of("get-x"));
        assertEquals(List.of(2), client.gather((Object) futures, T));
        assertEquals(List.of(), client.gather((Object) client.compute(new Graph(), List.of()), T));
        Graph chain = new Graph().task("('x', 1)", ClientBasicsGatherConformanceTest::inc, 1)
                .task("('x', 2)", ClientBasicsGatherConformanceTest::inc, Graph.key("('x', 1)"));
        assertEquals(3, client.<Integer>compute(chain, "('x', 2)").result(T));
    }

    /** dask: test_client.py::test_get_sync — get of {"x": (inc, 1)} for "x" is 2. */
    @Test
    void getSync() throws Exception {
        assertEquals(2, (int) client.get(new Graph().task("gs-x", ClientBasicsGatherConformanceTest::inc, 1), "gs-x", T));
    }

    /** dask: test_client.py::test_submit_then_get_with_Future — a graph task on a future: inc(slowinc(1)) is 3. */
    @Test
    void submitThenGetWithFuture() throws Exception {
        Future<Integer> x = client.submit(ClientBasicsGatherConformanceTest::slowinc, 1, 100);
        assertEquals(3, (int) client.get(new Graph().task("stg-y", ClientBasicsGatherConformanceTest::inc, x), "stg-y", T));
    }

    /** dask: test_client.py::test_aliases — a graph key bound to a future gives that future's value. */
    @Test
    void aliases() throws Exception {
        Future<Integer> x = client.submit(ClientBasicsGatherConformanceTest::inc, 1);
        assertEquals(2, (int) client.get(new Graph().value("al-y", x), "al-y", T));
    }

    /**
     * dask: test_client.py::test_aliases_2 — keys that name other keys: {x: inc(1), y: x, z: x,
     * w: add(y, z)} gives y = 2, w = 4; {x: y, y: 1} gives x = 1; {x: 1, y: x, z: y, w: inc(z)} gives w = 2.
     */
    @Test
    void aliases2() throws Exception {
        Graph g1 = new Graph().task("a2-x", ClientBasicsGatherConformanceTest::inc, 1)
                .value("a2-y", Graph.key("a2-x")).value("a2-z", Graph.key("a2-x"))
                .task("a2-w", ClientBasicsGatherConformanceTest::add, Graph.key("a2-y"), Graph.key("a2-z"));
        assertEquals(List.of(2, 4), client.get(g1, List.of("a2-y", "a2-w"), T));
        Graph g2 = new Graph().value("b2-x", Graph.key("b2-y")).value("b2-y", 1);
        assertEquals(List.of(1), client.get(g2, List.of("b2-x"), T));
        Graph g3 = new Graph().value("c2-x", 1).value("c2-y", Graph.key("c2-x")).value("c2-z", Graph.key("c2-y"))
                .task("c2-w", ClientBasicsGatherConformanceTest::inc, Graph.key("c2-z"));
        assertEquals(List.of(2), client.get(g3, List.of("c2-w"), T));
    }

    /**
     * dask: test_client.py::test_get_with_error, test_get_with_error_sync — get of y = inc(x) where
     * x = div(1, 0) raises the division error.
     */
    @Test
    void getWithError() {
        Graph g = new Graph().task("ge-x", ClientBasicsGatherConformanceTest::div, 1, 0)
                .task("ge-y", ClientBasicsGatherConformanceTest::incD, Graph.key("ge-x"));
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> client.get(g, "ge-y", T));
        assertInstanceOf(ArithmeticException.class, e.getCause());
    }

    static double incD(double x) {
        return x + 1;
    }

    /** dask: test_client.py::test_get_releases_data — once get returned, the client holds "x" no more. */
    @Test
    void getReleasesData() throws Exception {
        assertEquals(List.of(2), client.get(new Graph().task("grd-x", ClientBasicsGatherConformanceTest::inc, 1),
                List.of("grd-x"), T));
        assertTrue(cluster.forgets("grd-x"));
    }

    /**
     * dask: test_client.py::test_client_with_scheduler — submit, a dependent add, scatter and gather
     * of mixed futures, and get of {x: inc(1), y: add(x, 10)} for y (12), on one client.
     */
    @Test
    void clientWithScheduler() throws Exception {
        Future<Integer> x = client.submit(ClientBasicsGatherConformanceTest::inc, 1);
        Future<Integer> y = client.submit(ClientBasicsGatherConformanceTest::inc, 2);
        Future<Integer> z = client.submit(ClientBasicsGatherConformanceTest::add, x, y);
        assertEquals(2, x.result(T));
        assertEquals(5, z.result(T));
        List<Future<Integer>> abc = client.scatter(List.of(1, 2, 3));
        assertEquals(List.of(1, 2, 2), client.gather((Object) List.of(abc.get(0), abc.get(1), x), T));
        Graph g = new Graph().task("cws-x", ClientBasicsGatherConformanceTest::inc, 1)
                .task("cws-y", ClientBasicsGatherConformanceTest::add, Graph.key("cws-x"), 10);
        assertEquals(12, (int) client.get(g, "cws-y", T));
    }

    /** dask: test_client.py::test_gather_direct — scattered [1, 2, 3] gather back to [1, 2, 3] (dist always gathers from the workers). */
    @Test
    void gatherDirect() throws Exception {
        assertEquals(List.of(1, 2, 3), client.gather((Object) client.scatter(List.of(1, 2, 3)), T));
    }

    /**
     * dask: test_client.py::test_futures_of_get — the futures inside a value: none in 0; x in x;
     * each of nested lists and maps, once.
     */
    @Test
    void futuresOfGet() {
        List<Future<Integer>> xyz = client.map(ClientBasicsGatherConformanceTest::inc, List.of(1, 2, 3));
        Future<Integer> x = xyz.get(0), y = xyz.get(1), z = xyz.get(2);
        assertEquals(Set.of(), Set.copyOf(Futures.of(0)));
        assertEquals(Set.of(x), Set.copyOf(Futures.of(x)));
        assertEquals(Set.of(x, y, z), Set.copyOf(Futures.of(List.of(x, y, z))));
        assertEquals(Set.of(x, y, z), Set.copyOf(Futures.of(List.of(x, List.of(y), List.of(List.of(z))))));
        assertEquals(Set.of(x, y), Set.copyOf(Futures.of(Map.of("x", x, "y", List.of(y)))));
        assertEquals(2, Futures.of(List.of(x, x, y)).size());
    }

    /**
     * dask: test_client.py::test_futures_of_cancelled_raises — a cancelled future raises the
     * cancellation; using it in a new graph, submit or map then fails. dask's CancelledError comes
     * when the result is awaited ("lost dependencies"); dist refuses the call at once, saying the
     * future was cancelled.
     */
    @Test
    void futuresOfCancelledRaises() throws Exception {
        Future<Integer> x = client.with(IMPURE).submit(ClientBasicsGatherConformanceTest::inc, 1);
        assertTrue(dist.Wait.until(T, () -> !cluster.stateOf(x.key()).equals("null")));
        client.cancel(List.of(x));
        assertThrows(TaskCancelledException.class, () -> x.result(T));
        assertTrue(cluster.forgets(x.key()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> client.get(
                new Graph().task("fcr-x", ClientBasicsGatherConformanceTest::inc, x)
                        .task("fcr-y", ClientBasicsGatherConformanceTest::inc, 2), List.of("fcr-x", "fcr-y"), T));
        assertTrue(e.getMessage().contains("cancelled"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> client.submit(ClientBasicsGatherConformanceTest::inc, x));
        assertThrows(IllegalArgumentException.class, () -> client.submit(ClientBasicsGatherConformanceTest::add, 1, x));
        assertThrows(IllegalArgumentException.class, () -> client.map(ClientBasicsGatherConformanceTest::add,
                List.of(1), List.of(x)));
    }
}
