package dist.conformance;

import dist.Client;
import dist.Delayed;
import dist.DistTimeoutException;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;
import dist.LocalClusters;
import dist.Options;
import dist.Wait;
import dist.comm.CommConfig;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Where data and tasks land: rebalance, replicate by host, scatter to some workers, load balancing,
 * worker names, restrictions of whole graphs, and what workers joining later change, as dask's
 * distributed/tests/test_client.py checks them. One scheduler for the class; each test starts the
 * workers it needs (in this process) and its own client, and closes them, so counts are exact.
 *
 * <p>Not applicable:
 * <ul>
 * <li>test_replicate_tuple_keys → tuple keys; a dist key is a string.</li>
 * <li>test_contiguous_load → skipped in dask.</li>
 * <li>test_persist_workers_annotate, test_persist_workers_annotate2, test_compute_workers_annotate →
 * dask.annotate sets restrictions per layer of a collection (or by a function of the key); dist's
 * restrictions come with the Options of the call (test_persist_workers, test_compute_workers).</li>
 * <li>test_weight_occupancy_against_data_movement → its bounds depend on dask's default task duration
 * and occupancy estimates, set through config keys dist does not have.</li>
 * <li>test_compute_partially_forgotten → sends dask Task objects with a TaskRef to a key of the same
 * submission, then reads the scheduler's event log for transition errors.</li>
 * </ul>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientClusterPlacementConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    final List<WorkerServer> started = new ArrayList<>();
    Client client;

    static int inc(int x) {
        return x + 1;
    }

    static int add(int x, int y) {
        return x + y;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    static int slowinc(int x) throws InterruptedException {
        Thread.sleep(50);
        return x + 1;
    }

    static int slowincLong(int x) throws InterruptedException {
        Thread.sleep(200);
        return x + 1;
    }

    static int f(int x, int y) throws InterruptedException {
        Thread.sleep(10);
        return x;
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(0).output(null).start();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @BeforeEach
    void connect() throws Exception {
        client = Client.connect(cluster.schedulerAddress());
    }

    @AfterEach
    void closeAll() throws Exception {
        client.close();
        for (WorkerServer w : started) {
            w.close();
        }
        assertTrue(Wait.until(T, () -> LocalClusters.scheduler(cluster).workerCount() == 0 && taskCount() == 0));
    }

    static int taskCount() {
        try {
            return LocalClusters.scheduler(cluster).query(v -> v.view().taskCount(), 10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Starts a worker on {@code host} with {@code nthreads} and waits until the scheduler has it. */
    WorkerServer worker(String host, int nthreads, String name) throws Exception {
        WorkerServer w = WorkerServer.start(new WorkerServer.Options(cluster.schedulerAddress(), host, 0, nthreads, name,
                0, 8 * 1024, CommConfig.DEFAULT));
        started.add(w);
        assertTrue(Wait.until(T, () -> {
            try {
                return client.workersInfo().stream().anyMatch(i -> i.address().equals(w.address()));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }));
        return w;
    }

    WorkerServer worker(int nthreads) throws Exception {
        return worker("127.0.0.1", nthreads, null);
    }

    int held(WorkerServer w) throws Exception {
        return client.hasWhat(List.of(w.address())).getOrDefault(w.address(), List.of()).size();
    }

    Set<String> keysOn(WorkerServer w) throws Exception {
        return new HashSet<>(client.hasWhat(List.of(w.address())).getOrDefault(w.address(), List.of()));
    }

    static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    /**
     * dask: test_client.py::test_rebalance, test_client.py::test_rebalance_sync — 100 values scattered
     * to a: a holds 100, b none; after rebalance each holds 50. (dist balances stored bytes, as dask
     * balances managed memory where every small int is 28 bytes: the values here are of one encoded size.)
     */
    @Test
    void rebalance() throws Exception {
        WorkerServer a = worker(1);
        WorkerServer b = worker(1);
        List<Integer> values = range(100).stream().map(i -> 1000 + i).toList();
        List<Future<Integer>> futures = client.scatter(values, List.of(a.address()), false);
        assertEquals(1, new HashSet<>(client.nbytes(futures, false).values()).size(), "one size for all values");
        assertEquals(100, held(a));
        assertEquals(0, held(b));
        client.rebalance();
        assertEquals(50, held(a));
        assertEquals(50, held(b));
        assertEquals(values, client.gather(futures));
    }

    /**
     * dask: test_client.py::test_rebalance_workers_and_keys — 100 values on a of three workers; an empty
     * list of keys or of workers moves nothing; two keys between a and b end (98, 2, 0); an unknown
     * worker is refused.
     */
    @Test
    void rebalanceWorkersAndKeys() throws Exception {
        WorkerServer a = worker(1);
        WorkerServer b = worker(1);
        WorkerServer c = worker(1);
        List<Future<Integer>> futures = client.scatter(range(100), List.of(a.address()), false);
        assertEquals(List.of(100, 0, 0), List.of(held(a), held(b), held(c)));
        client.rebalance(List.of(), null);
        client.rebalance(null, List.of());
        assertEquals(List.of(100, 0, 0), List.of(held(a), held(b), held(c)));
        client.rebalance(List.of(futures.get(3), futures.get(7)), List.of(a.address(), b.address()));
        assertEquals(List.of(98, 2, 0), List.of(held(a), held(b), held(c)));
        assertThrows(IllegalArgumentException.class, () -> client.rebalance(null, List.of("notexist")));
    }

    /**
     * dask: test_client.py::test_rebalance_unprepared — rebalance of futures still running waits for
     * them: once it returns they are all done.
     */
    @Test
    void rebalanceUnprepared() throws Exception {
        WorkerServer a = worker(1);
        worker(1);
        List<Future<Integer>> futures = client.with(Options.defaults().workers(a.address()))
                .map(ClientClusterPlacementConformanceTest::slowinc, range(10));
        client.rebalance(futures, null);
        assertTrue(futures.stream().allMatch(Future::isDone));
        assertEquals(range(10).stream().map(i -> i + 1).toList(), client.gather(futures));
    }

    /**
     * dask: test_client.py::test_client_replicate_host — a on 127.0.0.1, b and c on 127.0.0.2: a task
     * restricted to host 127.0.0.2 lands on b or c; replicating to host 127.0.0.2 puts it on both;
     * then to 127.0.0.1 on all three.
     */
    @Test
    void clientReplicateHost() throws Exception {
        WorkerServer a = worker("127.0.0.1", 1, null);
        WorkerServer b = worker("127.0.0.2", 1, null);
        WorkerServer c = worker("127.0.0.2", 1, null);
        Future<Integer> x = client.with(Options.defaults().workers("127.0.0.2")).submit(ClientClusterPlacementConformanceTest::inc, 1);
        Futures.wait(List.of(x), T);
        Set<String> who = new HashSet<>(client.whoHas(List.of(x)).get(x.key()));
        assertTrue(who.equals(Set.of(b.address())) || who.equals(Set.of(c.address())), who.toString());
        client.replicate(List.of(x), 0, List.of("127.0.0.2"), 2);
        assertEquals(Set.of(b.address(), c.address()), new HashSet<>(client.whoHas(List.of(x)).get(x.key())));
        client.replicate(List.of(x), 0, List.of("127.0.0.1"), 2);
        assertEquals(Set.of(a.address(), b.address(), c.address()), new HashSet<>(client.whoHas(List.of(x)).get(x.key())));
    }

    /**
     * dask: test_client.py::test_client_replicate_sync — replicate([x, y], n=2) on two workers gives
     * each two holders, and y's value is unchanged. dask refuses n=0 with ValueError; in dist, without
     * None, n 0 or less is the way to say "every worker", so it copies everywhere.
     */
    @Test
    void clientReplicateSync() throws Exception {
        worker(1);
        worker(1);
        Future<Integer> x = client.submit(ClientClusterPlacementConformanceTest::inc, 1);
        Future<Integer> y = client.submit(ClientClusterPlacementConformanceTest::inc, 2);
        client.replicate(List.of(x, y), 2, List.of(), 2);
        Map<String, List<String>> whoHas = client.whoHas();
        assertEquals(2, whoHas.get(x.key()).size());
        assertEquals(2, whoHas.get(y.key()).size());
        assertEquals(3, y.result(T));
    }

    /** dask: test_client.py::test_scatter_dict_workers — scatter({"a": 10}, workers=[a, b]) stores "a" on a or b. */
    @Test
    void scatterDictWorkers() throws Exception {
        WorkerServer a = worker(1);
        WorkerServer b = worker(1);
        client.scatter(Map.of("a", 10), List.of(a.address(), b.address()), false);
        assertTrue(keysOn(a).contains("a") || keysOn(b).contains("a"));
    }

    /**
     * dask: test_client.py::test_workers_register_indirect_data — [x] scattered to a, y = inc(x) on
     * b's host: b now holds x's copy too, x's holders are {a, b} and b has {x, y}.
     */
    @Test
    void workersRegisterIndirectData() throws Exception {
        WorkerServer a = worker("127.0.0.1", 1, null);
        WorkerServer b = worker("127.0.0.2", 2, null);
        Future<Integer> x = client.scatter(List.of(1), List.of(a.address()), false).get(0);
        Future<Integer> y = client.with(Options.defaults().workers("127.0.0.2")).submit(ClientClusterPlacementConformanceTest::inc, x);
        assertEquals(2, y.result(T));
        assertEquals(Set.of(a.address(), b.address()), new HashSet<>(client.whoHas(List.of(x)).get(x.key())));
        assertEquals(Set.of(x.key(), y.key()), keysOn(b));
    }

    /** dask: test_client.py::test_balanced_with_submit — four slow incs on four one-thread workers: one each. */
    @Test
    void balancedWithSubmit() throws Exception {
        List<WorkerServer> ws = List.of(worker(1), worker(1), worker(1), worker(1));
        List<Future<Integer>> l = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            l.add(client.submit(ClientClusterPlacementConformanceTest::slowinc, i));
        }
        Futures.wait(l, T);
        for (WorkerServer w : ws) {
            assertEquals(1, held(w));
        }
    }

    /**
     * dask: test_client.py::test_balanced_with_submit_and_resident_data — x broadcast to four workers,
     * four impure slow incs of x: each worker holds x and one result.
     */
    @Test
    void balancedWithSubmitAndResidentData() throws Exception {
        List<WorkerServer> ws = List.of(worker(1), worker(1), worker(1), worker(1));
        Future<Integer> x = client.scatter(List.of(10), List.of(), true).get(0);
        List<Future<Integer>> l = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            l.add(client.with(Options.defaults().pure(false)).submit(ClientClusterPlacementConformanceTest::slowinc, x));
        }
        Futures.wait(l, T);
        for (WorkerServer w : ws) {
            assertEquals(2, held(w));
        }
    }

    /** dask: test_client.py::test_even_load_on_startup — two incs on two one-thread workers: one each. */
    @Test
    void evenLoadOnStartup() throws Exception {
        WorkerServer a = worker(1);
        WorkerServer b = worker(1);
        Futures.wait(client.map(ClientClusterPlacementConformanceTest::slowinc, List.of(1, 2)), T);
        assertEquals(1, held(a));
        assertEquals(1, held(b));
    }

    /**
     * dask: test_client.py::test_even_load_after_fast_functions — after a fast task on each worker,
     * nine more incs land on both workers.
     */
    @Test
    void evenLoadAfterFastFunctions() throws Exception {
        WorkerServer a = worker(1);
        WorkerServer b = worker(1);
        Future<Integer> x = client.with(Options.defaults().workers(a.address())).submit(ClientClusterPlacementConformanceTest::inc, 1);
        Future<Integer> y = client.with(Options.defaults().workers(b.address())).submit(ClientClusterPlacementConformanceTest::inc, 2);
        Futures.wait(List.of(x, y), T);
        List<Future<Integer>> futures = client.map(ClientClusterPlacementConformanceTest::slowinc, List.of(2, 3, 4, 5, 6, 7, 8, 9, 10));
        Futures.wait(futures, T);
        Set<String> keys = new HashSet<>(futures.stream().map(Future::key).toList());
        assertTrue(keysOn(a).stream().anyMatch(keys::contains));
        assertTrue(keysOn(b).stream().anyMatch(keys::contains));
    }

    /**
     * dask: test_client.py::test_cancel_clears_processing — a slow task is cancelled once the scheduler
     * has it: no worker is left processing anything.
     */
    @Test
    void cancelClearsProcessing() throws Exception {
        for (int i = 0; i < 4; i++) {
            worker(1);
        }
        Future<Integer> x = client.submit(ClientClusterPlacementConformanceTest::slowincLong, 1);
        assertTrue(Wait.until(T, () -> !dist.api.ClusterFixture.stateOf(cluster, x.key()).equals("null")));
        client.cancel(List.of(x));
        assertTrue(Wait.until(T, () -> {
            try {
                return client.workersInfo().stream().allMatch(w -> w.processing() == 0);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }));
    }

    /**
     * dask: test_client.py::test_distribute_tasks_by_nthreads — y broadcast to a (1 thread) and b (10
     * threads), twenty short tasks on y: b holds more than twice what a holds.
     */
    @Test
    void distributeTasksByNthreads() throws Exception {
        WorkerServer a = worker(1);
        WorkerServer b = worker(10);
        Future<Integer> y = client.scatter(List.of(1), List.of(), true).get(0);
        List<Future<Integer>> futures = client.map(ClientClusterPlacementConformanceTest::f, range(20),
                java.util.Collections.nCopies(20, y));
        Futures.wait(futures, T);
        assertTrue(held(b) > 2 * held(a), held(a) + " on a, " + held(b) + " on b");
    }

    /**
     * dask: test_client.py::test_worker_aliases — workers named alice, bob and 3: ten incs for
     * workers="alice" all land on alice, none on bob; a value scattered to workers=3 is all 3 holds;
     * tasks for 3, [3] and alice run there.
     */
    @Test
    void workerAliases() throws Exception {
        WorkerServer alice = worker("127.0.0.1", 1, "alice");
        WorkerServer bob = worker("127.0.0.1", 1, "bob");
        WorkerServer w = worker("127.0.0.1", 1, "3");
        List<Future<Integer>> l = client.with(Options.defaults().workers("alice")).map(ClientClusterPlacementConformanceTest::inc, range(10));
        Future<Integer> future = client.scatter(List.of(123), List.of("3"), false).get(0);
        Futures.wait(l, T);
        assertEquals(10, held(alice));
        assertEquals(0, held(bob));
        assertEquals(Set.of(future.key()), keysOn(w));
        List<Options> aliases = List.of(Options.defaults().workers("3"), Options.defaults().workers(List.of("3")),
                Options.defaults().workers("alice"));
        for (int i = 0; i < aliases.size(); i++) {
            assertEquals(i + 1, client.with(aliases.get(i)).submit(ClientClusterPlacementConformanceTest::inc, i).result(T));
        }
    }

    private static List<Delayed<Integer>> l1() {
        return range(4).stream().map(i -> Delayed.of(ClientClusterPlacementConformanceTest::inc, i)).toList();
    }

    /**
     * dask: test_client.py::test_compute_workers, test_client.py::test_persist_workers — L1 = inc(0..3),
     * total = sum(L1), L2 = add(L1[i], total), total2 = sum(L2), computed (or persisted) with
     * workers=[a, b] and allow_other_workers: every result is right and the third worker c holds none
     * of them. (dask reads each task's restrictions; here where the results live shows them.)
     */
    @Test
    void computeAndPersistWorkers() throws Exception {
        WorkerServer a = worker(1);
        WorkerServer b = worker(1);
        WorkerServer c = worker(1);
        Options ab = Options.defaults().workers(a.address(), b.address()).allowOtherWorkers(true);
        List<Delayed<Integer>> l1 = l1();
        Delayed<Integer> total = Delayed.of(ClientClusterPlacementConformanceTest::sum, Delayed.all(l1));
        List<Delayed<Integer>> l2 = l1.stream().map(d -> Delayed.of(ClientClusterPlacementConformanceTest::add, d, total)).toList();
        Delayed<Integer> total2 = Delayed.of(ClientClusterPlacementConformanceTest::sum, Delayed.all(l2));
        List<Delayed<Integer>> all = new ArrayList<>(l1);
        all.addAll(l2);
        all.add(total);
        List<Future<Integer>> out = client.with(ab).compute(all);
        assertEquals(List.of(1, 2, 3, 4, 11, 12, 13, 14, 10), client.gather(out));
        assertEquals(Set.of(), keysOn(c));

        Delayed<Integer> persisted = client.with(ab).persist(total2);
        assertEquals(50, persisted.future().result(T));
        assertEquals(Set.of(), keysOn(c));
    }

    /**
     * dask: test_client.py::test_add_worker_after_tasks — ten incs submitted with no worker finish once
     * a worker with two threads joins.
     */
    @Test
    void addWorkerAfterTasks() throws Exception {
        List<Future<Integer>> futures = client.map(ClientClusterPlacementConformanceTest::inc, range(10));
        worker(2);
        assertEquals(range(10).stream().map(i -> i + 1).toList(), client.gather(futures));
    }

    /**
     * dask: test_client.py::test_scatter_raises_if_no_workers — with no worker, scatter with a short
     * timeout raises TimeoutError.
     */
    @Test
    void scatterRaisesIfNoWorkers() throws Exception {
        CommConfig d = CommConfig.DEFAULT;
        CommConfig quick = new CommConfig(d.connectTimeout(), Duration.ofMillis(300), d.handshakeTimeout(), d.maxFrames(),
                d.maxFrameBytes(), d.maxMessageBytes(), d.maxConnectionsPerPeer(), d.security(), d.liveness());
        try (Client c = Client.connect(cluster.schedulerAddress(), quick)) {
            assertThrows(DistTimeoutException.class, () -> c.scatter(List.of(1)));
        }
    }

    Set<String> workerAddresses() throws Exception {
        return new HashSet<>(client.workersInfo().stream().map(dist.WorkerInfo::address).toList());
    }

    /**
     * dask: test_client.py::test_retire_workers_2, test_client.py::test_retire_workers — [x] scattered to
     * a; retiring a answers a's information (with its name), a leaves the scheduler and closes, and
     * b now holds x (and only x), the sole holder.
     */
    @Test
    void retireWorkers() throws Exception {
        WorkerServer a = worker(1);
        WorkerServer b = worker(1);
        assertEquals(Set.of(a.address(), b.address()), workerAddresses());
        Future<Integer> x = client.scatter(List.of(1), List.of(a.address()), false).get(0);
        Map<String, dist.WorkerInfo> info = client.retireWorkers(List.of(a.address())).retired();
        assertEquals(Set.of(a.address()), info.keySet());
        assertEquals(a.name(), info.get(a.address()).name());
        assertEquals(Set.of(b.address()), workerAddresses());
        assertTrue(a.awaitClose(30, TimeUnit.SECONDS));
        assertEquals(Set.of(x.key()), keysOn(b));
        assertEquals(List.of(b.address()), client.whoHas(List.of(x)).get(x.key()));
        assertEquals(1, x.result(T));
    }

    /**
     * dask: test_client.py::test_retire_many_workers — 100 values scattered over ten workers; retiring
     * seven answers seven entries, three workers remain, every future is done, its key in memory, and
     * the values gather back unchanged.
     */
    @Test
    void retireManyWorkers() throws Exception {
        List<WorkerServer> ws = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ws.add(worker(1));
        }
        List<Future<Integer>> futures = client.scatter(range(100));
        List<String> leaving = ws.subList(0, 7).stream().map(WorkerServer::address).toList();
        assertEquals(7, client.retireWorkers(leaving).retired().size());
        assertEquals(range(100), client.gather(futures));
        assertEquals(3, workerAddresses().size());
        assertTrue(futures.stream().allMatch(Future::isDone));
        for (Future<Integer> f : futures) {
            assertEquals("memory", dist.api.ClusterFixture.stateOf(cluster, f.key()));
        }
        assertEquals(range(100), client.gather(futures));
    }
}
