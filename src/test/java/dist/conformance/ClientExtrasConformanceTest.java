package dist.conformance;

import dist.AsCompleted;
import dist.Bag;
import dist.Client;
import dist.Delayed;
import dist.DistTimeoutException;
import dist.Fn1;
import dist.Future;
import dist.Futures;
import dist.Graph;
import dist.Options;
import dist.SchedulerUnavailableException;
import dist.Submitter;
import dist.TaskCancelledException;
import dist.TaskFailedException;
import dist.Wait;
import dist.WorkerClient;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The later part of dask's test_client.py (test_unicode_ascii_keys onwards), on one in-process
 * scheduler with two workers: "a" offers resource foo=4, "b" offers GPU=1, as dask's
 * annotation tests set them up. dask's annotations are per-call {@link Options} here: a graph
 * computed through {@code client.with(options)} gets them on every task.
 *
 * <p>Ported elsewhere: test_scheduler_restart_exception_on_cancelled_futures (RestartConformanceTest);
 * the shutdown and disconnect cases are in ClientExtrasShutdownConformanceTest, test_call_stack in
 * ClientExtrasCallStackConformanceTest, the print cases in ClientExtrasPrintConformanceTest,
 * test_forward_logging in ClientExtrasLoggingConformanceTest.
 *
 * <p>Not applicable:
 * <ul>
 * <li>test_use_synchronous_client_in_async_context, test_client_async_before_loop_starts,
 *     test_client_sync_with_async_def, test_run_on_scheduler_async_def, test_run_on_scheduler_async_def_wait,
 *     test_as_completed_condition_loop, test_fast_close_on_aexit_failure → asyncio event loops.</li>
 * <li>test_async_task, test_async_task_with_partial → coroutine functions as tasks; Java has none.</li>
 * <li>test_as_completed_async_for, test_as_completed_async_for_results → asyncio forms of as_completed
 *     and its with_results case (AsCompletedConformanceTest); Java has no async iteration.</li>
 * <li>test_quiet_quit_when_cluster_leaves, test_quiet_scheduler_loss, test_shutdown_is_quiet_with_cluster,
 *     test_client_is_quiet_cluster_close, test_quiet_close_process → capture Python's logging output.</li>
 * <li>test_turn_off_pickle (2 cases), test_de_serialization, test_de_serialization_none,
 *     test_count_serialization (2 cases) → Python's serializer families and pickle's __reduce__.</li>
 * <li>test_client_repr_closed, test_client_repr_closed_sync, test_dashboard_link_cluster → Jupyter's
 *     _repr_html_ (and subclassing LocalCluster, which is final).</li>
 * <li>test_nested_prioritization, test_annotations_survive_optimization, test_no_threads_lingering,
 *     test_dont_hold_on_to_large_messages, test_benchmark_hardware → xfail or skipped in dask.</li>
 * <li>test_client.py::test_profile_server, test_client.py::test_profile_server_disabled → profile the event
 *     loop thread of each worker and of the scheduler, where dask's c.run and run_on_scheduler call
 *     functions. dist's servers have no such thread (events are handled under a lock by the threads that
 *     bring them, dist.comm.EventLoop), its scheduler runs no user code (it never decodes payloads) and a
 *     worker runs a run function on a thread of its own. The workers' task profiler, enabled and
 *     disabled, is ported in dist.ProfilerTest (test_profile, test_profile_disabled).</li>
 * <li>test_client.py::test_benchmark_hardware_no_workers → the empty answer of Client.benchmark_hardware,
 *     whose own test (test_benchmark_hardware) is skipped in dask; dist measures no disk, memory or
 *     network speeds (the dashboard's transfer figures come from real transfers).</li>
 * <li>test_client.py::test_dump_cluster_state_write_from_scheduler → moves the scheduler's working directory
 *     with run_on_scheduler(os.chdir) and has the scheduler write the file; dist's scheduler runs no user
 *     code and a JVM cannot change its working directory, so dist writes the dump where the client runs
 *     (ported in dumpClusterState).</li>
 * <li>test_direct_async, test_direct_sync, test_direct_to_workers → dist's client always gathers and
 *     scatters straight from and to the workers; there is no switch.</li>
 * <li>test_tuple_keys → keys are strings in dist; Python tuples and hashable dataclasses as keys.</li>
 * <li>test_map_large_kwargs_in_graph, test_profile_bokeh, test_get_mix_futures_and_SubgraphCallable_dask_dataframe,
 *     test_file_descriptors_dont_leak, test_mixed_compression, test_futures_in_subgraphs,
 *     test_annotations_task_state, test_submit_persisted_collection_as_argument (2 cases),
 *     test_worker_clients_do_not_claim_ownership_of_serialize_futures (2 cases) → numpy, pandas,
 *     dask.array or dask.dataframe collections.</li>
 * <li>test_instances → Python's per-class registries of live instances.</li>
 * <li>test_warn_remote, test_warn_manual → Python's warnings module and its categories; a Java task
 *     prints to its client's standard error instead (WorkerClient.print with Stream.STDERR).</li>
 * <li>test_print_manual, test_print_manual_bad_args → log_event("print", ...) with hand-made messages
 *     and their TypeErrors; WorkerClient.print is typed, so a bad file or arguments do not compile.</li>
 * <li>test_annotations_priorities → reads ts.priority, which dist does not show outside the scheduler;
 *     Options.priority applies to every task of a computed graph, and ordering by priority is checked in
 *     PrioritiesConformanceTest.</li>
 * <li>test_annotations_global_vs_local → nested dask.annotate contexts; Options are given per call,
 *     so there is no outer context to override.</li>
 * <li>test_get_client_functions_spawn_clusters → Python's global default client; WorkerClient.get() is
 *     always the task's own scheduler.</li>
 * <li>test_computation_code_walk_frames, test_computation_ignore_ipython_frames (2 cases),
 *     test_computation_store_annotations, test_computation_object_code_dask_compute,
 *     test_computation_object_code_dask_compute_no_frames_default, test_computation_object_code_not_available,
 *     test_computation_object_code_dask_persist, test_computation_object_code_client_submit_simple,
 *     test_computation_object_code_client_submit_list_comp, test_computation_object_code_client_submit_dict_comp,
 *     test_computation_object_code_client_map, test_computation_object_code_client_compute → the scheduler
 *     keeps the caller's Python source frames per computation.</li>
 * <li>test_upload_directory, test_upload_directory_invalid_mode, test_upload_directory_to_scheduler (2 cases)
 *     → Python module directories on sys.path; dist ships code as jars ({@code uploadJar}) and serves
 *     missing classes on demand.</li>
 * <li>test_duck_typed_register_plugin_raises → duck typing; Java's compiler refuses a plugin that does
 *     not implement the interface.</li>
 * <li>TestClientSecurityLoader::test_security_loader, test_security_loader_ignored_if_explicit_security_provided,
 *     test_security_loader_ignored_if_returns_none, test_security_loader_import_failed → a Python import
 *     hook named in the config.</li>
 * <li>test_adjust_heartbeat → the client's tornado periodic callbacks.</li>
 * <li>test_gather_race_vs_AMM (2 cases) → drives a worker's get_data handler and add-keys by hand.</li>
 * <li>test_config_inherited_by_subprocess → dask.config in a spawned Python process.</li>
 * </ul>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientExtrasConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static SchedulerServer scheduler;
    static WorkerServer a, b;
    static Client client;

    static int inc(int x) {
        return x + 1;
    }

    static int add(int x, int y) {
        return x + y;
    }

    static double twice(double x) {
        return 2 * x;
    }

    static Object identity(Object x) {
        return x;
    }

    static int identityInt(int x) {
        return x;
    }

    static int bad(int x) {
        throw new RuntimeException(String.valueOf(x));
    }

    static double div(int x, int y) {
        if (y == 0) {
            throw new ArithmeticException("division by zero");
        }
        return (double) x / y;
    }

    static WorkerServer worker(String name, Map<String, Double> resources) throws IOException {
        return WorkerServer.start(new WorkerServer.Options(scheduler.address(), "127.0.0.1", 0, 2, name, 0,
                8 * 1024, CommConfig.DEFAULT), resources);
    }

    @BeforeAll
    static void start() throws Exception {
        scheduler = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        a = worker("a", Map.of("foo", 4.0));
        b = worker("b", Map.of("GPU", 1.0));
        client = Client.connect(scheduler.address());
        assertTrue(scheduler.awaitWorkers(2, 30, TimeUnit.SECONDS), "two workers");
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (a != null) a.close();
        if (b != null) b.close();
        if (scheduler != null) scheduler.close();
    }

    static String stateOf(String key) {
        try {
            String st = scheduler.query(s -> s.view().stateOf(key), 10, TimeUnit.SECONDS);
            return String.valueOf(st);
        } catch (TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    /** Every key held by any worker. */
    static Set<String> heldKeys() throws Exception {
        Set<String> keys = new HashSet<>();
        client.hasWhat().values().forEach(keys::addAll);
        return keys;
    }

    /** The keys held by worker {@code w}. */
    static List<String> heldBy(WorkerServer w) throws Exception {
        return client.hasWhat().getOrDefault(w.address(), List.of());
    }

    static Options key(String key) {
        return Options.defaults().key(key);
    }

    /**
     * dask: test_client.py::test_performance_report — a block that sums squares writes one HTML file
     * naming the block's task groups, with its styles and script inline (dask's "inline" mode; the
     * "cdn" mode fetches bokeh from elsewhere, which dist's report never does).
     */
    @Test
    void performanceReport(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = dir.resolve("report.html");
        try (dist.PerformanceReport report = client.performanceReport(file)) {
            var fresh = client.with(Options.defaults().pure(false)); // keys of their own: none ran before
            List<Future<Integer>> xs = fresh.map(ClientExtrasConformanceTest::inc, List.of(1, 2, 3, 4));
            assertEquals(14, fresh.submit(ClientExtrasConformanceTest::add, xs.get(0), xs.get(3)).result(T)
                    + fresh.submit(ClientExtrasConformanceTest::add, xs.get(1), xs.get(2)).result(T));
        }
        String html = java.nio.file.Files.readString(file);
        assertTrue(html.startsWith("<!doctype html>"), html);
        assertTrue(html.contains("dist performance report"));
        assertTrue(html.contains("<b id=\"task-count\">6</b>"), html);
        assertTrue(html.contains(">inc<") || html.contains("> inc<"), "the inc group is listed");
        assertTrue(html.contains("add"), "the add group is listed");
        assertFalse(html.contains("http://") || html.contains("https://"), "nothing is fetched from elsewhere");
    }

    /**
     * dask: test_client.py::test_unicode_ascii_keys — submit(inc, 1, key="inc-123"): the future's key
     * is that string, the scheduler holds it in memory on one of the two workers, and the result is 2.
     */
    @Test
    void unicodeAsciiKeys() throws Exception {
        String k = "inc-123";
        Future<Integer> future = client.with(key(k)).submit(ClientExtrasConformanceTest::inc, 1);
        assertEquals(2, future.result(T));
        assertEquals(k, future.key());
        assertEquals("memory", stateOf(k));
        assertEquals(1, client.whoHas(List.of(future)).get(k).size());
        future.release();
    }

    /**
     * dask: test_client.py::test_unicode_keys — the same with key "inc-123μ"; a task depending on it
     * gives 3, and scattering {"data-123": 123} gives a future of that key with 123.
     */
    @Test
    void unicodeKeys() throws Exception {
        String k = "inc-123\u03bc";
        Future<Integer> future = client.with(key(k)).submit(ClientExtrasConformanceTest::inc, 1);
        assertEquals(2, future.result(T));
        assertEquals(k, future.key());
        assertEquals("memory", stateOf(k));
        List<String> holders = client.whoHas(List.of(future)).get(k);
        assertEquals(1, holders.size());
        assertTrue(client.hasWhat().get(holders.get(0)).contains(k));

        Future<Integer> future2 = client.submit(ClientExtrasConformanceTest::inc, future);
        assertEquals(3, future2.result(T));

        Map<String, Future<Integer>> future3 = client.scatter(Map.of("data-123", 123));
        assertEquals("data-123", future3.get("data-123").key());
        assertEquals(123, future3.get("data-123").result(T));
    }

    /** dask's fib for test_nested_compute: each level computes its two halves as a delayed graph. */
    static int fib(int x) throws Exception {
        if (!WorkerClient.inTask()) {
            throw new AssertionError("fib runs outside a task");
        }
        if (x < 2) {
            return x;
        }
        Delayed<Integer> a = Delayed.of(ClientExtrasConformanceTest::fib, x - 1);
        Delayed<Integer> b = Delayed.of(ClientExtrasConformanceTest::fib, x - 2);
        Delayed<Integer> c = Delayed.of(ClientExtrasConformanceTest::add, a, b);
        return c.compute(WorkerClient.get(), T);
    }

    /**
     * dask: test_client.py::test_nested_compute — fib(8) where each call runs inside a task and
     * computes its two halves with a nested compute: 21, and many transitions were made.
     */
    @Test
    void nestedCompute() throws Exception {
        long before = scheduler.query(s -> s.view().transitionCount(), 10, TimeUnit.SECONDS);
        assertEquals(21, client.submit(ClientExtrasConformanceTest::fib, 8).result(T));
        long after = scheduler.query(s -> s.view().transitionCount(), 10, TimeUnit.SECONDS);
        assertTrue(after - before > 50, "transitions: " + (after - before));
    }

    /**
     * dask: test_client.py::test_avoid_delayed_finalize — computing delayed(inc)(1) gives 2, and the
     * one task the scheduler gets is the future's own key: no extra finalize task.
     */
    @Test
    void avoidDelayedFinalize() throws Exception {
        Set<String> before = heldKeys();
        Future<Integer> future = client.compute(Delayed.of(ClientExtrasConformanceTest::inc, 1000));
        assertEquals(1001, future.result(T));
        Set<String> added = heldKeys();
        added.removeAll(before);
        assertEquals(Set.of(future.key()), added);
        future.release();
    }

    /**
     * dask: test_client.py::test_client_with_name, test_client_name — a client named "foo" (and
     * "hello-world", which dask sets through its client-name config; dist takes the name as an
     * argument) has the name in its id, and the scheduler knows its tasks' submitter by that id.
     */
    @Test
    void clientWithName() throws Exception {
        for (String name : List.of("foo", "hello-world")) {
            try (Client c = Client.connect(scheduler.address(), CommConfig.DEFAULT, name)) {
                assertTrue(c.id().contains(name), c.id());
                Future<Integer> f = c.with(Options.defaults().pure(false)).submit(ClientExtrasConformanceTest::inc, 1);
                assertEquals(2, f.result(T));
                String submitter = scheduler.query(s -> s.view().submitterOf(f.key()), 10, TimeUnit.SECONDS);
                assertEquals(c.id(), submitter);
            }
        }
        assertFalse(client.id().contains("foo"), client.id());
    }

    /**
     * dask: test_client.py::test_task_metadata — missing metadata is a KeyError (NoSuchElementException)
     * unless a default is given; a value set is read back; looking below a value is a TypeError
     * (IllegalArgumentException), default or not; metadata named after a task goes when the task is
     * forgotten; paths make maps, and a value on a path is replaced by a map.
     */
    @Test
    void taskMetadata() throws Exception {
        String x = "x-" + java.util.UUID.randomUUID();
        assertThrows(java.util.NoSuchElementException.class, () -> client.getMetadata(x));
        assertThrows(java.util.NoSuchElementException.class, () -> client.getMetadata(List.of(x)));
        assertNull(client.getMetadata(List.of(x), null));
        assertThrows(java.util.NoSuchElementException.class, () -> client.getMetadata(List.of(x, "y")));
        assertNull(client.getMetadata(List.of(x, "y"), null));

        client.setMetadata(x, 1);
        assertEquals(1, (Integer) client.getMetadata(x));
        assertThrows(IllegalArgumentException.class, () -> client.getMetadata(List.of(x, "y")));
        assertThrows(IllegalArgumentException.class, () -> client.getMetadata(List.of(x, "y"), null));

        Future<Integer> future = client.with(Options.defaults().pure(false)).submit(ClientExtrasConformanceTest::inc, 1);
        String key = future.key();
        Futures.wait(List.of(future), T);
        client.setMetadata(key, 123);
        assertEquals(123, (Integer) client.getMetadata(key));
        future.release();
        assertTrue(Wait.until(T, () -> stateOf(key).equals("null")));
        assertThrows(java.util.NoSuchElementException.class, () -> client.getMetadata(key));
        assertNull(client.getMetadata(List.of(key), null));

        client.setMetadata(List.of(x, "a"), 1);
        assertEquals(Map.of("a", 1), client.getMetadata(x));
        client.setMetadata(List.of(x, "b"), 2);
        assertEquals(Map.of("a", 1, "b", 2), client.getMetadata(x));
        assertEquals(1, (Integer) client.getMetadata(List.of(x, "a")));

        client.setMetadata(List.of(x, "a", "c", "d"), 1);
        assertEquals(Map.of("a", Map.of("c", Map.of("d", 1)), "b", 2), client.getMetadata(x));
    }

    static int length(byte[] b) {
        return b.length;
    }

    static int doubles(double[] d) {
        return d.length;
    }

    /** Warnings logged to "dist.client" while {@code body} runs. */
    static List<String> clientWarnings(Runnable body) {
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("dist.client");
        java.util.logging.Handler h = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
                    seen.add(r.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(h);
        try {
            body.run();
        } finally {
            log.removeHandler(h);
        }
        return seen;
    }

    /**
     * dask: test_client.py::test_warn_when_submitting_large_values,
     * test_warn_when_submitting_large_values_memoryview — a submission carrying 10 MB of argument
     * warns "Sending large graph of size" (a WARNING on the client's logger, dask's UserWarning); one
     * of 9.5 MB (an array of doubles, counted by bytes, not elements) does not. (dask's threshold is a
     * config key; dist's is fixed.)
     */
    @Test
    void warnWhenSubmittingLargeValues() {
        Submitter impure = client.with(Options.defaults().pure(false));
        List<String> big = clientWarnings(() -> impure.submit(ClientExtrasConformanceTest::length, new byte[10_000_000]));
        assertTrue(big.stream().anyMatch(m -> m.contains("Sending large graph of size")), big.toString());

        List<String> under = clientWarnings(() -> impure.submit(ClientExtrasConformanceTest::doubles,
                new double[9_500_000 / 8]));
        assertTrue(under.stream().noneMatch(m -> m.contains("Sending large graph")), under.toString());
        List<String> over = clientWarnings(() -> impure.submit(ClientExtrasConformanceTest::doubles,
                new double[10_000_000 / 8]));
        assertTrue(over.stream().anyMatch(m -> m.contains("Sending large graph of size")), over.toString());
    }

    /**
     * dask: test_client.py::test_closed_client_send_message — a closed client refuses a submit with
     * a short message that says what could not be sent.
     */
    @Test
    void closedClientSendMessage() throws Exception {
        Client c = Client.connect(scheduler.address());
        c.close();
        SchedulerUnavailableException e = assertThrows(SchedulerUnavailableException.class,
                () -> c.submit(ClientExtrasConformanceTest::inc, 1));
        String msg = e.getMessage();
        assertTrue(msg.contains("closed"), msg);
        assertTrue(msg.length() < 100, msg);
    }

    /** dask's _UnhashableCallable: a function object that cannot be hashed (a record, so it travels). */
    record Unhashable() implements Fn1<Integer, Integer> {
        @Override
        public Integer apply(Integer x) {
            return x + 1;
        }

        @Override
        public int hashCode() {
            throw new UnsupportedOperationException("unhashable");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Unhashable;
        }
    }

    /** dask: test_client.py::test_unhashable_function — a function object that cannot be hashed still runs: 2. */
    @Test
    void unhashableFunction() throws Exception {
        assertEquals(2, client.submit(new Unhashable(), 1).result(T));
    }

    /**
     * dask: test_client.py::test_client_doesnt_close_given_loop — two clients, one after the other,
     * on the same scheduler: closing the first leaves the second working (2, then 3).
     */
    @Test
    void clientDoesntCloseGivenLoop() throws Exception {
        try (Client c = Client.connect(scheduler.address())) {
            assertEquals(2, c.submit(ClientExtrasConformanceTest::inc, 1).result(T));
        }
        try (Client c = Client.connect(scheduler.address())) {
            assertEquals(3, c.submit(ClientExtrasConformanceTest::inc, 2).result(T));
        }
    }

    /**
     * dask: test_client.py::test_client_timeout_2 — with a 10 ms connect timeout, a client of a port
     * nobody listens on fails saying the scheduler cannot be reached (and is not left open).
     */
    @Test
    void clientTimeout2() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String address = "127.0.0.1:" + port;
        SchedulerUnavailableException e = assertThrows(SchedulerUnavailableException.class,
                () -> Client.connect(address, Duration.ofMillis(10)).close());
        assertEquals(address, e.address());
    }

    static int badFn(int x) {
        throw new RuntimeException("lol");
    }

    /**
     * dask: test_client.py::test_scatter_error_cancel — a task failing on scattered data whose future
     * was dropped ends "error" and stays "error", not cancelled.
     */
    @Test
    void scatterErrorCancel() throws Exception {
        List<Future<Integer>> x = client.scatter(List.of(1));
        Future<Integer> y = client.with(Options.defaults().pure(false)).submit(ClientExtrasConformanceTest::badFn, x.get(0));
        x.get(0).release();
        Futures.wait(List.of(y), T);
        assertEquals(Future.State.FAILED, y.state());
        client.whoHas(List.of(y)); // a round trip after the release, where dask sleeps 0.1 s
        assertEquals(Future.State.FAILED, y.state());
        assertFalse(y.isCancelled());
        assertEquals("erred", stateOf(y.key()));
    }

    /**
     * dask: test_client.py::test_mixing_clients_same_scheduler — a second client of the same scheduler
     * uses the first's future: inc(inc(1)) == 3. dist gets there through the published dataset, which
     * gives the second client its own future of the key; handing it the first client's future object is
     * refused at once, saying so, since each client holds its own futures' keys alive.
     */
    @Test
    void mixingClientsSameScheduler() throws Exception {
        try (Client c1 = Client.connect(scheduler.address()); Client c2 = Client.connect(scheduler.address())) {
            Future<Integer> future = c1.with(Options.defaults().pure(false)).submit(ClientExtrasConformanceTest::inc, 1);
            c1.publishDataset("mixing-x", future);
            Future<Integer> mine = c2.getDataset("mixing-x");
            assertEquals(future.key(), mine.key());
            assertEquals(3, c2.submit(ClientExtrasConformanceTest::inc, mine).result(T));

            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> c2.submit(ClientExtrasConformanceTest::inc, future));
            assertTrue(String.valueOf(e.getMessage()).contains("belongs to another client"), e.toString());
            c1.unpublishDataset("mixing-x");
        }
    }

    /**
     * dask: test_client.py::test_mixing_clients_different_scheduler — a future of one scheduler given
     * to a client of another cannot be used there: dask's task ends cancelled, dist refuses the submit.
     */
    @Test
    void mixingClientsDifferentScheduler() throws Exception {
        try (SchedulerServer s2 = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
             WorkerServer w1 = WorkerServer.start(WorkerServer.Options.of(s2.address(), 1));
             Client c1 = Client.connect(scheduler.address());
             Client c2 = Client.connect(s2.address())) {
            Future<Integer> future = c1.submit(ClientExtrasConformanceTest::inc, 1);
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> c2.submit(ClientExtrasConformanceTest::inc, future));
            assertTrue(String.valueOf(e.getMessage()).contains("belongs to another client"), e.toString());
        }
    }

    /**
     * dask: test_client.py::test_multiple_scatter — five scatters of 1 at once; the first future's
     * result can be read twice.
     */
    @Test
    void multipleScatter() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(5);
        try {
            List<java.util.concurrent.Future<List<Future<Integer>>>> calls = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                calls.add(pool.submit(() -> client.scatter(List.of(1))));
            }
            List<Future<Integer>> futures = new ArrayList<>();
            for (var c : calls) {
                futures.add(c.get(30, TimeUnit.SECONDS).get(0));
            }
            assertEquals(1, futures.get(0).result(T));
            assertEquals(1, futures.get(0).result(T));
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * dask: test_client.py::test_wait_for_workers — waiting for 3 workers does not end while there are
     * 2; a third worker ends it; waiting for 10 with a 1 ms timeout fails with a TimeoutError saying
     * "2/10" and "1 ms".
     */
    @Test
    void waitForWorkers() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.Future<?> waiting = pool.submit(() -> {
                client.waitForWorkers(3, T);
                return null;
            });
            // dask gives it two polls; here: two answers of the scheduler later it still waits
            client.workersInfo();
            client.workersInfo();
            assertFalse(waiting.isDone());
            try (WorkerServer third = WorkerServer.start(WorkerServer.Options.of(scheduler.address(), 1))) {
                waiting.get(30, TimeUnit.SECONDS);
                DistTimeoutException e = assertThrows(DistTimeoutException.class,
                        () -> client.waitForWorkers(10, Duration.ofMillis(1)));
                assertTrue(e.getMessage().replace(" ", "").contains("3/10"), e.getMessage());
                assertTrue(e.getMessage().contains("1 ms"), e.getMessage());
            }
            assertTrue(Wait.until(T, () -> scheduler.workerCount() == 2));
            DistTimeoutException e = assertThrows(DistTimeoutException.class,
                    () -> client.waitForWorkers(10, Duration.ofMillis(1)));
            assertTrue(e.getMessage().replace(" ", "").contains("2/10"), e.getMessage());
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * dask: test_client.py::test_wait_for_workers_n_workers_value_check — n of None, 0 or 1.0 is a
     * ValueError (IllegalArgumentException; None and 1.0 do not compile), 1 and 2 return.
     */
    @Test
    void waitForWorkersValueCheck() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> client.waitForWorkers(0, T));
        assertThrows(IllegalArgumentException.class, () -> client.waitForWorkers(-1, T));
        client.waitForWorkers(1, T);
        client.waitForWorkers(2, T);
    }

    /**
     * dask: test_client.py::test_wait_for_workers_updates_info — once waitForWorkers returns, the
     * client's view of the scheduler lists workers.
     */
    @Test
    void waitForWorkersUpdatesInfo() throws Exception {
        client.waitForWorkers(1, T);
        assertFalse(client.workersInfo().isEmpty());
    }

    /**
     * dask: test_client.py::test_await_future — a future's result is 2; a future of div(1, 0) raises
     * the task's ZeroDivisionError (ArithmeticException here).
     */
    @Test
    void awaitFuture() throws Exception {
        assertEquals(2, client.submit(ClientExtrasConformanceTest::inc, 1).result(T));
        Future<Double> future = client.submit(ClientExtrasConformanceTest::div, 1, 0);
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> future.result(T));
        assertInstanceOf(ArithmeticException.class, e.getCause());
    }

    static final CountDownLatch event = new CountDownLatch(1);

    /** dask's {@code lambda ev: ev.wait()}: holds its thread until the test sets the event. */
    static int waitForEvent(int x) throws InterruptedException {
        event.await(30, TimeUnit.SECONDS);
        return x;
    }

    /**
     * dask: test_client.py::test_as_completed_async_for_cancel — x finished, y cancelled while
     * running: as_completed([x, y]) yields both, x then y.
     */
    @Test
    void asCompletedCancel() throws Exception {
        Future<Integer> x = client.submit(ClientExtrasConformanceTest::inc, 1);
        Future<Integer> y = client.with(Options.defaults().pure(false)).submit(ClientExtrasConformanceTest::waitForEvent, 1);
        AsCompleted<Integer> ac = Futures.asCompleted(List.of(x, y));
        x.result(T);
        y.cancel(true);
        List<Future<Integer>> futs = new ArrayList<>();
        Future<Integer> f;
        while ((f = ac.next(T)) != null) {
            futs.add(f);
        }
        assertEquals(List.of(x, y), futs);
        event.countDown(); // frees the worker thread, as dask's teardown sets the event
    }

    /**
     * dask: test_client.py::test_exception_text — a task raising Exception(123): the error's text
     * holds "123", and its traceback names the raise and the function "bad".
     */
    @Test
    void exceptionText() throws Exception {
        Future<Integer> future = client.submit(ClientExtrasConformanceTest::bad, 123);
        Futures.wait(List.of(future), T);
        assertEquals("erred", stateOf(future.key()));
        Throwable e = future.exception(T);
        assertInstanceOf(RuntimeException.class, e);
        assertTrue(e.getMessage().contains("123"), e.getMessage());
        String tb = future.remoteStackTrace();
        assertTrue(tb.contains("RuntimeException"), tb);
        assertTrue(tb.contains("bad"), tb);
    }

    // ------------------------------------------------------------ records: dask's namedtuples

    record Plain(Object value) {
    }

    /** dask's NewArgsNamedTuple: a constructor that joins two arguments into one field. */
    record NewArgs(String ab, Object c) {
        NewArgs(String a, String b, Object c) {
            this(a + "-" + b, c);
        }
    }

    /** dask's NewArgsExNamedTuple: positional and keyword-like fields. */
    record NewArgsEx(String ab, Object c, Map<String, Object> kw) {
        NewArgsEx(String a, String b, Object c, Map<String, Object> kw) {
            this(a + "-" + b, c, kw);
        }
    }

    /**
     * dask: test_client.py::test_unpacks_remotedata_namedtuple — a namedtuple argument (a record here:
     * plain, with a custom constructor, with keyword fields) comes back from identity equal.
     */
    @Test
    void unpacksRecords() throws Exception {
        for (Object v : List.of(new Plain("some-data"), new NewArgs("some", "data", "more"),
                new NewArgsEx("some", "data", "more", Map.of("another", "data")))) {
            assertEquals(v, client.submit(ClientExtrasConformanceTest::identity, v).result(T));
        }
    }

    /**
     * dask: test_client.py::test_resolves_future_in_namedtuple — a future inside a namedtuple (a
     * record here) reaches the task as its value: identity gives the record with 1 in its place, also
     * inside the keyword fields.
     */
    @Test
    void resolvesFutureInRecords() throws Exception {
        Future<Integer> inner = client.submit(ClientExtrasConformanceTest::identityInt, 1);
        assertEquals(new Plain(1), client.submit(ClientExtrasConformanceTest::identity, new Plain(inner)).result(T));
        assertEquals(new NewArgs("some", "data", 1),
                client.submit(ClientExtrasConformanceTest::identity, new NewArgs("some", "data", inner)).result(T));
        assertEquals(new NewArgsEx("some", "data", 1, Map.of("another", "data", "inner", 1)),
                client.submit(ClientExtrasConformanceTest::identity,
                        new NewArgsEx("some", "data", inner, Map.of("another", "data", "inner", inner))).result(T));
    }

    /** dask: test_client.py::test_resolves_future_in_dict — identity({"x": future of 1, "y": 2}) == {"x": 1, "y": 2}. */
    @Test
    void resolvesFutureInDict() throws Exception {
        Future<Integer> inner = client.submit(ClientExtrasConformanceTest::identityInt, 1);
        assertEquals(Map.of("x", 1, "y", 2),
                client.submit(ClientExtrasConformanceTest::identity, Map.of("x", inner, "y", 2)).result(T));
    }

    static int reducer(List<Integer> futs) {
        return futs.stream().mapToInt(i -> i).sum();
    }

    static int reducerOffset(List<Integer> futs, int offset) {
        return reducer(futs) + offset;
    }

    static int ten() {
        return 10;
    }

    static int twenty() {
        return 20;
    }

    static int one() {
        return 1;
    }

    /**
     * dask: test_client.py::test_map_accepts_nested_futures — map over [[f1, f2]] gives one task
     * whose argument is the list of their values: 30; with an offset that is itself a future (a second
     * mapped list here, as dist has no keyword arguments): 31. dask's case with an unused keyword
     * ({@code foo=True}) is the plain case.
     */
    @Test
    void mapAcceptsNestedFutures() throws Exception {
        Future<Integer> f1 = client.submit(ClientExtrasConformanceTest::ten);
        Future<Integer> f2 = client.submit(ClientExtrasConformanceTest::twenty);
        Future<Integer> plain = client.map(ClientExtrasConformanceTest::reducer, List.of(Futures.all(List.of(f1, f2)))).get(0);
        assertEquals(30, plain.result(T));

        Future<Integer> offset = client.submit(ClientExtrasConformanceTest::one);
        Future<Integer> withOffset = client.map(ClientExtrasConformanceTest::reducerOffset,
                List.of(Futures.all(List.of(f1, f2))), List.of(offset)).get(0);
        assertEquals(31, withOffset.result(T));
    }

    // ------------------------------------------------------------ retry

    /** dask's config value "foo", read by tasks on the in-process workers; null: not set. */
    static volatile Object foo;

    /** dask's {@code assert dask.config.get("foo")}. */
    static boolean assertFoo() {
        if (!(foo instanceof Boolean b && b)) {
            throw new AssertionError("foo is " + foo);
        }
        return true;
    }

    /** dask's {@code dask.config.get("foo")}: a KeyError (NoSuchElementException) when unset. */
    static int getFoo() {
        Object v = foo;
        if (v == null) {
            throw new java.util.NoSuchElementException("foo");
        }
        return (Integer) v;
    }

    static int getFooPlusOne(int x) {
        return getFoo() + 1;
    }

    static Options uniqueKey(String name) {
        return Options.defaults().key(name + "-" + java.util.UUID.randomUUID());
    }

    /**
     * dask: test_client.py::test_retry — a task that asserts on a setting fails with AssertionError
     * while it is false; once it is true, retrying the future runs the task again and it succeeds.
     * dist's retry gives a new future; the erred one stays erred.
     */
    @Test
    void retry() throws Exception {
        foo = false;
        Future<Boolean> future = client.with(uniqueKey("f")).submit(ClientExtrasConformanceTest::assertFoo);
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> future.result(T));
        assertInstanceOf(AssertionError.class, e.getCause());

        foo = true;
        Future<Boolean> again = future.retry();
        assertEquals(future.key(), again.key());
        assertTrue(again.result(T));
        assertEquals("memory", stateOf(future.key()));
        assertEquals(Future.State.FAILED, future.state());
    }

    /**
     * dask: test_client.py::test_retry_dependencies — x reads an unset setting (KeyError), y = inc(x)
     * fails with it; once it is 100, retrying y runs x again too: 101. Retrying y and x again after
     * that changes nothing: 101.
     */
    @Test
    void retryDependencies() throws Exception {
        foo = null;
        Future<Integer> x = client.with(uniqueKey("f")).submit(ClientExtrasConformanceTest::getFoo);
        Future<Integer> y = client.with(uniqueKey("inc")).submit(ClientExtrasConformanceTest::inc, x);
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> y.result(T));
        assertInstanceOf(java.util.NoSuchElementException.class, e.getCause());

        foo = 100;
        Future<Integer> y2 = y.retry();
        assertEquals(101, y2.result(T));

        Future<Integer> y3 = y2.retry();
        Future<Integer> x2 = x.retry();
        assertEquals(101, y3.result(T));
        assertEquals(100, x2.result(T));
    }

    /**
     * dask: test_client.py::test_released_dependencies — x = inc(1), y = f(x) reading an unset
     * setting; x's future is dropped; y fails with KeyError; once the setting is 100, retrying y gives
     * 101 (x is computed again from its recipe if it was let go).
     */
    @Test
    void releasedDependencies() throws Exception {
        foo = null;
        Future<Integer> x = client.with(uniqueKey("x")).submit(ClientExtrasConformanceTest::inc, 1);
        Future<Integer> y = client.with(uniqueKey("y")).submit(ClientExtrasConformanceTest::getFooPlusOne, x);
        x.release();
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> y.result(T));
        assertInstanceOf(java.util.NoSuchElementException.class, e.getCause());

        foo = 100;
        assertEquals(101, y.retry().result(T));
    }

    // ------------------------------------------------------------ persisted collections

    static double random(int seed) {
        return new java.util.Random(seed).nextDouble();
    }

    /**
     * dask: test_client.py::test_release_persisted_collection, test_release_persisted_collection_sync —
     * a persisted collection whose futures are all released is gone from the scheduler, and computing it
     * again raises CancelledError.
     */
    @Test
    void releasePersistedCollection() throws Exception {
        Delayed<Double> arr = client.persist(Delayed.of(ClientExtrasConformanceTest::random, 42));
        arr.future().result(T);
        String k = arr.future().key();

        arr.future().release();
        assertTrue(Wait.until(T, () -> stateOf(k).equals("null")), stateOf(k));

        assertThrows(TaskCancelledException.class, () -> client.compute(arr).result(T));
    }

    /**
     * dask: test_client.py::test_futures_of_sorted — a bag of range(10) in 5 partitions, persisted: its
     * futures come in the order of its partitions (dask compares their keys with __dask_keys__; here
     * each future holds its partition's elements, in order).
     */
    @Test
    void futuresOfSorted() throws Exception {
        Bag<Integer> persisted = Bag.fromSequence(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 5).persist(client);
        List<Future<List<Integer>>> futures = new ArrayList<>();
        for (Delayed<List<Integer>> p : persisted.partitions()) {
            futures.add(p.future());
        }
        assertEquals(5, futures.size());
        assertEquals(List.of(List.of(0, 1), List.of(2, 3), List.of(4, 5), List.of(6, 7), List.of(8, 9)),
                client.gather(futures));
        client.cancel(futures);
    }

    // ------------------------------------------------------------ annotations: per-call Options

    /** Two chunks of ones and a task per chunk, as dask's da.ones(10, chunks=(5,)) without fusion. */
    static Graph ones(String tag) {
        return new Graph().value("ones-" + tag + "-0", 1.0).value("ones-" + tag + "-1", 1.0)
                .task("x-" + tag + "-0", ClientExtrasConformanceTest::twice, Graph.key("ones-" + tag + "-0"))
                .task("x-" + tag + "-1", ClientExtrasConformanceTest::twice, Graph.key("ones-" + tag + "-1"));
    }

    static List<String> xKeys(String tag) {
        return List.of("x-" + tag + "-0", "x-" + tag + "-1");
    }

    /**
     * dask: test_client.py::test_annotations_workers, test_annotations_compute_time,
     * test_workers_collection_restriction — a collection persisted with workers=[a] (options given at
     * compute time, as dist has no graph annotations) has every piece on a and nothing on b.
     */
    @Test
    void annotationsWorkers() throws Exception {
        String tag = java.util.UUID.randomUUID().toString();
        Map<String, Future<Object>> x = client.with(Options.defaults().workers(a.address())).persist(ones(tag), xKeys(tag));
        assertEquals(List.of(2.0, 2.0), client.gather(new ArrayList<>(x.values())));
        for (String k : xKeys(tag)) {
            assertEquals(List.of(a.address()), client.whoHas(List.of(x.get(k))).get(k));
        }
        assertTrue(heldBy(b).stream().noneMatch(k -> k.contains(tag)), heldBy(b).toString());
        client.cancel(x.values());
    }

    /**
     * dask: test_client.py::test_annotations_resources, test_annotations_resources_culled — a collection
     * persisted needing GPU=1 runs on the GPU worker b only; computing one piece of it (the rest culled)
     * works.
     */
    @Test
    void annotationsResources() throws Exception {
        String tag = java.util.UUID.randomUUID().toString();
        Submitter gpu = client.with(Options.defaults().resource("GPU", 1));
        Map<String, Future<Object>> x = gpu.persist(ones(tag), xKeys(tag));
        assertEquals(List.of(2.0, 2.0), client.gather(new ArrayList<>(x.values())));
        for (String k : xKeys(tag)) {
            assertEquals(List.of(b.address()), client.whoHas(List.of(x.get(k))).get(k));
        }
        client.cancel(x.values());

        String tag2 = java.util.UUID.randomUUID().toString();
        assertEquals(2.0, gpu.compute(ones(tag2), xKeys(tag2).get(0)).result(T));
    }

    /**
     * dask: test_client.py::test_annotations_loose_restrictions — workers=["fake"] with
     * allow_other_workers=True is a preference: the collection still computes.
     */
    @Test
    void annotationsLooseRestrictions() throws Exception {
        String tag = java.util.UUID.randomUUID().toString();
        Map<String, Future<Object>> x = client.with(Options.defaults().workers("fake").allowOtherWorkers(true))
                .persist(ones(tag), xKeys(tag));
        assertEquals(List.of(2.0, 2.0), client.gather(new ArrayList<>(x.values())));
        client.cancel(x.values());
    }

    /**
     * dask: test_client.py::test_annotations_submit_map — submit and map needing foo=1 run only on the
     * worker offering foo (a); b never gets one of those tasks.
     */
    @Test
    void annotationsSubmitMap() throws Exception {
        Submitter foo = client.with(Options.defaults().resource("foo", 1).pure(false));
        Future<Integer> f = foo.submit(ClientExtrasConformanceTest::inc, 0);
        List<Future<Integer>> fs = foo.map(ClientExtrasConformanceTest::inc, List.of(10, 11, 12));
        List<Future<Integer>> all = new ArrayList<>(fs);
        all.add(f);
        assertEquals(List.of(11, 12, 13, 1), client.gather(all));
        for (Future<Integer> x : all) {
            assertEquals(List.of(a.address()), client.whoHas(List.of(x)).get(x.key()));
            assertTrue(client.story(x).stream().noneMatch(e -> b.address().equals(e.where())
                    || String.valueOf(e.detail()).contains(b.address())), x.key());
        }
    }

    static final AtomicInteger flakyCalls = new AtomicInteger();

    /** dask's varying([ZeroDivisionError("one"), ZeroDivisionError("two"), 2, 2]) times x. */
    static double flakyDouble(double x) {
        int n = flakyCalls.getAndIncrement();
        if (n < 2) {
            throw new ArithmeticException(n == 0 ? "one" : "two");
        }
        return 2 * x;
    }

    /**
     * dask: test_client.py::test_annotations_retries, test_annotations_blockwise_unpack — pieces persisted
     * with retries=2 survive a flaky function failing twice, and later pieces with retries=0 built on
     * them give ones * 4.
     */
    @Test
    void annotationsRetries() throws Exception {
        flakyCalls.set(0);
        String tag = java.util.UUID.randomUUID().toString();
        Graph g = new Graph().value("o-" + tag + "-0", 1.0).value("o-" + tag + "-1", 1.0)
                .task("y-" + tag + "-0", ClientExtrasConformanceTest::flakyDouble, Graph.key("o-" + tag + "-0"))
                .task("y-" + tag + "-1", ClientExtrasConformanceTest::flakyDouble, Graph.key("o-" + tag + "-1"));
        List<Future<Object>> y = client.with(Options.defaults().retries(2))
                .compute(g, List.of("y-" + tag + "-0", "y-" + tag + "-1"));
        @SuppressWarnings("unchecked") // a graph's outputs are typed Object; these hold doubles
        List<Future<Double>> yd = (List<Future<Double>>) (List<?>) y;
        List<Future<Double>> z = client.with(Options.defaults().retries(0)).map(ClientExtrasConformanceTest::twice, yd);
        assertEquals(List.of(4.0, 4.0), client.gather(z));
        assertEquals(4, flakyCalls.get());
    }

    /**
     * dask: test_config_scheduler_address — with the config key scheduler-address set, a client made
     * without an address reaches that scheduler (dask also checks the log line saying so).
     */
    @Test
    void configSchedulerAddress() throws Exception {
        try (dist.config.Config.Override o = dist.config.Config.set("distributed.scheduler-address", scheduler.address());
             Client c = Client.connect()) {
            assertEquals(scheduler.address(), c.address());
            assertEquals(2, c.submit(ClientExtrasConformanceTest::inc, 1).result(T));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, Client::connect);
        assertTrue(e.getMessage().contains("distributed.scheduler-address"), e.getMessage());
    }

    /**
     * dask: test_dashboard_link, test_dashboard_link_inproc — with distributed.dashboard.link set to
     * "{scheme}://foo-{USER}:{port}/status" the link names the environment's user and the dashboard's
     * port; with "{host}" it is the host alone, without a slash.
     */
    @Test
    void dashboardLink() throws Exception {
        try (dist.LocalCluster lc = dist.LocalCluster.builder().workers(1).threadsPerWorker(1).dashboard(0)
                .output(null).start(); Client c = lc.client()) {
            String plain = c.dashboardLink().orElseThrow();
            java.net.URI u = java.net.URI.create(plain);
            assertEquals("http://" + u.getHost() + ":" + u.getPort() + "/status", plain);
            String user = System.getenv().getOrDefault("USER", "{USER}");
            try (dist.config.Config.Override o = dist.config.Config.set("distributed.dashboard.link",
                    "{scheme}://foo-{USER}:{port}/status")) {
                assertEquals("http://foo-" + user + ":" + u.getPort() + "/status", c.dashboardLink().orElseThrow());
            }
            try (dist.config.Config.Override o = dist.config.Config.set("distributed.dashboard.link", "{host}")) {
                assertFalse(c.dashboardLink().orElseThrow().contains("/"));
            }
        }
    }

    /**
     * dask: test_client.py::test_register_worker_plugin_instance_required — registering needs a plugin
     * object (dask refuses a class); null is refused before anything is sent.
     */
    @Test
    void registerWorkerPluginInstanceRequired() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> client.registerPlugin((dist.WorkerPlugin) null));
        assertTrue(e.getMessage().contains("instance"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> client.registerPlugin((dist.NannyPlugin) null));
    }

    /** A plugin whose setup throws a ValueError-like exception. */
    public static class ValueErrorPlugin implements dist.WorkerPlugin {
        @Override
        public void setup(dist.worker.WorkerContext worker) {
            throw new IllegalArgumentException("foo");
        }
    }

    /**
     * dask: test_client.py::test_register_worker_plugin_exception — a plugin whose setup throws fails
     * the registration with that exception, its message kept.
     */
    @Test
    void registerWorkerPluginException() throws Exception {
        try (PluginProbes.Cluster pc = PluginProbes.Cluster.start(1, false)) {
            dist.PluginFailedException e = assertThrows(dist.PluginFailedException.class,
                    () -> pc.client.registerPlugin(new ValueErrorPlugin()));
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
            assertEquals("foo", e.getCause().getMessage());
        }
    }

    /**
     * Eight of ten workers pause (memory past their pause fraction): scattered data and its copies
     * go only to the two running ones, with or without a list of workers, broadcast or not.
     * dask: test_client.py::test_scatter_and_replicate_avoid_paused_workers
     */
    @Test
    void scatterAndReplicateAvoidPausedWorkers() throws Exception {
        try (var t = PausedWorkers.noSpill();
             SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT)) {
            List<WorkerServer> ws = new ArrayList<>();
            try (Client c = Client.connect(s.address())) {
                for (int i = 0; i < 10; i++) {
                    ws.add(PausedWorkers.worker(s, "w" + i, i == 3 || i == 7 ? 0 : PausedWorkers.LIMIT));
                }
                assertTrue(s.awaitWorkers(10, 30, TimeUnit.SECONDS));
                List<Future<byte[]>> paused = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    if (i != 3 && i != 7) {
                        paused.add(PausedWorkers.pause(c, s, ws.get(i))); // held: released, the worker would resume
                    }
                }
                assertEquals(8, paused.size());
                List<String> inner = ws.subList(1, 9).stream().map(WorkerServer::address).toList();
                int n = 0;
                for (boolean workersArg : new boolean[] {false, true}) {
                    for (boolean broadcast : new boolean[] {false, true}) {
                        String key = "x" + n++;
                        Future<Integer> f = c.scatter(Map.of(key, 1), workersArg ? inner : List.of(), broadcast).get(key);
                        if (!broadcast) {
                            c.replicate(List.of(f), 10, List.of(), 2);
                        }
                        Set<String> holders = Set.copyOf(c.whoHas(List.of(f)).get(key));
                        assertEquals(Set.of(ws.get(3).address(), ws.get(7).address()), holders,
                                "workers arg " + workersArg + ", broadcast " + broadcast);
                    }
                }
                assertTrue(paused.stream().allMatch(Future::isDone)); // kept reachable to here
            } finally {
                ws.forEach(WorkerServer::close);
            }
        }
    }

    /** The dump of {@code file}, checked as dask's _verify_cluster_dump checks one. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> verifyDump(java.nio.file.Path file, Set<String> workers) {
        Map<String, Object> state = dist.ClusterDump.load(file);
        assertTrue(state.containsKey("scheduler"), state.keySet().toString());
        assertTrue(state.containsKey("workers"), state.keySet().toString());
        assertTrue(state.containsKey("versions"), state.keySet().toString());
        assertEquals(workers, ((Map<String, Object>) state.get("workers")).keySet());
        return state;
    }

    /**
     * dask: test_client.py::test_dump_cluster_state_sync, test_client.py::test_dump_cluster_state_async — the
     * cluster's state goes to NAME.msgpack.gz or NAME.yaml and reads back as a map with the scheduler,
     * every worker by address and the versions. dist has one blocking call for dask's sync and async
     * forms; dask's fsspec URLs ("file://...") are Python's fsspec, so a dump takes a Path.
     */
    @Test
    void dumpClusterState(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        Set<String> workers = client.ncores().keySet();
        assertTrue(workers.containsAll(Set.of(a.address(), b.address())));
        java.nio.file.Path packed = client.dumpClusterState(tmp.resolve("foo"));
        assertEquals(tmp.resolve("foo.msgpack.gz"), packed);
        verifyDump(packed, workers);
        java.nio.file.Path yaml = client.dumpClusterState(tmp.resolve("foo"), "yaml", List.of());
        assertEquals(tmp.resolve("foo.yaml"), yaml);
        verifyDump(yaml, workers);
    }

    /** dask: test_client.py::test_dump_cluster_state_json — a format other than msgpack or yaml is refused. */
    @Test
    void dumpClusterStateJson(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> client.dumpClusterState(tmp.resolve("foo"), "json", List.of()));
        assertTrue(e.getMessage().contains("Unsupported format"), e.getMessage());
        assertFalse(java.nio.file.Files.exists(tmp.resolve("foo.json")));
    }

    /**
     * dask: test_client.py::test_dump_cluster_state_exclude_default — every task record, the scheduler's and
     * each worker's, has its state and never its recipe (run_spec), and names a task the scheduler knows;
     * with exclude=["state"] the state is left out of every record.
     */
    @Test
    @SuppressWarnings("unchecked")
    void dumpClusterStateExclude(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        List<Future<Integer>> futs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            futs.add(client.with(Options.defaults().key("dumped-" + i)).submit(ClientExtrasConformanceTest::inc, i));
        }
        client.gather(futs);
        Set<String> ours = new HashSet<>();
        futs.forEach(f -> ours.add(f.key()));
        for (List<String> exclude : List.of(List.<String>of(), List.of("state"))) {
            Map<String, Object> state = dist.ClusterDump.load(client.dumpClusterState(tmp.resolve("foo"), "yaml", exclude));
            Map<String, Object> tasks = (Map<String, Object>) ((Map<String, Object>) state.get("scheduler")).get("tasks");
            assertTrue(tasks.keySet().containsAll(ours), tasks.keySet().toString());
            Map<String, Object> workers = (Map<String, Object>) state.get("workers");
            assertEquals(client.ncores().size(), workers.size());
            List<Map<String, Object>> records = new ArrayList<>();
            tasks.values().forEach(t -> records.add((Map<String, Object>) t));
            int onWorkers = 0;
            for (Object w : workers.values()) {
                for (Map.Entry<String, Object> t : ((Map<String, Map<String, Object>>) w).get("tasks").entrySet()) {
                    assertTrue(tasks.containsKey(t.getKey()), t.getKey());
                    records.add((Map<String, Object>) t.getValue());
                    onWorkers++;
                }
            }
            assertTrue(onWorkers >= ours.size(), "each result is held by a worker");
            for (Map<String, Object> r : records) {
                assertFalse(r.containsKey("run_spec"), r.toString());
                assertEquals(exclude.isEmpty(), r.containsKey("state"), r.toString());
            }
            if (exclude.isEmpty()) {
                for (String k : ours) {
                    assertEquals("memory", ((Map<String, Object>) tasks.get(k)).get("state"));
                }
            }
        }
    }

    /**
     * dask: test_client.py::test_get_task_metadata — with a metadata plugin registered, a collection around
     * a submitted task holds the task's metadata, equal to the scheduler's, and its state "memory". dist's
     * plugins run beside the worker's state machine, so the test waits for the stop_time before closing.
     */
    @Test
    void getTaskMetadata() throws Exception {
        client.registerPlugin(new TaskStateMetadataPlugin());
        try {
            dist.TaskMetadata tasks = client.collectTaskMetadata();
            Future<Integer> f;
            try (tasks) {
                f = client.with(Options.defaults().key("collected-1")).submit(ClientExtrasConformanceTest::inc, 1);
                assertEquals(2, f.result(T));
                assertTrue(Wait.until(T, () -> client.taskMetadata(f).containsKey("stop_time")));
            }
            assertTrue(tasks.metadata().containsKey(f.key()), tasks.metadata().toString());
            assertEquals(client.taskMetadata(f), tasks.metadata().get(f.key()));
            assertEquals("memory", tasks.states().get(f.key()));
        } finally {
            client.unregisterPlugin(TaskStateMetadataPlugin.class.getName());
        }
    }

    /**
     * dask: test_client.py::test_get_task_metadata_multiple — nested collections each hold exactly the tasks
     * submitted while they were open: the outer both, the inner only the second, with the scheduler's
     * metadata of each.
     */
    @Test
    void getTaskMetadataMultiple() throws Exception {
        client.registerPlugin(new TaskStateMetadataPlugin());
        try {
            dist.TaskMetadata tasks1 = client.collectTaskMetadata();
            dist.TaskMetadata tasks2;
            Future<Integer> f1;
            Future<Integer> f2;
            try (tasks1) {
                f1 = client.with(Options.defaults().key("collected-outer")).submit(ClientExtrasConformanceTest::inc, 1);
                assertEquals(2, f1.result(T));
                tasks2 = client.collectTaskMetadata();
                try (tasks2) {
                    f2 = client.with(Options.defaults().key("collected-inner")).submit(ClientExtrasConformanceTest::inc, 2);
                    assertEquals(3, f2.result(T));
                    for (Future<Integer> f : List.of(f1, f2)) {
                        assertTrue(Wait.until(T, () -> client.taskMetadata(f).containsKey("stop_time")));
                    }
                }
            }
            assertEquals(Set.of(f1.key(), f2.key()), tasks1.metadata().keySet());
            assertEquals(client.taskMetadata(f1), tasks1.metadata().get(f1.key()));
            assertEquals(client.taskMetadata(f2), tasks1.metadata().get(f2.key()));
            assertEquals(Set.of(f2.key()), tasks2.metadata().keySet());
            assertEquals(client.taskMetadata(f2), tasks2.metadata().get(f2.key()));
        } finally {
            client.unregisterPlugin(TaskStateMetadataPlugin.class.getName());
        }
    }
}
