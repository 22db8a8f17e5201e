package dist.conformance;

import dist.TaskFailedException;
import dist.AsCompleted;
import dist.Client;
import dist.Delayed;
import dist.Future;
import dist.Futures;
import dist.Graph;
import dist.LocalCluster;
import dist.Options;
import dist.Wait;
import dist.WorkerClient;
import dist.api.ClusterFixture;
import dist.protocol.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Submitting, getting, persisting, callbacks, robustness to bad values, closing, thread safety and
 * tasks that use the worker's client, as dask's distributed/tests/test_client.py checks them; one
 * cluster of two two-thread workers.
 *
 * <p>Not applicable:
 * <ul>
 * <li>test_client_num_fds → counts the process's open file descriptors (psutil).</li>
 * <li>test_default_get, test_ensure_default_client, test_set_as_default, test_temp_default_client,
 * test_as_current, test_as_current_is_thread_local, test_as_current_is_task_local → dask's global
 * default client and {@code Client.current()}; a dist client is always passed explicitly.</li>
 * <li>test_persist_optimize_graph → dask's graph optimization (fusing layers of a dask.bag).</li>
 * <li>test_threaded_get_within_distributed → dask's local schedulers (get_sync, multiprocessing).</li>
 * <li>test_compute_nested_containers, test_normalize_collection_dask_array,
 * test_normalize_collection_with_released_futures, test_serialize_collections,
 * test_serialize_collections_of_futures, test_serialize_collections_of_futures_sync,
 * test_threadsafe_get, test_threadsafe_compute → dask.array / dask.dataframe collections.</li>
 * <li>test_normalize_collection → replaces persisted parts of a dask collection's graph by futures;
 * a dist Delayed built on a persisted one already holds its future.</li>
 * <li>test_scatter_type → {@code future.type}, the Python type of the value; a Java future is typed
 * at compile time.</li>
 * <li>test_quiet_client_close → reads what dask's loggers printed.</li>
 * <li>test_sub_submit_priority, test_long_running_not_in_occupancy, test_long_running_removal_clean →
 * read the scheduler's priorities and occupancy estimates, internal numbers with no public view.</li>
 * <li>test_interleave_computations, test_interleave_computations_map (skipped in dask) → follow the
 * scheduler's transition log and count states while tasks run, with timing-sensitive bounds.</li>
 * </ul>
 *
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientClusterSubmitConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client client;
    static final AtomicBoolean armed = new AtomicBoolean();
    static volatile CountDownLatch gate = new CountDownLatch(0);

    static int inc(int x) {
        return x + 1;
    }

    static int dec(int x) {
        return x - 1;
    }

    static int add(int x, int y) {
        return x + y;
    }

    static <T> T identity(T x) {
        return x;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    static int slowinc(int x) throws InterruptedException {
        Thread.sleep(10);
        return x + 1;
    }

    static int throwsIt(int x) {
        throw new RuntimeException("hello");
    }

    static int block(int x) throws InterruptedException {
        gate.await(60, TimeUnit.SECONDS);
        return x;
    }

    /** Not a record, not registered: the serializer refuses it. */
    /** dask's NoTokenization, whose pickling raises: a field of a JDK class the serializer may not open. */
    static final class NoTokenization {
        final Thread owner = Thread.currentThread();
    }

    /** Decodes only while not armed: dask's BrokenSetState, whose __setstate__ raises MyException("hello"). */
    record BrokenSetState(int v) implements dist.Fn0<Integer> {
        BrokenSetState {
            if (armed.get()) {
                throw new IllegalStateException("hello");
            }
        }

        @Override
        public Integer apply() {
            return 1;
        }
    }

    /** An exception whose field the serializer cannot write (dask: __reduce__ raises). */
    static final class BadlySerializedException extends RuntimeException {
        final Object unwritable = new Object();

        BadlySerializedException(String m) {
            super(m);
        }
    }

    static int badlySerialized() {
        throw new BadlySerializedException("hello world");
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(2).output(null).start();
        client = cluster.client();
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

    /**
     * dask: test_client.py::test_persist_get, test_client.py::test_persist_get_sync — xxyy = (1+1) +
     * (2+2) persisted, then xxyy3 = xxyy + 10 computed (three times, after waiting for the persisted
     * part or not) is 16 each time.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void persistGet(boolean doWait) throws Exception {
        Delayed<Integer> x = Delayed.value(1);
        Delayed<Integer> y = Delayed.value(2);
        Delayed<Integer> xx = Delayed.of(ClientClusterSubmitConformanceTest::add, x, x);
        Delayed<Integer> yy = Delayed.of(ClientClusterSubmitConformanceTest::add, y, y);
        Delayed<Integer> xxyy = Delayed.of(ClientClusterSubmitConformanceTest::add, xx, yy);
        Delayed<Integer> xxyy2 = client.persist(xxyy);
        Delayed<Integer> xxyy3 = Delayed.of(ClientClusterSubmitConformanceTest::add, xxyy2, 10);
        if (doWait) {
            Futures.wait(List.of(xxyy2.future()), T);
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(((1 + 1) + (2 + 2)) + 10, xxyy3.compute(client, T));
        }
    }

    /**
     * dask: test_client.py::test_startup_close_startup, test_client.py::test_startup_close_startup_sync,
     * test_client.py::test_close_idempotent — clients open and close one after another against the same
     * scheduler, each working; closing one three times is fine.
     */
    @Test
    void startupCloseStartup() throws Exception {
        for (int i = 0; i < 3; i++) {
            try (Client c = Client.connect(cluster.schedulerAddress())) {
                assertEquals(2, c.submit(ClientClusterSubmitConformanceTest::inc, 1).result(T));
            }
        }
        Client c = Client.connect(cluster.schedulerAddress());
        c.close();
        c.close();
        c.close();
        assertTrue(c.isClosed());
    }

    /**
     * dask: test_client.py::test_badly_serialized_exceptions — a task raising an exception that
     * cannot be serialized still fails its future with an error that says "hello world".
     */
    @Test
    void badlySerializedExceptions() throws Exception {
        Future<Integer> x = client.submit(ClientClusterSubmitConformanceTest::badlySerialized);
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> x.result(T));
        assertTrue(String.valueOf(e.getCause()).contains("hello world"), String.valueOf(e.getCause()));
    }

    /**
     * dask: test_client.py::test_submit_on_cancelled_future — a task on a cancelled future can never
     * run. dask hands back a future that raises CancelledError; dist refuses the submit at once, saying
     * the future was cancelled, so the mistake shows where it was made.
     */
    @Test
    void submitOnCancelledFuture() throws Exception {
        Future<Integer> x = client.with(Options.defaults().pure(false)).submit(ClientClusterSubmitConformanceTest::inc, 1);
        x.result(T);
        client.cancel(List.of(x));
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> client.submit(ClientClusterSubmitConformanceTest::inc, x));
        assertTrue(causes(e).contains("was cancelled"), causes(e));
    }

    /**
     * dask: test_client.py::test_get_returns_early — get of {x: throws, y: block} raises at once,
     * without waiting for y; its futures are released (the scheduler forgets both keys) and, once y's
     * block ends, nothing is processing. A later get that fails keeps the key a future still holds.
     */
    @Test
    void getReturnsEarly() throws Exception {
        gate = new CountDownLatch(1);
        Graph g = new Graph().task("early-x", ClientClusterSubmitConformanceTest::throwsIt, 1)
                .task("early-y", ClientClusterSubmitConformanceTest::block, 2);
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> client.get(g, List.of("early-x", "early-y")));
        assertEquals("hello", e.getCause().getMessage());
        assertTrue(Wait.until(T, () -> state("early-x").equals("null") && state("early-y").equals("null")));
        gate.countDown();
        assertTrue(Wait.until(T, () -> processingTotal() == 0));

        Future<Integer> x = client.submit(ClientClusterSubmitConformanceTest::inc, 1);
        assertEquals(2, x.result(T));
        Graph g2 = new Graph().task("early-x", ClientClusterSubmitConformanceTest::throwsIt, 1)
                .task(x.key(), ClientClusterSubmitConformanceTest::inc, 1);
        assertThrows(TaskFailedException.class, () -> client.get(g2, List.of("early-x", x.key())));
        assertEquals("memory", state(x.key()));
        assertEquals(2, x.result(T));
    }

    /**
     * dask: test_client.py::test_get_stops_work_after_error — get of {x: throws, y: a long task}
     * raises, and the scheduler stops counting y as processing without waiting for it to end (here
     * y blocks until released, so it is provably still running).
     */
    @Test
    void getStopsWorkAfterError() throws Exception {
        gate = new CountDownLatch(1);
        try {
            Graph g = new Graph().task("stop-x", ClientClusterSubmitConformanceTest::throwsIt, 1)
                    .task("stop-y", ClientClusterSubmitConformanceTest::block, 2);
            assertThrows(TaskFailedException.class, () -> client.get(g, List.of("stop-x", "stop-y")));
            assertTrue(Wait.until(T, () -> processingTotal() == 0));
        } finally {
            gate.countDown();
        }
    }

    private static String state(String key) {
        try {
            return ClusterFixture.stateOf(cluster, key);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static int processingTotal() {
        try {
            return client.workersInfo().stream().mapToInt(dist.WorkerInfo::processing).sum();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /**
     * dask: test_client.py::test_as_completed_list, test_client.py::test_as_completed_results —
     * as_completed over five incs gives all five, whose results are {1..5}; with results, the pairs
     * hold the same futures and values.
     */
    @Test
    void asCompletedListAndResults() throws Exception {
        List<Future<Integer>> seq = client.map(ClientClusterSubmitConformanceTest::inc, List.of(0, 1, 2, 3, 4));
        List<Future<Integer>> seq2 = new ArrayList<>();
        Futures.asCompleted(seq).forEach(seq2::add);
        assertEquals(Set.of(1, 2, 3, 4, 5), new HashSet<>(client.gather(seq2)));
        Set<Integer> results = new HashSet<>();
        Set<Future<Integer>> futures = new HashSet<>();
        for (AsCompleted.Completed<Integer> c : Futures.asCompleted(seq).withResults()) {
            results.add(c.result());
            futures.add(c.future());
        }
        assertEquals(Set.of(1, 2, 3, 4, 5), results);
        assertEquals(new HashSet<>(seq), futures);
    }

    /**
     * dask: test_client.py::test_as_completed_batches — taking batches (lists) of fifty slow incs
     * gives all fifty futures, once each.
     */
    @Test
    void asCompletedBatches() throws Exception {
        List<Integer> in = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            in.add(i);
        }
        List<Future<Integer>> futures = client.map(ClientClusterSubmitConformanceTest::slowinc, in);
        AsCompleted<Integer> ac = Futures.asCompleted(futures);
        List<Future<Integer>> out = new ArrayList<>();
        while (!ac.isEmpty()) {
            out.addAll(ac.nextBatch(true));
        }
        assertEquals(50, out.size());
        assertEquals(new HashSet<>(futures), new HashSet<>(out));
        List<Integer> expected = in.stream().map(i -> i + 1).toList();
        assertEquals(new HashSet<>(expected), new HashSet<>(client.gather(out)));
    }

    /**
     * dask: test_client.py::test_as_completed_next_batch — two slow tasks: not empty at first, a
     * non-blocking batch is empty, blocking batches are subsets of the futures until it is empty and
     * has nothing ready.
     */
    @Test
    void asCompletedNextBatch() throws Exception {
        gate = new CountDownLatch(1);
        List<Future<Integer>> futures = client.with(Options.defaults().pure(false))
                .map(ClientClusterSubmitConformanceTest::block, List.of(0, 1));
        AsCompleted<Integer> ac = Futures.asCompleted(futures);
        assertFalse(ac.isEmpty());
        assertEquals(List.of(), ac.nextBatch(false));
        gate.countDown();
        assertTrue(new HashSet<>(futures).containsAll(ac.nextBatch(true)));
        while (!ac.isEmpty()) {
            assertTrue(new HashSet<>(futures).containsAll(ac.nextBatch(true)));
        }
        assertTrue(ac.isEmpty());
        assertEquals(0, ac.readyCount());
    }

    /** dask: test_client.py::test_status — a client is running while open and closed after. */
    @Test
    void status() throws Exception {
        Client c = Client.connect(cluster.schedulerAddress());
        try (c) {
            assertFalse(c.isClosed());
            c.submit(ClientClusterSubmitConformanceTest::inc, 1);
        }
        assertTrue(c.isClosed());
    }

    /**
     * dask: test_client.py::test_add_done_callback — callbacks added before and after completion (and
     * from inside a callback) see each future's key and final status: finished, error, finished after
     * a delay, finished.
     */
    @Test
    void addDoneCallback() throws Exception {
        Set<String> seen = ConcurrentHashMap.newKeySet();
        java.util.function.Consumer<Future<Integer>> g = f -> seen.add(f.key() + "/" + f.state());
        java.util.function.Consumer<Future<Integer>> f = fut -> fut.addDoneCallback(g);
        Future<Integer> u = client.with(Options.defaults().key("cb-u")).submit(ClientClusterSubmitConformanceTest::inc, 1);
        Future<Integer> v = client.with(Options.defaults().key("cb-v")).submit(ClientClusterSubmitConformanceTest::throwsIt, 1);
        Future<Integer> w = client.with(Options.defaults().key("cb-w")).submit(ClientClusterSubmitConformanceTest::slowinc, 2);
        Future<Integer> x = client.with(Options.defaults().key("cb-x")).submit(ClientClusterSubmitConformanceTest::inc, 3);
        u.addDoneCallback(f);
        v.addDoneCallback(f);
        w.addDoneCallback(f);
        Futures.wait(List.of(u, v, w, x), T);
        x.addDoneCallback(f);
        assertTrue(Wait.until(T, () -> seen.size() >= 4));
        assertEquals(Set.of("cb-u/SUCCESS", "cb-v/FAILED", "cb-w/SUCCESS", "cb-x/SUCCESS"), seen);
    }

    /**
     * dask: test_client.py::test_submit_list_kwargs, test_client.py::test_map_list_kwargs — a list of
     * scattered futures passed as an argument (dask passes it by keyword) arrives as their values:
     * sum is 6, and mapping i + sum(L) over 0..9 gives i + 6.
     */
    @Test
    void submitAndMapListArguments() throws Exception {
        List<Future<Integer>> futures = client.scatter(List.of(1, 2, 3));
        assertEquals(6, client.submit(ClientClusterSubmitConformanceTest::sum, Futures.all(futures)).result(T));
        List<Integer> is = List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        List<List<Integer>> ls = Collections.nCopies(10, Futures.all(futures));
        List<Future<Integer>> out = client.map((Integer i, List<Integer> l) -> i + sum(l), is, ls);
        assertEquals(is.stream().map(i -> i + 6).toList(), client.gather(out));
    }

    /**
     * dask: test_client.py::test_robust_unserializable — submitting a value that cannot be serialized
     * raises at once, naming serialization; the cluster then works as before.
     */
    @Test
    void robustUnserializable() throws Exception {
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> client.submit(ClientClusterSubmitConformanceTest::identity, new NoTokenization()));
        assertTrue(e.getMessage().toLowerCase().contains("serializ") || e.getMessage().contains("encode"),
                e.getMessage());
        List<Future<Integer>> fs = client.map(ClientClusterSubmitConformanceTest::inc, List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), client.gather(fs));
    }

    /**
     * dask: test_client.py::test_robust_undeserializable, test_client.py::test_robust_undeserializable_function
     * — an argument, or a function, that fails to deserialize on the worker errs its future with the
     * cause's message ("hello"), and the cluster then works as before.
     */
    @Test
    void robustUndeserializable() throws Exception {
        BrokenSetState broken = new BrokenSetState(1);
        armed.set(true);
        try {
            Future<Object> arg = client.submit((Object o) -> identity(o), broken);
            Futures.wait(List.of(arg), T);
            assertEquals(Future.State.FAILED, arg.state());
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> arg.result(T));
            assertTrue(causes(e).contains("hello"), causes(e));

            Future<Integer> fn = client.submit(broken);
            Futures.wait(List.of(fn), T);
            assertEquals(Future.State.FAILED, fn.state());
            e = assertThrows(TaskFailedException.class, () -> fn.result(T));
            assertTrue(causes(e).contains("hello"), causes(e));
        } finally {
            armed.set(false);
        }
        List<Future<Integer>> fs = client.map(ClientClusterSubmitConformanceTest::inc, List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), client.gather(fs));
    }

    private static String causes(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            b.append(c).append(" <- ");
        }
        return b.toString();
    }

    /**
     * dask: test_client.py::test_close — a client holding a result closes; the scheduler then forgets
     * its key.
     */
    @Test
    void close() throws Exception {
        String key;
        try (Client c = Client.connect(cluster.schedulerAddress())) {
            Future<Integer> f = c.with(Options.defaults().key("close-me")).submit(ClientClusterSubmitConformanceTest::inc, 1);
            f.result(T);
            key = f.key();
            assertEquals("memory", state(key));
        }
        assertTrue(Wait.until(T, () -> state(key).equals("null")));
    }

    /**
     * dask: test_client.py::test_threadsafe — many threads at once submit incs, gather them and sum
     * them through the same client; every thread gets a nonzero total.
     */
    @Test
    void threadsafe() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                results.add(pool.submit(() -> {
                    List<Future<Integer>> d = new ArrayList<>();
                    for (int i = 0; i < 30; i++) {
                        d.add(client.submit(ClientClusterSubmitConformanceTest::inc, ThreadLocalRandom.current().nextInt(0, 101)));
                    }
                    client.gather(d);
                    return client.submit(ClientClusterSubmitConformanceTest::sum, Futures.all(d)).result(T);
                }));
            }
            for (java.util.concurrent.Future<Integer> r : results) {
                assertTrue(r.get(60, TimeUnit.SECONDS) > 0);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** dask: test_client.py::test_identity — the client's id starts with "client" (as dask's). */
    @Test
    void identity() {
        assertTrue(client.id().toLowerCase().startsWith("client"), client.id());
    }

    static int viaWorkerClient(int x) throws Exception {
        Client c = WorkerClient.get();
        return c.submit(ClientClusterSubmitConformanceTest::inc, x).result(T);
    }

    /**
     * dask: test_client.py::test_get_client — inside tasks the worker's client submits inc and waits:
     * the results are inc of 0..4. (dask also checks it is the very test client object, as both live
     * in one process; a dist task gets its worker's own client.)
     */
    @Test
    void getClient() throws Exception {
        List<Future<Integer>> fs = client.map(ClientClusterSubmitConformanceTest::viaWorkerClient, List.of(0, 1, 2, 3, 4));
        assertEquals(List.of(1, 2, 3, 4, 5), client.gather(fs));
    }

    /**
     * dask: test_client.py::test_get_client_no_cluster — asking for the worker's client outside a task
     * fails, saying there is none to be had there.
     */
    @Test
    void getClientNoCluster() {
        IllegalStateException e = assertThrows(IllegalStateException.class, WorkerClient::get);
        assertTrue(e.getMessage().contains("only inside a task"), e.getMessage());
    }

    static String schedulerOfWorkerClient() {
        return WorkerClient.get().address();
    }

    /**
     * dask: test_client.py::test_get_client_sync — on each worker, the worker's client talks to the
     * cluster's scheduler.
     */
    @Test
    void getClientSync() throws Exception {
        for (dist.WorkerInfo w : client.workersInfo()) {
            Future<String> f = client.with(Options.defaults().workers(w.address()).pure(false))
                    .submit(ClientClusterSubmitConformanceTest::schedulerOfWorkerClient);
            assertEquals(cluster.schedulerAddress(), f.result(T));
        }
    }

    static int secedeAndSubmit() throws Exception {
        Client c = WorkerClient.get();
        WorkerClient.secede();
        return c.submit(ClientClusterSubmitConformanceTest::inc, 1).result(T);
    }

    /** dask: test_client.py::test_secede_simple — a task that secedes, then submits inc(1) and waits, returns 2. */
    @Test
    void secedeSimple() throws Exception {
        assertEquals(2, client.with(Options.defaults().pure(false)).submit(ClientClusterSubmitConformanceTest::secedeAndSubmit).result(T));
    }

    static int secedeAndMap(int x) throws Exception {
        Client c = WorkerClient.get();
        WorkerClient.secede();
        List<Future<Integer>> fs = c.with(Options.defaults().pure(false))
                .map(ClientClusterSubmitConformanceTest::inc, List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        return c.submit(ClientClusterSubmitConformanceTest::sum, Futures.all(fs)).result(T);
    }

    /**
     * dask: test_client.py::test_secede_balances — ten tasks pinned to one worker each secede and run
     * eleven more: every result is sum(inc(0..9)) = 55. (dask also counts the tasks each worker ran,
     * an internal counter.)
     */
    @Test
    void secedeBalances() throws Exception {
        String a = client.workersInfo().get(0).address();
        List<Future<Integer>> fs = client.with(Options.defaults().workers(a))
                .map(ClientClusterSubmitConformanceTest::secedeAndMap, List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        assertEquals(Collections.nCopies(10, 55), client.gather(fs));
    }

    /** dask's _dynamic_workload: each task above 4 returns 4, the others secede and sum two more such tasks. */
    static int dynamicWorkload(int x, long delayMillis) throws Exception {
        Thread.sleep(delayMillis < 0 ? ThreadLocalRandom.current().nextLong(0, 50) : delayMillis);
        if (x > 4) {
            return 4;
        }
        WorkerClient.secede();
        Client c = WorkerClient.get();
        List<Future<Integer>> fs = c.with(Options.defaults().pure(false))
                .map(ClientClusterSubmitConformanceTest::dynamicWorkload, List.of(x + 1, x + 2), List.of(delayMillis, delayMillis));
        return c.submit(ClientClusterSubmitConformanceTest::sum, Futures.all(fs)).result(T);
    }

    /**
     * dask: test_client.py::test_dynamic_workloads_sync, test_client.py::test_dynamic_workloads_sync_random
     * — a task tree grown from inside tasks (each seceding and waiting on its children) sums to 52,
     * with a fixed delay and with random ones (here up to 50 ms instead of 500 ms).
     */
    @Test
    void dynamicWorkloads() throws Exception {
        assertEquals(52, client.with(Options.defaults().pure(false)).submit(ClientClusterSubmitConformanceTest::dynamicWorkload, 0, 20L).result(T));
        assertEquals(52, client.with(Options.defaults().pure(false)).submit(ClientClusterSubmitConformanceTest::dynamicWorkload, 0, -1L).result(T));
    }

    /**
     * dask: test_client.py::test_idempotence — two clients submitting the same call share one key and
     * one run: the second client's submit (of a result and of an error) adds nothing to the key's
     * scheduler story; submitting it twice from one client is the same as once.
     */
    @Test
    void idempotence() throws Exception {
        try (Client c = Client.connect(cluster.schedulerAddress()); Client f = Client.connect(cluster.schedulerAddress())) {
            Future<Integer> x = c.submit(ClientClusterSubmitConformanceTest::inc, 1001);
            x.result(T);
            int before = schedulerSteps(c, x.key());
            Future<Integer> y = f.submit(ClientClusterSubmitConformanceTest::inc, 1001);
            assertEquals(x.key(), y.key());
            assertEquals(1002, y.result(T));
            assertEquals(before, schedulerSteps(c, x.key()));

            Future<Integer> a = c.submit(ClientClusterSubmitConformanceTest::throwsIt, 1001);
            Futures.wait(List.of(a), T);
            assertEquals(Future.State.FAILED, a.state());
            int errBefore = schedulerSteps(c, a.key());
            Future<Integer> b = f.submit(ClientClusterSubmitConformanceTest::throwsIt, 1001);
            assertEquals(a.key(), b.key());
            Futures.wait(List.of(b), T);
            assertEquals(Future.State.FAILED, b.state());
            assertEquals(errBefore, schedulerSteps(c, a.key()));

            Future<Integer> d = c.submit(ClientClusterSubmitConformanceTest::inc, 1002);
            Future<Integer> e = c.submit(ClientClusterSubmitConformanceTest::inc, 1002);
            Futures.wait(List.of(d, e), T);
            assertEquals(before, schedulerSteps(c, d.key()));
        }
    }

    private static int schedulerSteps(Client c, String key) throws Exception {
        return (int) c.story(key).stream().filter(s -> s.where().equals("scheduler")).count();
    }

    static final java.util.concurrent.atomic.AtomicInteger foo = new java.util.concurrent.atomic.AtomicInteger();

    static int setFoo(int x) {
        foo.set(123);
        return x;
    }

    static int slowinc100(int x) throws InterruptedException {
        Thread.sleep(100);
        return x + 1;
    }

    /**
     * dask: test_client.py::test_fire_and_forget — f(future) is fired and forgotten and its future
     * released at once: it still runs once future is ready (it sets foo to 123), then the scheduler
     * forgets it and keeps only future, which the client still holds.
     */
    @Test
    void fireAndForget() throws Exception {
        foo.set(0);
        Future<Integer> future = client.with(Options.defaults().pure(false)).submit(ClientClusterSubmitConformanceTest::slowinc100, 1);
        Future<Integer> g = client.submit(ClientClusterSubmitConformanceTest::setFoo, future);
        String key = g.key();
        client.fireAndForget(List.of(g));
        g.release();
        assertTrue(Wait.until(T, () -> foo.get() == 123));
        assertTrue(Wait.until(T, () -> state(key).equals("null")), state(key));
        assertEquals("memory", state(future.key()));
        assertEquals(2, future.result(T));
    }

    static double div(int x, int y) {
        if (y == 0) {
            throw new ArithmeticException("division by zero");
        }
        return (double) x / y;
    }

    /**
     * dask: test_client.py::test_fire_and_forget_err — a fired and forgotten task that fails is
     * forgotten by the scheduler soon after.
     */
    @Test
    void fireAndForgetErr() throws Exception {
        Future<Double> f = client.with(Options.defaults().pure(false)).submit(ClientClusterSubmitConformanceTest::div, 1, 0);
        String key = f.key();
        client.fireAndForget(List.of(f));
        f.release();
        assertTrue(Wait.until(T, () -> state(key).equals("null")), state(key));
    }

    static double divide(int x, int y) {
        if (y == 0) {
            throw new ArithmeticException("division by zero");
        }
        return 1.0 * x / y;
    }

    static double sumDoubles(double a, double b) {
        return a + b;
    }

    static double sumList(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).sum();
    }

    /**
     * dask: test_client.py::test_recreate_error_sync — f = sum(div(1, dec(2)), div(1, dec(1))) errs;
     * recreating its error locally runs the division by zero here and raises ZeroDivisionError (an
     * ArithmeticException); f stays erred.
     */
    @Test
    void recreateErrorLocally() throws Exception {
        Future<Integer> x0 = client.submit(ClientClusterSubmitConformanceTest::dec, 2);
        Future<Integer> y0 = client.submit(ClientClusterSubmitConformanceTest::dec, 1);
        Future<Double> x = client.submit(ClientClusterSubmitConformanceTest::divide, 1, x0);
        Future<Double> y = client.submit(ClientClusterSubmitConformanceTest::divide, 1, y0);
        Future<Double> f = client.submit(ClientClusterSubmitConformanceTest::sumDoubles, x, y);
        Futures.wait(List.of(f), T);
        assertEquals(Future.State.FAILED, f.state());
        ArithmeticException e = assertThrows(ArithmeticException.class, () -> client.recreateErrorLocally(f));
        assertEquals("division by zero", e.getMessage());
        assertEquals(Future.State.FAILED, f.state());
    }

    /**
     * dask: test_client.py::test_recreate_error_not_error — a future that did not err is refused with
     * "No errored futures passed".
     */
    @Test
    void recreateErrorNotError() throws Exception {
        Future<Integer> f = client.submit(ClientClusterSubmitConformanceTest::dec, 2);
        f.result(T);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> client.recreateErrorLocally(f));
        assertTrue(e.getMessage().contains("No errored futures passed"), e.getMessage());
    }

    /**
     * dask: test_client.py::test_recreate_task_sync — f = sum([div(1, dec(2)), div(1, dec(2))]) run again
     * here gives 2.
     */
    @Test
    void recreateTaskLocally() throws Exception {
        Future<Integer> x0 = client.submit(ClientClusterSubmitConformanceTest::dec, 2);
        Future<Integer> y0 = client.submit(ClientClusterSubmitConformanceTest::dec, 2);
        Future<Double> x = client.submit(ClientClusterSubmitConformanceTest::divide, 1, x0);
        Future<Double> y = client.submit(ClientClusterSubmitConformanceTest::divide, 1, y0);
        Future<Double> f = client.submit(ClientClusterSubmitConformanceTest::sumList, Futures.all(List.of(x, y)));
        Futures.wait(List.of(f), T);
        assertEquals(2.0, client.recreateTaskLocally(f));
    }
}
