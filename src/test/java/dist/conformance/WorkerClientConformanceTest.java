package dist.conformance;

import dist.AsCompleted;
import dist.Client;
import dist.Delayed;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;
import dist.Options;
import dist.Wait;
import dist.WorkerClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Tasks that submit tasks, ported from dask's test_worker_client.py; dask's
 * {@code with worker_client() as c} is {@code WorkerClient.get()}. Not applicable:
 * <ul>
 * <li>test_separate_thread_false → no such option: a task waiting on a future always secedes.</li>
 * <li>test_worker_client.py::test_timeout → WorkerClient.get() takes no connect timeout.</li>
 * <li>test_local_client_warning → there is no deprecated local_client.</li>
 * <li>test_same_loop, test_dont_override_default_get → no event loop, no global default scheduler.</li>
 * <li>test_secede_without_stealing_issue_1262 → scheduler extensions cannot be turned off.</li>
 * <li>test_scatter_singleton, test_submit_different_names → numpy / dask.array.</li>
 * <li>test_closing_worker_doesnt_close_client → a LocalCluster cannot close one thread worker.</li>
 * <li>test_submit_from_worker_async → the asyncio form of test_submit_from_worker.</li>
 * </ul>
 * test_log_event and test_log_event_implicit are ported in SharedStateConformanceTest.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WorkerClientConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client client;

    static int inc(int x) {
        return x + 1;
    }

    static int dbl(int x) {
        return 2 * x;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).output(null).start();
        client = cluster.client();
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (cluster != null) cluster.close();
    }

    static int submitFromWorkerTask(int x) throws Exception {
        Client c = WorkerClient.get();
        Future<Integer> xx = c.submit(WorkerClientConformanceTest::inc, x);
        Future<Integer> yy = c.submit(WorkerClientConformanceTest::dbl, xx);
        return xx.result() + yy.result();
    }

    // dask: test_submit_from_worker
    @Test
    void submitFromWorker() throws Exception {
        List<Future<Integer>> fs = client.map(WorkerClientConformanceTest::submitFromWorkerTask, List.of(10, 20));
        assertEquals(List.of(10 + 1 + (10 + 1) * 2, 20 + 1 + (20 + 1) * 2), client.gather(fs));
    }

    static int scatterTask() throws Exception {
        Client c = WorkerClient.get();
        List<Future<Integer>> futures = c.scatter(List.of(1, 2, 3, 4, 5));
        if (futures.size() != 5) {
            throw new AssertionError("scattered " + futures.size());
        }
        return c.<List<Integer>, Integer>submit(WorkerClientConformanceTest::sum, Futures.all(futures)).result();
    }

    // dask: test_scatter_from_worker (and every worker has its one thread back afterwards)
    @Test
    void scatterFromWorker() throws Exception {
        assertEquals(15, client.submit(WorkerClientConformanceTest::scatterTask).result(T));
        assertTrue(Wait.until(T, () -> {
            try {
                return client.ncores().values().stream().allMatch(n -> n == 1);
            } catch (Exception e) {
                return false;
            }
        }), "one thread per worker");
    }

    static List<Integer> gatherTask(String aAddress, String bAddress) throws Exception {
        Client ee = WorkerClient.get();
        Future<Integer> x = ee.with(Options.defaults().workers(aAddress)).submit(WorkerClientConformanceTest::inc, 1);
        Future<Integer> y = ee.with(Options.defaults().workers(bAddress)).submit(WorkerClientConformanceTest::inc, 2);
        return ee.gather(List.of(x, y));
    }

    // dask: test_gather_multi_machine
    @Test
    void gatherMultiMachine() throws Exception {
        List<String> workers = new ArrayList<>(client.ncores().keySet());
        assertEquals(2, workers.size());
        assertNotEquals(workers.get(0), workers.get(1));
        Future<List<Integer>> f = client.submit(WorkerClientConformanceTest::gatherTask,
                workers.get(0), workers.get(1));
        assertEquals(List.of(2, 3), f.result(T));
    }

    static int mysum() throws Exception {
        int result = 0;
        Client lc = WorkerClient.get();
        List<Future<Integer>> futures = lc.map(WorkerClientConformanceTest::dbl,
                IntStream.range(0, 100).boxed().toList());
        for (Future<Integer> f : new AsCompleted<>(futures)) {
            result += f.result();
        }
        return result;
    }

    // dask: test_worker_client.py::test_sync and test_worker_client.py::test_async (sub-tasks as futures rather than delayed; the outer task is delayed)
    @Test
    void syncAndAsync() throws Exception {
        assertEquals(9900, Delayed.of(WorkerClientConformanceTest::mysum).compute(client, T));
    }

    static int executorSum() throws Exception {
        ExecutorService e = WorkerClient.get().executorService();
        List<java.util.concurrent.Future<Integer>> fs = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            int x = i;
            fs.add(e.submit((Callable<Integer> & Serializable) () -> 2 * x));
        }
        int total = 0;
        for (var f : fs) {
            total += f.get();
        }
        return total;
    }

    // dask: test_client_executor
    @Test
    void clientExecutor() throws Exception {
        assertEquals(30 * 29, client.submit(WorkerClientConformanceTest::executorSum).result(T));
    }

    static int computeInside() throws Exception {
        return Delayed.of(WorkerClientConformanceTest::identity, 1).compute(WorkerClient.get());
    }

    static int identity(int x) {
        return x;
    }

    // dask: test_compute_within_worker_client
    @Test
    void computeWithinWorkerClient() throws Exception {
        assertEquals(1, Delayed.of(WorkerClientConformanceTest::computeInside).compute(client, T));
    }

    static boolean rejoins() throws Exception {
        WorkerClient.get().submit(WorkerClientConformanceTest::inc, 1).result();
        boolean holdsSlot = WorkerClient.secede(); // true only if the wait above rejoined
        WorkerClient.rejoin();
        return holdsSlot;
    }

    // dask: test_worker_client_rejoins (the task holds a thread slot again after its wait)
    @Test
    void workerClientRejoins() throws Exception {
        assertTrue(client.submit(WorkerClientConformanceTest::rejoins).result(T));
    }

    // dask: test_task_unique_groups_scatter
    @Test
    void taskUniqueGroupsScatter() throws Exception {
        List<Future<Integer>> n = client.scatter(List.of(0, 1));
        Future<Integer> x = client.<List<Integer>, Integer>submit(WorkerClientConformanceTest::sum, Futures.all(n));
        assertEquals(1, x.result(T));
        client.cancel(n);
        List<Future<Integer>> m = client.scatter(List.of(1, 2));
        Future<Integer> y = client.<List<Integer>, Integer>submit(WorkerClientConformanceTest::sum, Futures.all(m));
        assertEquals(3, y.result(T));
        Map<String, List<String>> who = client.whoHas(List.of(y));
        assertFalse(who.get(y.key()).isEmpty(), "y is held by a worker");
    }

    static int incMysum() throws Exception {
        Client lc = WorkerClient.get();
        return lc.submit(WorkerClientConformanceTest::inc, mysum()).result();
    }

    /** dask: test_nested_worker_clients — a task whose worker client submits inc(mysum()), where mysum maps 100 tasks: 9901. */
    @Test
    void nestedWorkerClients() throws Exception {
        assertEquals(9901, client.submit(WorkerClientConformanceTest::incMysum).result(T));
    }

    static String whereAmI(int x) throws InterruptedException {
        Thread.sleep(20); // dask's slowinc: the task's own work
        return WorkerClient.workerAddress();
    }

    static Map<String, Integer> longRunning() throws Exception {
        Client c = WorkerClient.get();
        List<Future<String>> futs = c.map(WorkerClientConformanceTest::whereAmI, IntStream.range(0, 100).boxed().toList());
        Map<String, Integer> workers = new java.util.HashMap<>();
        for (Future<String> f : futs) {
            workers.merge(f.result(), 1, Integer::sum);
        }
        return workers;
    }

    /**
     * dask: test_secede_does_not_claim_worker — a task waiting on 100 tasks it submitted has given
     * up its thread: both workers run more than 25 of them.
     */
    @Test
    void secedeDoesNotClaimWorker() throws Exception {
        Map<String, Integer> res = client.submit(WorkerClientConformanceTest::longRunning).result(T);
        assertEquals(2, res.size(), res.toString());
        for (int n : res.values()) {
            assertTrue(n > 25, res.toString());
        }
    }
}
