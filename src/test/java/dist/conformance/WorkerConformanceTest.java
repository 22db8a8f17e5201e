package dist.conformance;

import dist.TaskFailedException;
import dist.Client;
import dist.Delayed;
import dist.Future;
import dist.Futures;
import dist.Options;
import dist.StoryEvent;
import dist.Wait;
import dist.WorkerClient;
import dist.comm.CommConfig;
import dist.protocol.Message;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.TaskContext;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What a user of one worker sees through the client, ported from dask's test_worker.py. One
 * scheduler and three thread workers share the class, as dask's gen_cluster: a (1 thread, resource
 * A=1), b (2 threads) and c (1 thread). Where dask reads {@code a.data} or {@code a.state.tasks}
 * the test reads {@code hasWhat}, {@code whoHas}, {@code story} and the scheduler's state.
 * WorkerCloseConformanceTest (workers closed, local directories), WorkerProcessConformanceTest
 * (the {@code worker} command as a process) and NannyConformanceTest hold the rest of the file.
 * <p>Not applicable:
 * <ul>
 * <li>test_upload_file → writes files through the worker's upload_file RPC and imports a Python module; jars
 *     travel with Client.uploadJar (test_upload_egg).</li>
 * <li>test_upload_file_pyc → skipped in dask (pyc files).</li>
 * <li>test_upload_large_file → xfail in dask, and reads the event loop's tick digests.</li>
 * <li>test_broadcast → the scheduler's broadcast RPC, no client route.</li>
 * <li>test_error_message → calls the internal error_message() helper with distributed.admin.max-error-length.</li>
 * <li>test_gather, test_gather_missing_keys, test_gather_missing_workers, test_gather_missing_workers_replicated →
 *     call the worker's internal gather RPC with a hand-made who_has.</li>
 * <li>test_io_loop, test_global_workers → tornado IOLoop and Worker._instances, Python process globals.</li>
 * <li>test_run_coroutine_dask_worker, test_get_client_coroutine, test_get_client_coroutine_sync → coroutines.</li>
 * <li>test_message_breakup, test_gather_many_small, test_avoid_oversubscription, test_prefer_gather_from_local_address,
 *     test_gather_dep_one_worker_always_busy, test_gather_dep_local_workers_first,
 *     test_gather_dep_from_remote_workers_if_all_local_workers_are_busy, test_gather_dep_cancelled_rescheduled,
 *     test_gather_dep_do_not_handle_response_of_not_requested_tasks, test_gather_dep_no_longer_in_flight_tasks,
 *     test_task_flight_compute_oserror, test_get_data_cancelled_error, test_offload_getdata → set internal
 *     transfer limits or patch get_data, and read transfer logs and the worker's state machine.</li>
 * <li>test_executor_offload, test_process_executor, test_process_executor_kills_process,
 *     test_process_executor_raise_exception → dask's offload thread and Python's ProcessPoolExecutor.</li>
 * <li>test_extension_methods → hooks a Python extension class into the heartbeat of worker and scheduler.</li>
 * <li>test_share_communication, test_dont_overlap_communications_to_same_worker, test_wait_for_outgoing,
 *     test_worker_death_timeout → xfail in dask.</li>
 * <li>test_types, test_system_monitor, test_heartbeats, test_scheduler_delay, test_update_latency,
 *     test_deque_handler, test_tick_interval, test_benchmark_hardware, test_Worker__to_dict → read the worker's
 *     internal fields (TaskState.type, monitor, last_seen, latency, log deque, digests, _to_dict).</li>
 * <li>test_heartbeat_comm_closed, test_heartbeat_missing, test_heartbeat_missing_real_cluster,
 *     test_heartbeat_missing_doesnt_restart, test_shutdown_on_scheduler_comm_closed → monkeypatch the
 *     heartbeat handler or abort the scheduler's stream; dist's worker registers again after a lost link
 *     (dist.worker.RelinkTest).</li>
 * <li>test_stimulus_story, test_forget_dependents_after_release, test_hold_on_to_replicas,
 *     test_missing_released_zombie_tasks, test_missing_released_zombie_tasks_2, test_worker_status_sync,
 *     test_log_remove_worker → read the worker's state machine (stimulus events, dependents, zombie
 *     states) or the scheduler's event log.</li>
 * <li>test_acquire_replicas, test_acquire_replicas_same_channel, test_acquire_replicas_many,
 *     test_acquire_replicas_already_in_flight, test_forget_acquire_replicas, test_remove_replicas_simple,
 *     test_who_has_consistent_remove_replicas, test_acquire_replicas_with_no_priority,
 *     test_acquire_replicas_large_data → drive the scheduler's request_acquire_replicas/remove_replicas
 *     internals (Client.replicate is the public route, ported in the client tests).</li>
 * <li>test_dataframe_attribute_error → Python __sizeof__; dist sizes results by their encoding.</li>
 * <li>test_worker_client_uses_default_no_close → Python's default_client() process global: a task on a
 *     worker in the client's own process still gets the worker's client.</li>
 * <li>test_close_async_task_handles_cancellation, test_do_not_block_event_loop_during_shutdown,
 *     test_execute_preamble_abort_retirement → asyncio tasks and event-loop races inside Worker.close.</li>
 * <li>test_suppress_keyerror_for_cancelled_tasks → blocks Worker.execute through a subclass while the
 *     scattered input is released.</li>
 * <li>test_broken_comm → reads dask.dataframe.</li>
 * <li>test_host_uses_scheduler_protocol → monkeypatches comm backends.</li>
 * <li>test_service_hosts_match_worker → reads the HTTP server's sockets; the worker's /metrics listens on
 *     --dashboard-host (dist.it.CliTest).</li>
 * </ul>
 * <p>Not applicable (deliberate differences, in the README's table):
 * <ul>
 * <li>test_worker.py::test_forward_output → swaps the worker process's sys.stdout and sys.stderr for streams
 *     sent to every client; a JVM's System.out is one stream per process, shared by in-process workers
 *     and the client alike, so dist forwards on purpose instead: what a task prints with
 *     WorkerClient.print goes to its client (test_print_remote) and Client.forwardLogging forwards log
 *     records (test_forward_logging).</li>
 * <li>test_executor_inherit_threadname_from_worker → a task runs on a slot thread (dist-worker-slot-N) or,
 *     when it starts on arrival, on the thread that read it; a task that needs its worker asks
 *     WorkerClient.workerAddress().</li>
 * <li>test_Executor, test_multiple_executors, test_bad_executor_annotation → a worker runs tasks on its own
 *     thread slots, one per thread it offers; resources, not executors, reserve special hardware.</li>
 * </ul>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WorkerConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static SchedulerServer scheduler;
    static WorkerServer a, b, c;
    static Client client;

    static int inc(int x) {
        return x + 1;
    }

    static int dec(int x) {
        return x - 1;
    }

    static int add(int x, int y) {
        return x + y;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    static WorkerServer worker(String name, int threads, Map<String, Double> resources) throws Exception {
        return WorkerServer.start(new WorkerServer.Options(scheduler.address(), "127.0.0.1", 0, threads, name, 0,
                8 * 1024, CommConfig.DEFAULT), resources);
    }

    @BeforeAll
    static void start() throws Exception {
        scheduler = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        a = worker("a", 1, Map.of("A", 1.0));
        b = worker("b", 2, Map.of());
        c = worker("c", 1, Map.of());
        client = Client.connect(scheduler.address());
        assertTrue(Wait.until(T, () -> ncores().size() == 3), "three workers");
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        for (WorkerServer w : new WorkerServer[]{a, b, c}) {
            if (w != null) w.close();
        }
        if (scheduler != null) scheduler.close();
    }

    static Map<String, Integer> ncores() {
        try {
            return client.ncores();
        } catch (Exception e) {
            return Map.of();
        }
    }

    static Options onWorker(WorkerServer w) {
        return Options.defaults().workers(w.address()).pure(false);
    }

    static List<String> holders(Future<?> f) {
        try {
            List<String> h = client.whoHas(List.of(f)).get(f.key());
            return h == null ? List.of() : h;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static String stateOf(String key) {
        try {
            Object s = scheduler.query(st -> st.view().stateOf(key), 10, TimeUnit.SECONDS);
            return String.valueOf(s);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /**
     * dask: test_worker.py::test_identity — each worker reports its address, a whole number of threads
     * and a memory limit (0: none given).
     */
    @Test
    void identity() throws Exception {
        Map<String, dist.WorkerInfo> info = new java.util.HashMap<>();
        client.workersInfo().forEach(w -> info.put(w.address(), w));
        assertEquals(1, info.get(a.address()).nthreads());
        assertEquals(2, info.get(b.address()).nthreads());
        assertEquals("a", info.get(a.address()).name());
        assertEquals(0, info.get(a.address()).memoryLimit());
        assertEquals(Map.of(a.address(), 1, b.address(), 2, c.address(), 1), client.ncores());
    }

    /** dask: test_worker.py::test_worker_with_port_zero — a worker asked for port 0 gets a real one. */
    @Test
    void workerWithPortZero() {
        int port = Integer.parseInt(a.address().substring(a.address().lastIndexOf(':') + 1));
        assertTrue(port > 1024, a.address());
    }

    /** dask: test_worker.py::test_pid — thread workers run in this process. */
    @Test
    void pid() throws Exception {
        long me = ProcessHandle.current().pid();
        assertTrue(client.workersInfo().stream().allMatch(w -> w.pid() == me), client.workersInfo().toString());
    }

    /** A value whose toString fails, as dask's NoReprObj. */
    record NoRepr(int x) {
        @Override
        public String toString() {
            throw new IllegalStateException("I have no str representation.");
        }
    }

    static NoRepr noRepr() {
        return new NoRepr(1);
    }

    static int badFunc(NoRepr x, NoRepr k) {
        return 1 / (x.x() - 1);
    }

    /**
     * dask: test_worker.py::test_worker_bad_args — a result that cannot print itself is stored; a task
     * that raises fails with its own error type (not one about its argument) and a stack naming the
     * function; both workers keep working.
     */
    @Test
    void workerBadArgs() throws Exception {
        Future<NoRepr> x = client.with(onWorker(a)).submit(WorkerConformanceTest::noRepr);
        Futures.wait(List.of(x), T);
        assertEquals(List.of(a.address()), holders(x));
        Future<Integer> y = client.with(onWorker(b)).submit(WorkerConformanceTest::badFunc, x, x);
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> y.result(T));
        assertInstanceOf(ArithmeticException.class, e.getCause());
        assertEquals(Future.State.FAILED, y.state());
        assertTrue(y.remoteStackTrace().contains("badFunc"), y.remoteStackTrace());
        Future<Integer> xx = client.with(onWorker(a)).submit(WorkerConformanceTest::add, 1, 2);
        Future<Integer> yy = client.with(onWorker(b)).submit(WorkerConformanceTest::add, 3, 4);
        assertEquals(List.of(3, 7), client.gather(List.of(xx, yy)));
    }

    /** dask: test_worker.py::test_worker_task_data — a persisted constant is held by the worker. */
    @Test
    void workerTaskData() throws Exception {
        Future<Integer> xx = Delayed.of(() -> 2).persist(client).future();
        Futures.wait(List.of(xx), T);
        assertFalse(holders(xx).isEmpty());
        assertEquals(2, client.gather(List.of(xx)).get(0));
    }

    static final class MyException extends RuntimeException {
        MyException(String msg, Throwable cause) {
            super(msg, cause);
        }

        @Override
        public String toString() {
            return "MyException(" + getMessage() + ")";
        }
    }

    static int chained() {
        try {
            throw new MyException("Bar", null);
        } catch (MyException inner) {
            throw new MyException("Foo", inner);
        }
    }

    /** dask: test_worker.py::test_chained_error_message — a task's error keeps its cause. */
    @Test
    void chainedErrorMessage() throws Exception {
        Future<Integer> f = client.submit(WorkerConformanceTest::chained);
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> f.result(T));
        Throwable error = e.getCause();
        assertTrue(String.valueOf(error.getMessage()).contains("Foo"), String.valueOf(error));
        assertNotNull(error.getCause(), "the cause travels");
        assertTrue(String.valueOf(error.getCause()).contains("Bar"), String.valueOf(error.getCause()));
    }

    static String currentKey(int i) {
        return TaskContext.current().key();
    }

    /**
     * dask: test_worker.py::test_access_key, test_get_current_task — a task learns its own key on the
     * worker.
     */
    @Test
    void accessKey() throws Exception {
        List<Future<String>> fs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            fs.add(client.with(Options.defaults().key("x-" + i)).submit(WorkerConformanceTest::currentKey, i));
        }
        assertEquals(IntStream.range(0, 20).mapToObj(i -> "x-" + i).toList(), client.gather(fs));
        Future<String> some = client.submit(WorkerConformanceTest::currentKey, 100);
        assertEquals(some.key(), some.result(T));
        assertTrue(some.key().startsWith("currentKey"), some.key());
    }

    /** dask: test_worker.py::test_inter_worker_communication — a task on b reads data scattered to a. */
    @Test
    void interWorkerCommunication() throws Exception {
        List<Future<Integer>> xy = client.scatter(List.of(1001, 1002), List.of(a.address()), false);
        Future<Integer> f = client.with(onWorker(b)).submit(WorkerConformanceTest::add, xy.get(0), xy.get(1));
        assertEquals(2003, f.result(T));
    }

    /** dask: test_worker.py::test_clean — a released result leaves the worker. */
    @Test
    void clean() throws Exception {
        Future<Integer> x = client.with(onWorker(c)).submit(WorkerConformanceTest::inc, 1);
        assertEquals(2, x.result(T));
        assertTrue(client.hasWhat(List.of(c.address())).get(c.address()).contains(x.key()));
        x.release();
        assertTrue(Wait.until(T, () -> !hasWhat(c).contains(x.key())), "c drops x");
    }

    static List<String> hasWhat(WorkerServer w) {
        try {
            return client.hasWhat(List.of(w.address())).get(w.address());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** dask: test_worker.py::test_restrictions — a task asking for resource A runs on the worker that offers it. */
    @Test
    void restrictions() throws Exception {
        Future<Integer> x = client.with(Options.defaults().resource("A", 1).pure(false))
                .submit(WorkerConformanceTest::inc, 1);
        assertEquals(2, x.result(T));
        assertEquals(List.of(a.address()), holders(x));
        // the resource is free again: a second task asking for it runs too
        Future<Integer> y = client.with(Options.defaults().resource("A", 1).pure(false))
                .submit(WorkerConformanceTest::inc, 2);
        assertEquals(3, y.result(T));
    }

    /**
     * dask: test_worker.py::test_clean_nbytes, test_clean_up_dependencies — once a persisted graph's
     * result exists, the intermediate results are released and only the result stays held.
     */
    @Test
    void cleanUpDependencies() throws Exception {
        java.util.Set<String> before = heldKeys();
        List<Delayed<Integer>> l = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            l.add(Delayed.of(WorkerConformanceTest::inc, i));
        }
        for (int round = 0; round < 5; round++) {
            List<Delayed<Integer>> next = new ArrayList<>();
            for (int i = 0; i + 1 < l.size(); i++) {
                next.add(Delayed.of(WorkerConformanceTest::add, l.get(i), l.get(i + 1)));
            }
            l = next;
        }
        Delayed<Integer> total = Delayed.of(WorkerConformanceTest::sum, Delayed.all(l));
        Future<Integer> zz = total.persist(client).future();
        Futures.wait(List.of(zz), T);
        assertTrue(Wait.until(T, () -> newKeys(before).equals(java.util.Set.of(zz.key()))),
                "only the result is held: " + newKeys(before));
        assertEquals(1, holders(zz).size());
        zz.release();
        assertTrue(Wait.until(T, () -> newKeys(before).isEmpty()), "nothing held after release: " + newKeys(before));
    }

    static java.util.Set<String> heldKeys() {
        try {
            java.util.Set<String> keys = new java.util.HashSet<>();
            client.hasWhat().values().forEach(keys::addAll);
            return keys;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static java.util.Set<String> newKeys(java.util.Set<String> before) {
        java.util.Set<String> now = heldKeys();
        now.removeAll(before);
        return now;
    }

    static String hasWhatAll() {
        try {
            return client.hasWhat().toString();
        } catch (Exception e) {
            return e.toString();
        }
    }

    /**
     * dask: test_worker.py::test_hold_onto_dependents — after y on b is cancelled, x (computed on a)
     * is still held.
     */
    @Test
    void holdOntoDependents() throws Exception {
        Future<Integer> x = client.with(onWorker(a)).submit(WorkerConformanceTest::inc, 10);
        Future<Integer> y = client.with(onWorker(b)).submit(WorkerConformanceTest::inc, x);
        assertEquals(12, y.result(T));
        client.cancel(List.of(y));
        assertTrue(Wait.until(T, () -> holders(y).isEmpty()), "y is gone");
        assertTrue(holders(x).contains(a.address()), "x stays: " + holders(x));
        assertEquals(11, x.result(T));
    }

    static final java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();

    static int slowinc(int x) throws InterruptedException {
        ran.incrementAndGet();
        Thread.sleep(10);
        return x + 1;
    }

    static int processing() {
        try {
            return client.workersInfo().stream().mapToInt(dist.WorkerInfo::processing).sum();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** dask: test_worker.py::test_stop_doing_unnecessary_work — releasing queued work stops the workers. */
    @Test
    void stopDoingUnnecessaryWork() throws Exception {
        List<Future<Integer>> futures = client.with(Options.defaults().pure(false))
                .map(WorkerConformanceTest::slowinc, IntStream.range(0, 1000).boxed().toList());
        ran.set(0);
        assertTrue(Wait.until(T, () -> ran.get() > 0), "something ran");
        futures.forEach(Future::release);
        assertTrue(Wait.until(T, () -> processing() == 0), "nothing executes any more");
        assertTrue(ran.get() < 1000, "not all of them ran: " + ran.get());
    }

    static final List<String> order = new java.util.concurrent.CopyOnWriteArrayList<>();

    static int logged(String name, int x) {
        order.add(name);
        return x;
    }

    /**
     * dask: test_worker.py::test_priorities — on one thread, the dependents of early tasks run before
     * every root has run: some b1 task runs in the first half.
     */
    @Test
    void priorities() throws Exception {
        order.clear();
        Options here = Options.defaults().workers(c.address()).pure(false);
        List<Future<Integer>> values = new ArrayList<>();
        dist.Graph g = new dist.Graph();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            g.task("pa-" + i, WorkerConformanceTest::logged, "a", i);
            g.task("pa1-" + i, WorkerConformanceTest::logged, "a1", dist.Graph.key("pa-" + i));
            g.task("pa2-" + i, WorkerConformanceTest::logged, "a2", dist.Graph.key("pa1-" + i));
            g.task("pb1-" + i, WorkerConformanceTest::logged, "b1", dist.Graph.key("pa-" + i));
            keys.add("pa2-" + i);
            keys.add("pb1-" + i);
        }
        List<Future<Object>> fs = client.with(here).compute(g, keys);
        Futures.wait(fs, T);
        List<String> log = List.copyOf(order);
        assertEquals(40, log.size(), log.toString());
        assertTrue(log.subList(0, 20).contains("b1"), log.toString());
        fs.forEach(Future::release);
    }

    static String clientId(int x) {
        Client cc = WorkerClient.get();
        try {
            return cc.id() + "/" + cc.submit(WorkerConformanceTest::inc, x).result();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * dask: test_worker.py::test_get_client, test_get_client_sync — a task submits through its worker's
     * client and waits for the result; every task on that worker shares one client.
     */
    @Test
    void getClient() throws Exception {
        String first = client.with(onWorker(a)).submit(WorkerConformanceTest::clientId, 10).result(T);
        assertTrue(first.endsWith("/11"), first);
        String id = first.substring(0, first.indexOf('/'));
        for (int i = 0; i < 10; i++) {
            String again = client.with(onWorker(a)).submit(WorkerConformanceTest::clientId, i).result(T);
            assertEquals(id + "/" + (i + 1), again);
        }
    }

    /**
     * dask: test_worker.py::test_multiple_transfers, test_startstops — z on c needs x from a and y from
     * b: c's story shows both transfers, each from its source, and z executing (dask's comparison of
     * their times with the client's clock is left out: no test asserts on elapsed time).
     */
    @Test
    void multipleTransfers() throws Exception {
        Future<Integer> x = client.with(onWorker(a)).submit(WorkerConformanceTest::inc, 1);
        Future<Integer> y = client.with(onWorker(b)).submit(WorkerConformanceTest::inc, 2);
        Future<Integer> z = client.with(onWorker(c)).submit(WorkerConformanceTest::add, x, y);
        assertEquals(5, z.result(T));
        List<StoryEvent> xs = client.story(x), ys = client.story(y), zs = client.story(z);
        assertTrue(xs.stream().anyMatch(e -> e.where().equals(c.address()) && e.event().equals("fetched from " + a.address())),
                xs.toString());
        assertTrue(ys.stream().anyMatch(e -> e.where().equals(c.address()) && e.event().equals("fetched from " + b.address())),
                ys.toString());
        assertTrue(zs.stream().anyMatch(e -> e.where().equals(c.address()) && e.event().equals("executing")), zs.toString());
    }

    /** dask: test_worker.py::test_story — a task's story names the state it reached on its worker. */
    @Test
    void story() throws Exception {
        Future<Integer> f = client.with(onWorker(a)).submit(WorkerConformanceTest::inc, 41);
        assertEquals(42, f.result(T));
        List<StoryEvent> s = client.story(f);
        assertTrue(s.stream().anyMatch(e -> e.where().equals(a.address()) && e.event().equals("memory")), s.toString());
        assertEquals(s.stream().map(StoryEvent::event).toList(),
                client.story(f.key()).stream().map(StoryEvent::event).toList());
    }

    static volatile CountDownLatch release = new CountDownLatch(0);
    static volatile CountDownLatch started = new CountDownLatch(0);

    static int blocking(int x) throws InterruptedException {
        started.countDown();
        release.await(30, TimeUnit.SECONDS);
        return x + 1;
    }

    /**
     * dask: test_worker.py::test_workerstate_executing — while a task runs, its worker reports it as
     * processing and the future is pending.
     */
    @Test
    void workerstateExecuting() throws Exception {
        started = new CountDownLatch(1);
        release = new CountDownLatch(1);
        try {
            Future<Integer> f = client.with(onWorker(c)).submit(WorkerConformanceTest::blocking, 1);
            assertTrue(started.await(30, TimeUnit.SECONDS), "the task started");
            assertEquals(Future.State.RUNNING, f.state());
            assertEquals("processing", stateOf(f.key()));
            assertTrue(Wait.until(T, () -> processingOn(c) == 1), "c reports it");
            release.countDown();
            assertEquals(2, f.result(T));
        } finally {
            release.countDown();
        }
    }

    static int processingOn(WorkerServer w) {
        try {
            return client.workersInfo().stream().filter(i -> i.address().equals(w.address()))
                    .mapToInt(dist.WorkerInfo::processing).sum();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static int raiseExc(int f, int g) {
        throw new IllegalStateException("raised on purpose");
    }

    /**
     * dask: test_worker.py::test_worker_state_error_release_error_last, test_worker_state_error_release_error_first,
     * test_worker_state_error_release_error_int — f on a and g on b feed res on a, which raises; the
     * inputs stay held while their futures are held, whatever is released first, and once every future is
     * released the cluster holds nothing and forgets every key.
     */
    @Test
    void workerStateErrorRelease() throws Exception {
        for (String releaseOrder : List.of("error last", "error first", "error between")) {
            Future<Integer> f = client.with(Options.defaults().workers(a.address()).key("f-" + releaseOrder)).submit(WorkerConformanceTest::inc, 1);
            Future<Integer> g = client.with(Options.defaults().workers(b.address()).key("g-" + releaseOrder)).submit(WorkerConformanceTest::inc, 1);
            Future<Integer> res = client.with(Options.defaults().workers(a.address()).key("res-" + releaseOrder))
                    .submit(WorkerConformanceTest::raiseExc, f, g);
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> res.result(T));
            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertEquals(List.of(a.address()), holders(f));
            assertTrue(holders(g).contains(b.address()), holders(g).toString());
            assertEquals("erred", stateOf(res.key()));
            switch (releaseOrder) {
                case "error last" -> {
                    f.release();
                    g.release();
                    assertTrue(Wait.until(T, () -> holders(f).isEmpty() && holders(g).isEmpty()), "f and g go");
                    assertEquals("erred", stateOf(res.key()));
                    res.release();
                }
                case "error first" -> {
                    res.release();
                    assertTrue(Wait.until(T, () -> "null".equals(stateOf(res.key()))), "res is forgotten");
                    assertEquals(List.of(a.address()), holders(f));
                    assertTrue(holders(g).contains(b.address()));
                    f.release();
                    g.release();
                }
                default -> {
                    f.release();
                    res.release();
                    assertTrue(Wait.until(T, () -> holders(f).isEmpty()), "f goes");
                    assertTrue(holders(g).contains(b.address()));
                    g.release();
                }
            }
            for (Future<?> k : List.of(f, g, res)) {
                assertTrue(Wait.until(T, () -> "null".equals(stateOf(k.key()))), k.key() + " is forgotten: " + stateOf(k.key()));
            }
            assertTrue(Wait.until(T, () -> hasWhatAll().indexOf(releaseOrder) < 0), "nothing held: " + hasWhatAll());
        }
    }

    /**
     * dask: test_worker.py::test_worker_state_error_long_chain — f (a) and h = inc(g (b)) (a) feed res on b,
     * which raises; releasing f, then g, then h, each in turn leaves the rest held, and res erred.
     */
    @Test
    void workerStateErrorLongChain() throws Exception {
        Options onA = Options.defaults().workers(a.address()).allowOtherWorkers(false);
        Options onB = Options.defaults().workers(b.address()).allowOtherWorkers(false);
        Future<Integer> f = client.with(onA.key("lc-f")).submit(WorkerConformanceTest::inc, 1);
        Future<Integer> g = client.with(onB.key("lc-g")).submit(WorkerConformanceTest::inc, 1);
        Future<Integer> h = client.with(onA.key("lc-h")).submit(WorkerConformanceTest::inc, g);
        Future<Integer> res = client.with(onB.key("lc-res")).submit(WorkerConformanceTest::raiseExc, f, h);
        assertThrows(TaskFailedException.class, () -> res.result(T));
        assertTrue(holders(f).contains(a.address()));
        assertTrue(holders(g).contains(b.address()));
        assertTrue(holders(h).contains(a.address()));
        f.release();
        assertTrue(Wait.until(T, () -> holders(f).isEmpty()), "f goes");
        assertTrue(holders(h).contains(a.address()) && holders(g).contains(b.address()));
        g.release();
        assertTrue(Wait.until(T, () -> holders(g).isEmpty()), "g goes");
        assertTrue(holders(h).contains(a.address()));
        assertEquals("erred", stateOf(res.key()));
        h.release();
        assertTrue(Wait.until(T, () -> holders(h).isEmpty()), "h goes");
        assertEquals("erred", stateOf(res.key()));
        res.release();
        for (String k : List.of("lc-f", "lc-g", "lc-h", "lc-res")) {
            assertTrue(Wait.until(T, () -> "null".equals(stateOf(k))), k + " is forgotten");
        }
    }

    /**
     * dask: test_worker.py::test_upload_egg, test_upload_pyz — code uploaded by the client reaches the
     * workers, and a task on a uses it.
     */
    @Test
    void uploadJar(@TempDir Path dir) throws Exception {
        Path jar = JarBuilder.jar(dir, "testegg", "testegg.Egg",
                "package testegg; public class Egg { public static int inc(int x) { return x + 1; } }");
        client.uploadJar(jar);
        Future<Integer> f = client.with(onWorker(a)).submit(WorkerConformanceTest::eggInc, 10);
        assertEquals(11, f.result(T));
    }

    static int eggInc(int x) throws Exception {
        ClassLoader l = Thread.currentThread().getContextClassLoader();
        return (int) Class.forName("testegg.Egg", true, l).getMethod("inc", int.class).invoke(null, x);
    }

    /**
     * This process's open sockets, pipes and files as "number -> what it points at" (a socket names
     * its inode). Anonymous inodes (epoll, eventfd) are left out: the JDK opens a pair per carrier
     * thread for its virtual-thread pollers when the carrier pool grows, and keeps them.
     */
    static Set<String> openFds() {
        java.io.File dir = new java.io.File("/proc/self/fd");
        String[] fds = dir.list();
        assertNotNull(fds, "this test reads /proc/self/fd (Linux)");
        Set<String> open = new java.util.HashSet<>();
        for (String fd : fds) {
            try {
                String target = Files.readSymbolicLink(dir.toPath().resolve(fd)).toString();
                if (!target.startsWith("anon_inode:")) {
                    open.add(fd + " -> " + target);
                }
            } catch (java.io.IOException gone) {
                // closed between the listing and the read
            }
        }
        return open;
    }

    /**
     * dask: test_worker.py::test_worker_fds — a worker opens descriptors while it runs and gives them
     * all back when it closes. The descriptors compared are the ones that appeared while the worker
     * started, each by number and target, so what other threads of this JVM open meanwhile does not count.
     */
    @Test
    void workerFds() throws Exception {
        // a first worker, so what the JDK opens once per process (pollers, selectors' shared pipes) is open
        WorkerServer warm = worker("warm", 1, Map.of());
        assertTrue(Wait.until(T, () -> ncores().containsKey(warm.address())), "registered");
        warm.close();
        assertTrue(Wait.until(T, () -> !ncores().containsKey(warm.address())), "gone");
        Set<String> before = openFds();
        WorkerServer w = worker("fds", 1, Map.of());
        Set<String> opened;
        try {
            assertTrue(Wait.until(T, () -> ncores().containsKey(w.address())), "registered");
            opened = new java.util.HashSet<>(openFds());
            opened.removeAll(before);
            assertFalse(opened.isEmpty(), "the worker holds descriptors");
        } finally {
            w.close();
        }
        assertTrue(Wait.until(T, () -> openFds().stream().noneMatch(opened::contains)),
                () -> "descriptors still open: " + openFds().stream().filter(opened::contains).toList());
    }

    /**
     * dask: test_worker.py::test_run_dask_worker, test_run_dask_worker_kwonlyarg — a function run on every
     * worker reaches the worker it runs on (dask's dask_worker argument is WorkerServer.current()); outside
     * a run there is none.
     */
    @Test
    void runDaskWorker() throws Exception {
        Map<String, String> response = client.run(() -> WorkerServer.current().address() + "/" + WorkerServer.current().name());
        assertEquals(Map.of(a.address(), a.address() + "/a", b.address(), b.address() + "/b",
                c.address(), c.address() + "/c"), response);
        assertNull(WorkerServer.current());
    }
    /** Counts its live instances through weak references, as dask's C with a WeakSet. */
    record Tracked(int n) {
        static final List<java.lang.ref.WeakReference<Tracked>> INSTANCES = new java.util.concurrent.CopyOnWriteArrayList<>();

        Tracked {
            INSTANCES.add(new java.lang.ref.WeakReference<>(this));
        }

        static long alive() {
            System.gc();
            return INSTANCES.stream().filter(r -> r.get() != null).count();
        }
    }

    static Tracked makeTracked() {
        return new Tracked(1);
    }

    static int failWith(Tracked x) {
        Tracked y = new Tracked(2);
        throw new IllegalStateException("failed with " + System.identityHashCode(x) + " and " + System.identityHashCode(y));
    }

    /**
     * dask: test_worker.py::test_worker_descopes_data — a task's result, the input of a task that failed
     * and the objects the failed task made are let go once the futures are released: none of them stays
     * reachable in the process (thread workers run here).
     */
    @Test
    void workerDescopesData() throws Exception {
        Tracked.INSTANCES.clear();
        Future<Tracked> f1 = client.with(Options.defaults().workers(c.address()).key("descope-f1")).submit(WorkerConformanceTest::makeTracked);
        Future<Integer> f2 = client.with(Options.defaults().workers(c.address()).key("descope-f2")).submit(WorkerConformanceTest::failWith, f1);
        Futures.wait(List.of(f2), T);
        assertEquals(Future.State.FAILED, f2.state());
        assertTrue(hasWhat(c).contains("descope-f1"), hasWhat(c) + " " + f1.state());
        f1.release();
        f2.release();
        assertTrue(Wait.until(T, () -> !hasWhat(c).contains("descope-f1")), "c drops f1");
        assertTrue(Wait.until(T, () -> Tracked.alive() == 0), "instances left: " + Tracked.alive());
    }
    /**
     * dask: test_worker.py::test_str — a worker's text names its address, its threads and how many tasks
     * it executes.
     */
    @Test
    void str() throws Exception {
        // a task of an earlier case may still be running out on a after its future was let go
        assertTrue(Wait.until(T, () -> processingOn(a) == 0 && a.toString().contains("executing=0")), a.toString());
        String s = a.toString();
        assertTrue(s.contains(a.address()), s);
        assertTrue(s.contains("threads=1"), s);
        assertTrue(b.toString().contains("threads=2"), b.toString());
    }

    // ------------------------------------------------------------------ worker plugins (on worker processes)

    /** dask's MyPlugin of test_plugin_exception: its setup throws, naming itself. */
    public static class ErrPlugin implements dist.WorkerPlugin {
        @Override
        public void setup(dist.worker.WorkerContext worker) {
            throw new IllegalArgumentException("MyPlugin Error");
        }
    }

    /**
     * dask: test_worker.py::test_plugin_exception — a plugin whose setup throws fails its registration
     * with its own exception; the worker lives on and runs tasks (dask fails the worker's start, since
     * its plugins come with it; a dist worker gets them after it joined).
     */
    @Test
    void pluginException() throws Exception {
        try (PluginProbes.Cluster pc = PluginProbes.Cluster.start(1, false)) {
            dist.PluginFailedException e = assertThrows(dist.PluginFailedException.class,
                    () -> pc.client.registerPlugin(new ErrPlugin()));
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
            assertEquals("MyPlugin Error", e.getCause().getMessage());
            assertEquals(2, pc.client.submit(WorkerConformanceTest::inc, 1).result(T));
        }
    }

    /** Throws one exception on worker-0 and another elsewhere (dask's MyPlugin1 and MyPlugin2). */
    public static class TwoErrors implements dist.WorkerPlugin {
        @Override
        public void setup(dist.worker.WorkerContext worker) {
            if (worker.name().equals("worker-0")) {
                throw new IllegalArgumentException("MyPlugin1 Error");
            }
            throw new IllegalStateException("MyPlugin2 Error");
        }
    }

    /**
     * dask: test_worker.py::test_plugin_multiple_exceptions — setups failing differently on two
     * workers: the registration fails with one of the errors (which first is not fixed) and counts
     * both; both workers live on.
     */
    @Test
    void pluginMultipleExceptions() throws Exception {
        try (PluginProbes.Cluster pc = PluginProbes.Cluster.start(2, false)) {
            dist.PluginFailedException e = assertThrows(dist.PluginFailedException.class,
                    () -> pc.client.registerPlugin(new TwoErrors()));
            assertTrue(e.getCause() instanceof IllegalArgumentException || e.getCause() instanceof IllegalStateException,
                    String.valueOf(e.getCause()));
            assertTrue(e.getCause().getMessage().matches("MyPlugin. Error"), e.getCause().getMessage());
            assertEquals(2, e.failures());
            for (String w : pc.addresses()) {
                assertEquals(2, pc.client.with(Options.defaults().workers(w).allowOtherWorkers(false))
                        .submit(WorkerConformanceTest::inc, 1).result(T));
            }
        }
    }

    /** Holds an object whose class no worker can load: it came from a loader the client never shows. */
    public static class Holding implements dist.WorkerPlugin {
        final Object held;

        public Holding(Object held) {
            this.held = held;
        }
    }

    /**
     * dask: test_worker.py::test_plugin_internal_exception — a plugin the worker cannot even decode
     * (its field's class is nowhere to be found there; dask's plugin is a corrupt pickle) fails the
     * registration with the decoding error; the worker lives on.
     */
    @Test
    void pluginInternalException(@TempDir Path dir) throws Exception {
        Path jar = JarBuilder.jar(dir, "hidden", "hidden.Secret", """
                package hidden;
                public class Secret { public int x = 1; }
                """);
        try (java.net.URLClassLoader loader = new java.net.URLClassLoader(new java.net.URL[]{jar.toUri().toURL()}, null);
             PluginProbes.Cluster pc = PluginProbes.Cluster.start(1, false)) {
            Object secret = loader.loadClass("hidden.Secret").getConstructor().newInstance();
            dist.PluginFailedException e = assertThrows(dist.PluginFailedException.class,
                    () -> pc.client.registerPlugin(new Holding(secret)));
            assertInstanceOf(dist.serial.DecodeException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("hidden.Secret"), e.getCause().getMessage());
            assertEquals(2, pc.client.submit(WorkerConformanceTest::inc, 1).result(T));
        }
    }

    /**
     * dask: test_worker.py::test_worker_running_before_running_plugins — a worker that joins after a
     * plugin was registered runs its setup once it is running, and runs tasks.
     */
    @Test
    void workerRunningBeforeRunningPlugins(@TempDir Path dir) throws Exception {
        try (PluginProbes.Cluster pc = PluginProbes.Cluster.start(0, false)) {
            pc.client.registerPlugin(new PluginProbes.Recorder(dir.toString(), "init_worker_new_thread", "status"));
            String w = pc.addWorker();
            assertEquals(2, pc.client.submit(WorkerConformanceTest::inc, 1).result(T));
            assertEquals("status running", PluginProbes.await(
                    PluginProbes.file(dir.toString(), "init_worker_new_thread", PluginProbes.port(w), "setup")));
        }
    }

    /** Sets a system property on each worker it is set up on: dask's register_worker_callbacks(setup). */
    public static class SetProperty implements dist.WorkerPlugin {
        final String value;

        public SetProperty(String value) {
            this.value = value;
        }

        @Override
        public void setup(dist.worker.WorkerContext worker) {
            System.setProperty("dist.test.worker-callback", value);
        }
    }

    static String callbackProperty() {
        return System.getProperty("dist.test.worker-callback", "none");
    }

    /**
     * dask: test_worker.py::test_register_worker_callbacks — a setup registered through the client
     * runs on every current worker and on each that joins later (dask's register_worker_callbacks is
     * a plugin wrapping the function; here the plugin is the callback).
     */
    @Test
    void registerWorkerCallbacks() throws Exception {
        try (PluginProbes.Cluster pc = PluginProbes.Cluster.start(2, false)) {
            assertEquals(java.util.Set.of("none"), java.util.Set.copyOf(pc.client.run(WorkerConformanceTest::callbackProperty).values()));
            pc.client.registerPlugin(new SetProperty("set"));
            Map<String, String> now = pc.client.run(WorkerConformanceTest::callbackProperty);
            assertEquals(2, now.size());
            assertEquals(java.util.Set.of("set"), java.util.Set.copyOf(now.values()));
            String later = pc.addWorker();
            assertTrue(Wait.until(T, () -> "set".equals(pc.client.run(WorkerConformanceTest::callbackProperty,
                    List.of(later)).get(later))), "the later worker ran the setup");
        }
    }

    /** A setup that divides by zero. */
    public static class DivideByZero implements dist.WorkerPlugin {
        int zero;

        @Override
        public void setup(dist.worker.WorkerContext worker) {
            System.out.println(1 / zero);
        }
    }

    /**
     * dask: test_worker.py::test_register_worker_callbacks_err — a setup that throws
     * (ZeroDivisionError there, ArithmeticException here) fails the registration with that error.
     */
    @Test
    void registerWorkerCallbacksErr() throws Exception {
        try (PluginProbes.Cluster pc = PluginProbes.Cluster.start(1, false)) {
            dist.PluginFailedException e = assertThrows(dist.PluginFailedException.class,
                    () -> pc.client.registerPlugin(new DivideByZero()));
            assertInstanceOf(ArithmeticException.class, e.getCause());
        }
    }

    /** A small chunk's random numbers summed: the many-small-tasks work of dask's dask.array case. */
    static double randomSum(int seed) {
        java.util.Random r = new java.util.Random(seed);
        double s = 0;
        for (int i = 0; i < 20_000; i++) {
            s += r.nextDouble();
        }
        return s;
    }

    /**
     * dask: test_worker.py::test_statistical_profiling_2 — with a 1 ms sampling interval and a 100 ms cycle,
     * a run of many small tasks shows in the worker's profile: it counts samples, and the tasks' own
     * function is in it. dask sums dask.array chunks; here the tasks sum chunks of random numbers.
     */
    @Test
    void statisticalProfiling2() throws Exception {
        WorkerServer w;
        try (dist.config.Config.Override i = dist.config.Config.set("distributed.worker.profile.interval", "1ms");
             dist.config.Config.Override c = dist.config.Config.set("distributed.worker.profile.cycle", "100ms")) {
            w = worker("sampled", 2, Map.of());
        }
        try {
            Options on = onWorker(w);
            java.util.concurrent.atomic.AtomicInteger batch = new java.util.concurrent.atomic.AtomicInteger();
            dist.Profile p = Wait.value(T, () -> {
                List<Future<Double>> fs = new ArrayList<>();
                int b = batch.incrementAndGet();
                for (int k = 0; k < 100; k++) {
                    fs.add(client.with(on.key("randomsum-" + b + "-" + k)).submit(WorkerConformanceTest::randomSum, k));
                }
                client.gather(fs);
                client.cancel(fs);
                return client.profile("randomsum");
            }, x -> x.count() > 0 && x.format().contains("randomSum"));
            assertTrue(p.count() > 0);
            assertTrue(p.format().contains("WorkerConformanceTest.randomSum("), p.format());
        } finally {
            w.close();
        }
    }

    static WorkerServer reporting(String name, dist.worker.WorkerReporting r) throws Exception {
        return WorkerServer.start(new WorkerServer.Options(scheduler.address(), "127.0.0.1", 0, 1, name, 0,
                8 * 1024, CommConfig.DEFAULT), Map.of(), null, r);
    }

    static dist.WorkerInfo info(WorkerServer w) {
        try {
            return client.workersInfo().stream().filter(i -> i.address().equals(w.address())).findFirst().orElse(null);
        } catch (RuntimeException e) {
            return null;
        }
    }

    static double port(dist.worker.WorkerContext w) {
        return Integer.parseInt(w.address().substring(w.address().lastIndexOf(':') + 1));
    }

    /**
     * dask: test_worker.py::test_custom_metrics — a worker started with its own metrics reports them: the
     * scheduler's view of each worker holds its "my_port", that worker's port.
     */
    @Test
    void customMetrics() throws Exception {
        dist.worker.WorkerReporting r = new dist.worker.WorkerReporting(
                Map.of("my_port", WorkerConformanceTest::port), Map.of());
        WorkerServer x = reporting("mx", r);
        WorkerServer y = reporting("my", r);
        try {
            for (WorkerServer w : List.of(x, y)) {
                dist.WorkerInfo i = Wait.value(T, () -> info(w), v -> v != null && v.metrics().containsKey("my_port"));
                assertEquals(Integer.parseInt(w.address().substring(w.address().lastIndexOf(':') + 1)),
                        i.metrics().get("my_port").intValue());
            }
        } finally {
            x.close();
            y.close();
        }
    }

    /**
     * dask: test_worker.py::test_bad_metrics, test_worker.py::test_bad_startup — a metric or a startup
     * function that throws does not fail the worker: it starts, runs tasks and reports the others, and the
     * bad ones are left out.
     */
    @Test
    void badMetricsAndStartup() throws Exception {
        dist.worker.WorkerReporting r = new dist.worker.WorkerReporting(
                Map.of("bad", w -> { throw new IllegalStateException("Hello"); }, "good", w -> 1.0),
                Map.of("bad", w -> { throw new IllegalStateException("Hello"); }, "hello", w -> "world"));
        WorkerServer w = reporting("bad", r);
        try {
            dist.WorkerInfo i = Wait.value(T, () -> info(w), v -> v != null && v.metrics().containsKey("good"));
            assertFalse(i.metrics().containsKey("bad"));
            assertEquals(Map.of("hello", "world"), i.startup());
            assertEquals(2, client.with(onWorker(w)).submit(WorkerConformanceTest::inc, 1).result(T));
        } finally {
            w.close();
        }
    }

    /**
     * dask: test_worker.py::test_taskstate_metadata — a worker plugin's metadata on a task: it has a
     * start_time and a later stop_time, and the scheduler's metadata of the task equals what the plugin
     * set on the worker. dist's plugins run beside the worker's state machine, so the scheduler has the
     * metadata soon after the result, not with it: the test waits for it.
     */
    @Test
    void taskstateMetadata() throws Exception {
        client.registerPlugin(new TaskStateMetadataPlugin());
        try {
            Future<Integer> f = client.with(Options.defaults().key("metadata-inc-1")).submit(WorkerConformanceTest::inc, 1);
            assertEquals(2, f.result(T));
            Map<String, String> md = Wait.value(T, () -> client.taskMetadata(f), m -> m.containsKey("stop_time"));
            assertTrue(md.containsKey("start_time"), md.toString());
            assertTrue(Long.parseLong(md.get("stop_time")) > Long.parseLong(md.get("start_time")), md.toString());
            assertEquals(TaskStateMetadataPlugin.SET.get(f.key()), md);
        } finally {
            client.unregisterPlugin(TaskStateMetadataPlugin.class.getName());
        }
    }
}
