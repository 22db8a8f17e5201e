package dist.conformance;

import dist.DistException;
import dist.Client;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;
import dist.Options;
import dist.Wait;
import dist.protocol.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Client.run and the diagnostics (ncores, whoHas, hasWhat, nbytes, processing, workersInfo) as
 * dask's distributed/tests/test_client.py checks them, on one cluster of two one-thread workers.
 * Each test starts once the cluster holds no data, so counts are exact.
 *
 * <p>Not applicable:
 * <ul>
 * <li>test_run_coroutine, test_run_coroutine_sync → asyncio coroutines; a Java function run is a plain call.</li>
 * <li>test_run_rpc_error, test_get_versions_rpc_error → stop a worker's listener while its scheduler
 * link stays; no dist worker can be made half-stopped from the public API (an unreachable worker's
 * error goes through the same {@code OnError} handling as {@link #runException}, and versions leave
 * it out with {@code OnError.IGNORE}).</li>
 * <li>test_scheduler_saturates_cores, test_scheduler_saturates_cores_random → their checks sit inside
 * {@code while not s.tasks: if s.tasks:}, which never runs: they assert nothing.</li>
 * <li>test_task_load_adapts_quickly → reads the scheduler's average task duration per prefix, an
 * internal estimate with no public view.</li>
 * </ul>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientClusterRunConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client client;
    static String a;
    static String b;
    static final AtomicInteger calls = new AtomicInteger();

    static int inc(int x) {
        return x + 1;
    }

    static int dbl(int x) {
        return 2 * x;
    }

    static int slowinc(int x) throws InterruptedException {
        Thread.sleep(100);
        return x + 1;
    }

    static final class MyError extends RuntimeException {
        MyError(String m) {
            super(m);
        }
    }

    /** As dask's raise_exception: fails on one of the two workers (the first call of each pair). */
    static int raiseOnOne() {
        if (calls.getAndIncrement() % 2 == 0) {
            throw new MyError("informative message");
        }
        return 123;
    }

    /** Both workers ran the last call (a raising run answers before the other worker's call ends), then reset. */
    private static void settle() throws InterruptedException {
        assertTrue(Wait.until(T, () -> calls.get() >= 2));
        calls.set(0);
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).output(null).start();
        client = cluster.client();
        List<dist.WorkerInfo> ws = client.workersInfo();
        a = ws.get(0).address();
        b = ws.get(1).address();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Each test starts on an empty cluster: the keys of the tests before are released. */
    @BeforeEach
    void empty() throws Exception {
        assertTrue(Wait.until(T, () -> {
            try {
                return client.whoHas().isEmpty();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }), "keys left over from an earlier test");
    }

    /**
     * dask: test_client.py::test_run, test_client.py::test_run_sync — {@code c.run(inc, 1)} answers
     * {a: 2, b: 2}; with workers=[a] only a; with {@code workers=[]} nothing, {}.
     */
    @Test
    void run() throws Exception {
        assertEquals(Map.of(a, 2, b, 2), client.run(() -> inc(1)));
        assertEquals(Map.of(a, 2), client.run(() -> inc(1), List.of(a)));
        assertEquals(Map.of(), client.run(() -> inc(1), List.of()));
        // dask's run_sync passes arguments, x=1, y=2: a Java function captures them
        int x = 1;
        int y = 2;
        assertEquals(Map.of(a, 3, b, 3), client.run(() -> x + y));
        assertEquals(Map.of(a, 3), client.run(() -> x + y, List.of(a)));
    }

    /**
     * dask: test_client.py::test_run_handles_picklable_data — after some tasks ran, a run returning
     * ({}, set(), [], (), 1, "hello", b"100") gives each worker exactly that value back. (Its
     * run_on_scheduler half: the scheduler runs no user code in dist.)
     */
    @Test
    void runHandlesSerializableData() throws Exception {
        List<Future<Integer>> fs = client.map(ClientClusterRunConformanceTest::inc, List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        Futures.wait(fs, T);
        Map<String, List<Object>> results = client.run(() -> Arrays.asList(Map.of(), Set.of(), List.of(), List.of(), 1,
                "hello", "100".getBytes()));
        assertEquals(Set.of(a, b), results.keySet());
        for (List<Object> r : results.values()) {
            assertEquals(List.of(Map.of(), Set.of(), List.of(), List.of(), 1, "hello"), r.subList(0, 6));
            assertArrayEquals("100".getBytes(), (byte[]) r.get(6));
        }
        fs.forEach(Future::release);
    }

    /**
     * dask: test_client.py::test_run_exception — a run that raises MyError("informative message") on
     * one worker raises it (default and on_error="raise"); on_error="return" puts the exception in
     * that worker's place beside the other's 123; on_error="ignore" leaves that worker out. (dask's
     * ValueError for an invalid on_error is the type system's job here: OnError is an enum.)
     */
    @Test
    void runException() throws Exception {
        calls.set(0);
        DistException e = assertThrows(DistException.class,
                () -> client.run(ClientClusterRunConformanceTest::raiseOnOne));
        assertInstanceOf(MyError.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("informative message"));
        settle();
        e = assertThrows(DistException.class,
                () -> client.run(ClientClusterRunConformanceTest::raiseOnOne, null, Client.OnError.RAISE));
        assertTrue(e.getCause().getMessage().contains("informative message"));

        settle();
        Map<String, Object> out = client.run(ClientClusterRunConformanceTest::raiseOnOne, null, Client.OnError.RETURN);
        assertEquals(Set.of(a, b), out.keySet());
        List<Object> values = new ArrayList<>(out.values());
        assertEquals(1, values.stream().filter(v -> v instanceof MyError).count(), out.toString());
        assertEquals(1, values.stream().filter(v -> Integer.valueOf(123).equals(v)).count(), out.toString());

        settle();
        out = client.run(ClientClusterRunConformanceTest::raiseOnOne, null, Client.OnError.IGNORE);
        assertEquals(1, out.size());
        assertEquals(List.of(123), List.copyOf(out.values()));
    }

    /**
     * dask: test_client.py::test_diagnostic_ui — nthreads for all, for [a] and for a; who_has() of
     * three results names their holders among a and b, who_has([x, y]) only those; has_what() has
     * both workers holding only those keys, has_what([a]) only a.
     */
    @Test
    void diagnosticUi() throws Exception {
        assertEquals(Map.of(a, 1, b, 1), client.ncores());
        assertEquals(Map.of(a, 1), client.ncores(List.of(a)));
        Future<Integer> x = client.submit(ClientClusterRunConformanceTest::inc, 1);
        Future<Integer> y = client.submit(ClientClusterRunConformanceTest::inc, 2);
        Future<Integer> z = client.submit(ClientClusterRunConformanceTest::inc, 3);
        Futures.wait(List.of(x, y, z), T);
        Map<String, List<String>> d = client.whoHas();
        assertEquals(Set.of(x.key(), y.key(), z.key()), d.keySet());
        for (List<String> ws : d.values()) {
            assertFalse(ws.isEmpty());
            assertTrue(Set.of(a, b).containsAll(ws), ws.toString());
        }
        assertEquals(Set.of(x.key(), y.key()), client.whoHas(List.of(x, y)).keySet());
        assertEquals(Set.of(x.key()), client.whoHas(List.of(x)).keySet());

        Map<String, List<String>> hw = client.hasWhat();
        assertEquals(Set.of(a, b), hw.keySet());
        for (List<String> ks : hw.values()) {
            assertTrue(Set.of(x.key(), y.key(), z.key()).containsAll(ks), ks.toString());
        }
        assertEquals(Set.of(a), client.hasWhat(List.of(a)).keySet());
        List.of(x, y, z).forEach(Future::release);
    }

    /**
     * dask: test_client.py::test_diagnostic_nbytes_sync, test_client.py::test_diagnostic_nbytes —
     * three incs and three doubles of small ints: nbytes(summary=False) gives each key the size of
     * one int; with summary the sizes add up by prefix, {"inc": 3 size, "double": 3 size}.
     */
    @Test
    void diagnosticNbytes() throws Exception {
        List<Future<Integer>> incs = client.map(ClientClusterRunConformanceTest::inc, List.of(1, 2, 3));
        List<Future<Integer>> doubles = client.map(ClientClusterRunConformanceTest::dbl, List.of(1, 2, 3));
        List<Future<Integer>> all = new ArrayList<>(incs);
        all.addAll(doubles);
        Futures.wait(all, T);
        Map<String, Long> nbytes = client.nbytes(false);
        assertEquals(all.stream().map(Future::key).collect(java.util.stream.Collectors.toSet()), nbytes.keySet());
        long one = nbytes.get(incs.get(0).key());
        assertTrue(one > 0);
        assertTrue(nbytes.values().stream().allMatch(v -> v == one), nbytes.toString());
        assertEquals(Map.of("inc", 3 * one, "dbl", 3 * one), client.nbytes(true));
        all.forEach(Future::release);
    }

    /**
     * dask: test_client.py::test_get_foo — after ten incs: nbytes of everything and of one key (its
     * size alone); who_has() of everything equals who_has of each key asked one by one, and
     * who_has([key]) names only that key.
     */
    @Test
    void getFoo() throws Exception {
        List<Future<Integer>> fs = client.map(ClientClusterRunConformanceTest::inc, List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        Futures.wait(fs, T);
        Map<String, Long> all = client.nbytes(false);
        assertEquals(10, all.size());
        assertEquals(Map.of(fs.get(0).key(), all.get(fs.get(0).key())), client.nbytes(List.of(fs.get(0)), false));
        Map<String, List<String>> who = client.whoHas();
        assertEquals(client.whoHas(fs), who);
        assertEquals(Map.of(fs.get(0).key(), who.get(fs.get(0).key())), client.whoHas(List.of(fs.get(0))));
        fs.forEach(Future::release);
    }

    /**
     * dask: test_client.py::test_get_processing_sync — nothing is processing at first; ten slow tasks
     * restricted to a (allow_other_workers=False) are processing on a and never on b; asking for a
     * alone names a alone. Then they are cancelled.
     */
    @Test
    void getProcessing() throws Exception {
        assertTrue(client.workersInfo().stream().allMatch(w -> w.processing() == 0));
        List<Future<Integer>> fs = client.with(Options.defaults().workers(a).allowOtherWorkers(false))
                .map(ClientClusterRunConformanceTest::slowinc, List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        assertTrue(Wait.until(T, () -> processing(a) > 0));
        assertEquals(0, processing(b));
        assertEquals(Set.of(a), client.ncores(List.of(a)).keySet());
        client.cancel(fs);
        assertTrue(Wait.until(T, () -> processing(a) == 0));
    }

    private static int processing(String worker) {
        try {
            return client.workersInfo().stream().filter(w -> w.address().equals(worker))
                    .mapToInt(dist.WorkerInfo::processing).sum();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /**
     * dask: test_client.py::test_scheduler_info, test_client.py::test_scheduler_info_async — the
     * scheduler's view lists both workers (address, threads). dist has no {@code n_workers}
     * truncation or start time: workersInfo always lists every worker.
     */
    @Test
    void schedulerInfo() throws Exception {
        List<dist.WorkerInfo> info = client.workersInfo();
        assertEquals(2, info.size());
        assertEquals(Set.of(a, b), new HashSet<>(info.stream().map(dist.WorkerInfo::address).toList()));
        assertTrue(info.stream().allMatch(w -> w.nthreads() == 1));
    }

    /**
     * dask: test_client.py::test_get_versions_sync, test_client.py::test_get_versions_async — versions
     * come for the scheduler, the client and both workers, none empty, and checking them (all one
     * runtime here) does not raise.
     */
    @Test
    void getVersions() throws Exception {
        Map<String, Object> v = client.versions(false);
        assertEquals(Set.of("scheduler", "client", "workers"), v.keySet());
        assertEquals(dist.protocol.Versions.local(), v.get("client"));
        assertFalse(((Map<?, ?>) v.get("scheduler")).isEmpty());
        Map<?, ?> workers = (Map<?, ?>) v.get("workers");
        assertEquals(Set.of(a, b), workers.keySet());
        for (Object wv : workers.values()) {
            assertEquals(Set.of("java", "os", "dist"), ((Map<?, ?>) wv).keySet());
        }
        assertEquals(Set.of("scheduler", "client", "workers"), client.versions(true).keySet());
    }
}
