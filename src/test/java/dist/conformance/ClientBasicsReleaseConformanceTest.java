package dist.conformance;

import dist.TaskCancelledException;
import dist.Client;
import dist.Fn2;
import dist.Future;
import dist.Futures;
import dist.Graph;
import dist.Options;
import dist.Wait;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Releasing and forgetting keys, several clients, cancel, and worker restrictions, ported from dask's
 * distributed/tests/test_client.py, on a scheduler with worker a (one thread) and b (two threads), as
 * dask's gen_cluster. dask's {@code s.client_releases_keys(keys=[k])} is a release of the client's
 * future here; {@code k in s.tasks} is whether the scheduler still knows the key. Values differ
 * between tests, so their keys do too.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientBasicsReleaseConformanceTest {
    static final Duration T = ClientBasicsCluster.T;
    static final Options IMPURE = Options.defaults().pure(false);
    static ClientBasicsCluster cluster;
    static Client client;
    static WorkerServer a, b;

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

    static double incD(double x) {
        return x + 1;
    }

    static int slowinc(int x, int delayMs) throws InterruptedException {
        Thread.sleep(delayMs);
        return x + 1;
    }

    static int slowadd(int x, int y) throws InterruptedException {
        Thread.sleep(50);
        return x + y;
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = ClientBasicsCluster.start(1, 2);
        client = cluster.client;
        a = cluster.w(0);
        b = cluster.w(1);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    static boolean known(Future<?> f) {
        return known(f.key());
    }

    static boolean known(String key) {
        return !cluster.stateOf(key).equals("null");
    }

    static Set<String> holders(String key) {
        return cluster.workers.stream().filter(w -> w.dataStore().contains(key)).map(WorkerServer::address)
                .collect(Collectors.toSet());
    }

    /** dask: test_client.py::test_gc — a finished key is held by a worker; once let go of, no longer. */
    @Test
    void gc() throws Exception {
        Future<Integer> x = client.submit(ClientBasicsReleaseConformanceTest::inc, 1010);
        x.result(T);
        assertFalse(cluster.whoHas(x.key()).isEmpty());
        x.release();
        assertTrue(Wait.until(T, () -> !known(x) || cluster.whoHas(x.key()).isEmpty()));
    }

    /**
     * dask: test_client.py::test_garbage_collection — two futures of one key: releasing one leaves the
     * other usable; inc of it gives 3; once every future of the key is released the client and the
     * scheduler let it go.
     */
    @Test
    void garbageCollection() throws Exception {
        Future<Integer> x = client.submit(ClientBasicsReleaseConformanceTest::inc, 1);
        Future<Integer> y = client.submit(ClientBasicsReleaseConformanceTest::inc, 1);
        assertEquals(x.key(), y.key());
        x.release();
        assertFalse(y.isReleased());
        Future<Integer> z = client.submit(ClientBasicsReleaseConformanceTest::inc, y);
        String ykey = y.key();
        y.release();
        assertEquals(3, z.result(T));
        z.release();
        assertTrue(cluster.forgets(ykey));
    }

    /**
     * dask: test_client.py::test_recompute_released_key — inc(100) computed, released until no worker
     * holds it, and submitted again gives the same 101.
     */
    @Test
    void recomputeReleasedKey() throws Exception {
        Future<Integer> x = client.submit(ClientBasicsReleaseConformanceTest::inc, 100);
        int result1 = x.result(T);
        String xkey = x.key();
        x.release();
        assertTrue(Wait.until(T, () -> !known(xkey) && holders(xkey).isEmpty()));
        Future<Integer> again = client.submit(ClientBasicsReleaseConformanceTest::inc, 100);
        assertEquals(xkey, again.key());
        assertEquals(result1, again.result(T));
    }

    /**
     * dask: test_client.py::test_forget_simple — x = inc(1) (retries 2), y = inc(2), z = add(x, y)
     * (preferring a): releasing x keeps it (z needs it); releasing z then forgets x and z; releasing
     * y forgets it too.
     */
    @Test
    void forgetSimple() throws Exception {
        Future<Integer> x = client.with(Options.defaults().retries(2)).submit(ClientBasicsReleaseConformanceTest::inc, 2001);
        Future<Integer> y = client.submit(ClientBasicsReleaseConformanceTest::inc, 2002);
        Future<Integer> z = client.with(Options.defaults().workers(a.address()).allowOtherWorkers(true))
                .submit(ClientBasicsReleaseConformanceTest::add, x, y);
        Futures.wait(List.of(x, y, z), T);
        assertTrue(known(x) && known(y) && known(z));
        x.release();
        assertTrue(known(x), "z still depends on x");
        z.release();
        assertTrue(cluster.forgets(x.key()));
        assertTrue(cluster.forgets(z.key()));
        assertTrue(known(y));
        y.release();
        assertTrue(cluster.forgets(y.key()));
    }

    /**
     * dask: test_client.py::test_forget_complex — scattered a, b, c, d and ab, cd, ac, acab on them:
     * releasing ab keeps everything (acab was built from it); releasing b, then acab, then ac leaves
     * only cd, a, c and d, and no worker keeps b.
     */
    @Test
    void forgetComplex() throws Exception {
        List<Future<Integer>> abcd = client.scatter(List.of(3000, 3001, 3002, 3003));
        Future<Integer> fa = abcd.get(0), fb = abcd.get(1), fc = abcd.get(2), fd = abcd.get(3);
        Future<Integer> ab = client.submit(ClientBasicsReleaseConformanceTest::add, fa, fb);
        Future<Integer> cd = client.submit(ClientBasicsReleaseConformanceTest::add, fc, fd);
        Future<Integer> ac = client.submit(ClientBasicsReleaseConformanceTest::add, fa, fc);
        Future<Integer> acab = client.submit(ClientBasicsReleaseConformanceTest::add, ac, ab);
        Futures.wait(List.of(fa, fb, fc, fd, ab, ac, cd, acab), T);
        assertEquals(12_003, acab.result(T));
        ab.release();
        assertTrue(known(acab));
        fb.release();
        acab.release();
        for (Future<Integer> f : List.of(ab, fb, acab)) {
            assertTrue(cluster.forgets(f.key()), f.key());
        }
        assertTrue(Wait.until(T, () -> holders(fb.key()).isEmpty()));
        ac.release();
        assertTrue(cluster.forgets(ac.key()));
        for (Future<Integer> f : List.of(cd, fa, fc, fd)) {
            assertTrue(known(f), f.key());
        }
    }

    /**
     * dask: test_client.py::test_forget_in_flight — a graph of slow incs and adds computing ac and
     * acab; releasing acab while it runs forgets acab, ab and b, and ac still computes.
     */
    @Test
    void forgetInFlight() throws Exception {
        Graph g = new Graph();
        for (String k : List.of("a", "b", "c", "d")) {
            g.task("fif-" + k, ClientBasicsReleaseConformanceTest::slowinc, "abcd".indexOf(k), 50);
        }
        g.task("fif-ab", ClientBasicsReleaseConformanceTest::slowadd, Graph.key("fif-a"), Graph.key("fif-b"))
                .task("fif-cd", ClientBasicsReleaseConformanceTest::slowadd, Graph.key("fif-c"), Graph.key("fif-d"))
                .task("fif-ac", ClientBasicsReleaseConformanceTest::slowadd, Graph.key("fif-a"), Graph.key("fif-c"))
                .task("fif-acab", ClientBasicsReleaseConformanceTest::slowadd, Graph.key("fif-ac"), Graph.key("fif-ab"));
        List<Future<Object>> xy = client.compute(g, List.of("fif-ac", "fif-acab"));
        xy.get(1).release();
        for (String k : List.of("fif-acab", "fif-ab", "fif-b")) {
            assertTrue(cluster.forgets(k), k);
        }
        assertEquals(1 + 3, xy.get(0).result(T));
    }

    /**
     * dask: test_client.py::test_forget_errors — x = div(1, 0), y = inc(x), z = inc(y): releasing z
     * forgets z and keeps the erred x and y; releasing x keeps it (y is still wanted); releasing y
     * forgets all three.
     */
    @Test
    void forgetErrors() throws Exception {
        Future<Double> x = client.submit(ClientBasicsReleaseConformanceTest::div, 4001, 0);
        Future<Double> y = client.submit(ClientBasicsReleaseConformanceTest::incD, x);
        Future<Double> z = client.submit(ClientBasicsReleaseConformanceTest::incD, y);
        Futures.wait(List.of(z), T);
        assertEquals("erred", cluster.stateOf(x.key()));
        assertEquals("erred", cluster.stateOf(y.key()));
        assertEquals("erred", cluster.stateOf(z.key()));
        z.release();
        assertTrue(cluster.forgets(z.key()));
        assertEquals("erred", cluster.stateOf(x.key()));
        assertEquals("erred", cluster.stateOf(y.key()));
        x.release();
        assertEquals("erred", cluster.stateOf(x.key()));
        assertEquals("erred", cluster.stateOf(y.key()));
        y.release();
        assertTrue(cluster.forgets(x.key()));
        assertTrue(cluster.forgets(y.key()));
    }

    /**
     * dask: test_client.py::test_multi_client — two clients submit; the one they share has one key;
     * when the first client leaves the scheduler forgets what only it wanted and keeps the shared key;
     * when the second leaves too, that goes as well.
     */
    @Test
    void multiClient() throws Exception {
        Client f = cluster.newClient();
        Client c = cluster.newClient();
        try {
            Future<Integer> x = c.submit(ClientBasicsReleaseConformanceTest::inc, 5001);
            Future<Integer> y = f.submit(ClientBasicsReleaseConformanceTest::inc, 5002);
            Future<Integer> y2 = c.submit(ClientBasicsReleaseConformanceTest::inc, 5002);
            assertEquals(y.key(), y2.key());
            Futures.wait(List.of(x, y), T);
            c.close();
            assertTrue(cluster.forgets(x.key()));
            assertEquals("memory", cluster.stateOf(y.key()));
            f.close();
            assertTrue(cluster.forgets(y.key()));
        } finally {
            c.close();
            f.close();
        }
    }

    /**
     * dask: test_client.py::test_multi_garbage_collection — two clients share y: releasing x drops
     * its data; releasing one client's y keeps the data for the other; releasing the last drops it.
     */
    @Test
    void multiGarbageCollection() throws Exception {
        try (Client c = cluster.newClient(); Client f = cluster.newClient()) {
            Future<Integer> x = c.submit(ClientBasicsReleaseConformanceTest::inc, 6001);
            Future<Integer> y = f.submit(ClientBasicsReleaseConformanceTest::inc, 6002);
            Future<Integer> y2 = c.submit(ClientBasicsReleaseConformanceTest::inc, 6002);
            assertEquals(y.key(), y2.key());
            Futures.wait(List.of(x, y, y2), T);
            x.release();
            assertTrue(Wait.until(T, () -> holders(x.key()).isEmpty()));
            y.release();
            assertEquals(7, 7); // keep the shape of dask's test: the shared key stays
            assertEquals(6003, y2.result(T));
            assertFalse(holders(y.key()).isEmpty());
            assertEquals("memory", cluster.stateOf(y.key()));
            y2.release();
            assertTrue(Wait.until(T, () -> holders(y.key()).isEmpty()));
            assertTrue(cluster.forgets(y.key()));
        }
    }

    /**
     * dask: test_client.py::test_cancel_tuple_key — a finished task with a key of its own
     * ("('x', 0, 1)" as text), cancelled, raises the cancellation.
     */
    @Test
    void cancelTupleKey() throws Exception {
        Future<Integer> x = client.with(Options.defaults().key("('x', 0, 1)")).submit(ClientBasicsReleaseConformanceTest::inc, 1);
        x.result(T);
        client.cancel(List.of(x));
        assertThrows(TaskCancelledException.class, () -> x.result(T));
    }

    /**
     * dask: test_client.py::test_cancel_before_known_to_scheduler — f cancelled right after submit is
     * cancelled, and f2 = inc(f) raises the cancellation.
     */
    @Test
    void cancelBeforeKnownToScheduler() throws Exception {
        Future<Integer> f = client.with(IMPURE).submit(ClientBasicsReleaseConformanceTest::inc, 1);
        Future<Integer> f2 = client.submit(ClientBasicsReleaseConformanceTest::inc, f);
        client.cancel(List.of(f));
        assertTrue(f.isCancelled());
        assertThrows(TaskCancelledException.class, () -> f2.result(T));
    }

    /**
     * dask: test_client.py::test_restrictions_ip_port — x restricted to a's address and y = inc(x) to
     * b's end up in those workers' memory.
     */
    @Test
    void restrictionsIpPort() throws Exception {
        Future<Integer> x = client.with(Options.defaults().workers(a.address()).key("rip-x"))
                .submit(ClientBasicsReleaseConformanceTest::inc, 1);
        Future<Integer> y = client.with(Options.defaults().workers(b.address()).key("rip-y"))
                .submit(ClientBasicsReleaseConformanceTest::inc, x);
        Futures.wait(List.of(x, y), T);
        assertTrue(a.dataStore().contains("rip-x"));
        assertTrue(b.dataStore().contains("rip-y"));
    }

    /**
     * dask: test_client.py::test_restrictions_map, test_restrictions_submit — a map restricted to a
     * (by address here; dask uses a second loopback host) runs all on a, nothing on b.
     */
    @Test
    void restrictionsMap() throws Exception {
        List<Future<Integer>> l = client.with(Options.defaults().workers(a.address()))
                .map(ClientBasicsReleaseConformanceTest::inc, IntStream.range(7000, 7005).boxed().toList());
        Futures.wait(l, T);
        for (Future<Integer> f : l) {
            assertEquals(Set.of(a.address()), holders(f.key()));
        }
    }

    /**
     * dask: test_client.py::test_restrictions_get — get of {x: 1, y: inc(x), z: inc(y)} for y and z
     * restricted to a gives [2, 3], both held by a and not by b.
     */
    @Test
    void restrictionsGet() throws Exception {
        Graph g = new Graph().value("rg-x", 1).task("rg-y", ClientBasicsReleaseConformanceTest::inc, Graph.key("rg-x"))
                .task("rg-z", ClientBasicsReleaseConformanceTest::inc, Graph.key("rg-y"));
        List<Future<Object>> fs = client.with(Options.defaults().workers(a.address())).compute(g, List.of("rg-y", "rg-z"));
        assertEquals(List.of(2, 3), client.gather((Object) fs, T));
        assertTrue(a.dataStore().contains("rg-y") && a.dataStore().contains("rg-z"));
        assertFalse(b.dataStore().contains("rg-y") || b.dataStore().contains("rg-z"));
    }

    /**
     * dask: test_client.py::test_allow_restrictions — restricted to a, with or without other workers
     * allowed, tasks run on a; restricted to a worker that does not exist with others allowed, they
     * run anyway; allowing other workers without naming any is refused.
     */
    @Test
    void allowRestrictions() throws Exception {
        Future<Integer> x = client.with(Options.defaults().workers(a.address())).submit(ClientBasicsReleaseConformanceTest::inc, 8001);
        x.result(T);
        assertEquals(List.of(a.address()), cluster.whoHas(x.key()));
        Options loose = Options.defaults().workers(a.address()).allowOtherWorkers(true);
        x = client.with(loose).submit(ClientBasicsReleaseConformanceTest::inc, 8002);
        x.result(T);
        assertEquals(List.of(a.address()), cluster.whoHas(x.key()));

        Options nowhere = Options.defaults().workers("127.0.0.3").allowOtherWorkers(true);
        x = client.with(nowhere).submit(ClientBasicsReleaseConformanceTest::inc, 8015);
        x.result(T);
        assertFalse(cluster.whoHas(x.key()).isEmpty());
        List<Future<Integer>> l = client.with(nowhere).map(ClientBasicsReleaseConformanceTest::inc,
                IntStream.range(8015, 8025).boxed().toList());
        Futures.wait(l, T);
        for (Future<Integer> f : l) {
            assertFalse(cluster.whoHas(f.key()).isEmpty());
        }
        Options noneNamed = Options.defaults().allowOtherWorkers(true);
        assertThrows(IllegalArgumentException.class, () -> client.with(noneNamed).submit(ClientBasicsReleaseConformanceTest::inc, 1));
        assertThrows(IllegalArgumentException.class, () -> client.with(noneNamed).map(ClientBasicsReleaseConformanceTest::inc, List.of(1)));
    }

    /** dask: test_client.py::test_many_submits_spread_evenly — ten incs leave results on both workers. */
    @Test
    void manySubmitsSpreadEvenly() throws Exception {
        List<Future<Integer>> l = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            l.add(client.with(IMPURE).submit(ClientBasicsReleaseConformanceTest::slowinc, i, 20));
        }
        Futures.wait(l, T);
        assertTrue(l.stream().anyMatch(f -> a.dataStore().contains(f.key())));
        assertTrue(l.stream().anyMatch(f -> b.dataStore().contains(f.key())));
    }

    static Object identity(Object x) {
        return x;
    }

    /**
     * dask: test_client.py::test_nbytes_determines_worker — x small on a and y large on b (restricted
     * by address here): a task on both runs on b, where the larger input is.
     */
    @Test
    void nbytesDeterminesWorker() throws Exception {
        Future<Object> x = client.with(Options.defaults().workers(a.address())).submit(
                ClientBasicsReleaseConformanceTest::identity, 9001);
        Future<Object> y = client.with(Options.defaults().workers(b.address())).submit(
                ClientBasicsReleaseConformanceTest::identity, Collections.nCopies(20_000, 9002));
        client.gather((Object) List.of(x, y), T);
        Fn2<Object, Object, Object> none = (p, q) -> "none";
        Future<Object> z = client.submitUnchecked(none, x, y);
        z.result(T);
        assertEquals(List.of(b.address()), cluster.whoHas(z.key()));
    }

    static byte[] ones(int n) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) 1);
        return b;
    }

    static long sumOf(byte[] b) {
        long t = 0;
        for (byte x : b) {
            t += x;
        }
        return t;
    }

    static long total(List<Long> xs) {
        return xs.stream().mapToLong(Long::longValue).sum();
    }

    /**
     * dask: test_client.py::test_pragmatic_move_small_data_to_large_data — ten large arrays, their
     * sums and a total: f(array i, total) runs where array i is, for at least nine of the ten (the
     * small total moves, not the array).
     */
    @Test
    void pragmaticMoveSmallDataToLargeData() throws Exception {
        List<Future<byte[]>> lists = client.with(IMPURE).map(ClientBasicsReleaseConformanceTest::ones,
                Collections.nCopies(10, 200_000));
        List<Future<Long>> sums = client.map(ClientBasicsReleaseConformanceTest::sumOf, lists);
        Future<Long> total = client.submit(ClientBasicsReleaseConformanceTest::total, Futures.all(sums));
        Fn2<byte[], Long, String> f = (x, y) -> "none";
        List<Future<String>> results = client.map(f, lists, Collections.nCopies(10, total));
        Futures.wait(List.of(total), T);
        Futures.wait(results, T);
        int together = 0;
        for (int i = 0; i < 10; i++) {
            if (Set.copyOf(cluster.whoHas(lists.get(i).key())).containsAll(cluster.whoHas(results.get(i).key()))) {
                together++;
            }
        }
        assertTrue(together >= 9, together + " of 10 ran where their array is");
    }
}
