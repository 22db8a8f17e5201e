package dist.conformance;

import dist.Client;
import dist.Future;
import dist.Futures;
import dist.Options;
import dist.Wait;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Abstract resources, ported from dask's test_resources.py. One scheduler with worker a (A=1) and
 * worker b (B=1), one thread each, as in most dask cases; where dask reads a.data the test reads
 * whoHas. Not applicable:
 * <ul>
 * <li>test_persist, test_resources.py::test_compute, test_get, test_persist_multiple_collections, test_persist_collections,
 *     test_collections_get, test_resources_str → Delayed and Graph carry no per-task resources (no
 *     dask.annotate); resources are given per submit through Options.</li>
 * <li>test_submit_many_non_overlapping_2, test_set_resources → they read the worker's
 *     available_resources, and set_resources has no counterpart (test_minimum_resource reads
 *     executing_count through a counter inside the task instead).</li>
 * <li>test_prefer_constrained → asserts on elapsed time.</li>
 * <li>test_resources_from_config, test_resources_from_python_override_config → resources come from
 *     WorkerServer.start, not from a config key.</li>
 * <li>test_balance_resources, test_dont_optimize_out, test_full_collections → skipped in dask.</li>
 * <li>test_task_cancelled_and_readded_with_resources → reads which of the worker's internal queues
 *     (ready, constrained) a re-added key sits in.</li>
 * </ul>
 * dask's worker-state cases (test_constrained_tasks_respect_priority, test_constrained_vs_ready_priority_1
 * and _2, test_cancelled_with_resources, test_resumed_with_resources) drive the worker's state machine
 * with dummy events; here the same orders are observed through real tasks on a worker offering R=1.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ResourcesConformanceTest {
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

    static final java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();
    static final java.util.concurrent.atomic.AtomicInteger peak = new java.util.concurrent.atomic.AtomicInteger();

    /** dask's slowinc, counting how many run at once; it yields rather than sleeps so others may start. */
    static int countedInc(int x) {
        peak.accumulateAndGet(running.incrementAndGet(), Math::max);
        try {
            for (int i = 0; i < 2000; i++) {
                Thread.yield();
            }
            return x + 1;
        } finally {
            running.decrementAndGet();
        }
    }

    static WorkerServer worker(String name, Map<String, Double> resources) throws Exception {
        return worker(name, 1, resources);
    }

    static WorkerServer worker(String name, int threads, Map<String, Double> resources) throws Exception {
        return WorkerServer.start(new WorkerServer.Options(scheduler.address(), "127.0.0.1", 0, threads, name, 0,
                8 * 1024, CommConfig.DEFAULT), resources);
    }

    @BeforeAll
    static void start() throws Exception {
        scheduler = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        a = worker("a", Map.of("A", 1.0));
        b = worker("b", Map.of("B", 1.0));
        client = Client.connect(scheduler.address());
        assertTrue(Wait.until(T, () -> ncores() == 2), "two workers");
    }

    static int ncores() {
        try {
            return client.ncores().size();
        } catch (Exception e) {
            return 0;
        }
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (a != null) a.close();
        if (b != null) b.close();
        if (scheduler != null) scheduler.close();
    }

    static Options res(String name) {
        return Options.defaults().resource(name, 1).pure(false);
    }

    private static List<String> holders(Future<?> f) throws Exception {
        return client.whoHas(List.of(f)).get(f.key());
    }

    // dask: test_resource_submit (a offers A=1 here, so x asks for A=1 rather than A=3)
    @Test
    void resourceSubmit() throws Exception {
        Future<Integer> x = client.with(res("A")).submit(ResourcesConformanceTest::inc, 1);
        Future<Integer> y = client.with(res("B")).submit(ResourcesConformanceTest::inc, 2);
        Future<Integer> z = client.with(Options.defaults().resource("C", 2).pure(false))
                .submit(ResourcesConformanceTest::inc, 3);
        assertEquals(2, x.result(T));
        assertEquals(List.of(a.address()), holders(x));
        assertEquals(3, y.result(T));
        assertEquals(List.of(b.address()), holders(y));
        assertTrue(Wait.until(T, () -> "no-worker".equals(status(z))), "z waits in no-worker: " + status(z));
        try (WorkerServer w = worker("w", Map.of("C", 10.0))) {
            assertEquals(4, z.result(T));
            assertEquals(List.of(w.address()), holders(z));
        }
    }

    private static String status(Future<?> f) {
        try {
            return client.taskStatus(f).state();
        } catch (Exception e) {
            return String.valueOf(e);
        }
    }

    // dask: test_submit_many_non_overlapping
    @Test
    void submitManyNonOverlapping() throws Exception {
        List<Future<Integer>> fs = client.with(res("A")).map(ResourcesConformanceTest::inc,
                IntStream.range(0, 5).boxed().toList());
        Futures.wait(fs, T);
        Map<String, List<String>> who = client.whoHas(fs);
        for (Future<Integer> f : fs) {
            assertEquals(List.of(a.address()), who.get(f.key()), f.key());
        }
    }

    // dask: test_move
    @Test
    void move() throws Exception {
        List<Future<Integer>> xs = client.scatter(List.of(1), List.of(b.address()), false);
        Future<Integer> future = client.with(res("A")).submit(ResourcesConformanceTest::inc, xs.get(0));
        assertEquals(2, future.result(T));
        assertTrue(holders(future).contains(a.address()));
    }

    // dask: test_dont_work_steal
    @Test
    void dontWorkSteal() throws Exception {
        List<Future<Integer>> xs = client.scatter(List.of(1), List.of(a.address()), false);
        List<Future<Integer>> fs = IntStream.range(0, 10)
                .mapToObj(i -> client.with(res("A")).<Integer, Integer, Integer>submit(
                        ResourcesConformanceTest::add, xs.get(0), i))
                .toList();
        Futures.wait(fs, T);
        Map<String, List<String>> who = client.whoHas(fs);
        for (Future<Integer> f : fs) {
            assertEquals(List.of(a.address()), who.get(f.key()), f.key());
        }
    }

    // dask: test_map
    @Test
    void map() throws Exception {
        List<Future<Integer>> fs = client.with(res("B")).map(ResourcesConformanceTest::inc,
                IntStream.range(0, 10).boxed().toList());
        Futures.wait(fs, T);
        Map<String, List<String>> who = client.whoHas(fs);
        for (Future<Integer> f : fs) {
            assertEquals(List.of(b.address()), who.get(f.key()), f.key());
        }
        List<String> onA = client.hasWhat(List.of(a.address())).getOrDefault(a.address(), List.of());
        for (Future<Integer> f : fs) {
            assertFalse(onA.contains(f.key()), "a holds none of them");
        }
    }

    // dask: test_minimum_resource (a task needing A=1 and B=1 runs one at a time on a 4-thread worker
    // with A=2, B=1)
    @Test
    void minimumResource() throws Exception {
        try (WorkerServer m = worker("m", 4, Map.of("A", 2.0, "B", 1.0))) {
            peak.set(0);
            List<Future<Integer>> fs = client.with(Options.defaults().resource("A", 1).resource("B", 1).pure(false))
                    .map(ResourcesConformanceTest::countedInc, IntStream.range(0, 30).boxed().toList());
            assertEquals(IntStream.range(1, 31).boxed().toList(), client.gather(fs));
            assertEquals(1, peak.get(), "executing at once");
            Map<String, List<String>> who = client.whoHas(fs);
            for (Future<Integer> f : fs) {
                assertEquals(List.of(m.address()), who.get(f.key()), f.key());
            }
        }
    }

    static final java.util.concurrent.ConcurrentLinkedQueue<String> order = new java.util.concurrent.ConcurrentLinkedQueue<>();
    static final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.CountDownLatch> gates =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** Records that {@code name} started, then waits (at most 30 s) for its gate when it has one. */
    static String mark(String name) throws InterruptedException {
        order.add(name);
        java.util.concurrent.CountDownLatch g = gates.get(name);
        if (g != null) {
            g.await(30, TimeUnit.SECONDS);
        }
        return name;
    }

    static void gate(String name) {
        gates.put(name, new java.util.concurrent.CountDownLatch(1));
    }

    static void open(String name) {
        gates.get(name).countDown();
    }

    /** A fresh key: each case starts from an empty record. */
    static String key(String name) {
        return name + "-" + java.util.UUID.randomUUID();
    }

    /** Submits {@code step(key)} at {@code priority} on {@code w}, needing R=1 when {@code r}. */
    static Future<String> step(WorkerServer w, String k, int priority, boolean r) {
        Options o = Options.defaults().key(k).priority(priority).workers(w.address());
        return client.with(r ? o.resource("R", 1) : o).submit(ResourcesConformanceTest::mark, k);
    }

    /** dask's block_worker waits for the tasks to reach the worker, not only the scheduler: the story says so. */
    private static void awaitOnWorker(List<Future<String>> fs) throws InterruptedException {
        for (Future<String> f : fs) {
            assertTrue(Wait.until(T, () -> {
                try {
                    return client.story(f).stream().anyMatch(e -> e.event().contains("received"));
                } catch (Exception e) {
                    return false;
                }
            }), f.key() + " did not reach its worker");
        }
    }

    private static void awaitStarted(String k) throws InterruptedException {
        assertTrue(Wait.until(T, () -> order.contains(k)), k + " did not start: " + order);
    }

    /**
     * dask: test_resources.py::test_constrained_tasks_respect_priority — with clog holding the only
     * R, x1, x2 and x3 (all needing R) wait; they then run x3, x1, x2: highest priority first
     * (dask's worker priorities (0,) &lt; (1,) &lt; (2,) are user priorities 2 &gt; 1 &gt; 0 here).
     */
    @Test
    void constrainedTasksRespectPriority() throws Exception {
        try (WorkerServer r = worker("r", 1, Map.of("R", 1.0))) {
            assertTrue(Wait.until(T, () -> ncores() == 3), "three workers");
            order.clear();
            String clog = key("clog");
            gate(clog);
            Future<String> c = step(r, clog, 0, true);
            awaitStarted(clog);
            String x1 = key("x1"), x2 = key("x2"), x3 = key("x3");
            List<Future<String>> xs = List.of(step(r, x1, 1, true), step(r, x2, 0, true), step(r, x3, 2, true));
            // they wait for R, on the scheduler (which counts clog's R) or on the worker
            assertTrue(Wait.until(T, () -> xs.stream().allMatch(f -> !"null".equals(status(f)))), "submitted");
            open(clog);
            assertEquals(clog, c.result(T));
            for (Future<String> f : xs) {
                f.result(T);
            }
            assertEquals(List.of(clog, x3, x1, x2), List.copyOf(order));
        }
    }

    /**
     * dask: test_resources.py::test_constrained_vs_ready_priority_1 — one thread, R=1; behind a clog
     * (no resources) wait x (no resources) and y (R=1), submitted in either order: when the clog
     * ends the one of higher priority runs first, whether or not it needs the resource.
     */
    @Test
    void constrainedVsReadyPriority1() throws Exception {
        try (WorkerServer r = worker("r1", 1, Map.of("R", 1.0))) {
            assertTrue(Wait.until(T, () -> ncores() == 3), "three workers");
            for (boolean swap : new boolean[]{false, true}) {
                for (int[] p : new int[][]{{1, 0}, {0, 1}}) {
                    order.clear();
                    String clog = key("clog"), x = key("x"), y = key("y");
                    gate(clog);
                    Future<String> c = step(r, clog, 0, false);
                    awaitStarted(clog);
                    // dask's (p1, p2) are worker priorities: the lower runs first, so user priority = -p
                    List<Future<String>> fs = swap
                            ? List.of(step(r, y, -p[1], true), step(r, x, -p[0], false))
                            : List.of(step(r, x, -p[0], false), step(r, y, -p[1], true));
                    awaitOnWorker(fs);
                    open(clog);
                    c.result(T);
                    for (Future<String> f : fs) {
                        f.result(T);
                    }
                    String first = p[0] < p[1] ? x : y;
                    assertEquals(first, List.copyOf(order).get(1), "swap=" + swap + " p=" + java.util.Arrays.toString(p)
                            + " order=" + order);
                }
            }
        }
    }

    /**
     * dask: test_resources.py::test_constrained_vs_ready_priority_2 — two threads, R=1; clog1 (no
     * resources) and clog2 (R=1) run; x (no resources) and y (R=1) wait. When clog1 ends x runs,
     * whatever the priorities and order: y cannot while clog2 holds R.
     */
    @Test
    void constrainedVsReadyPriority2() throws Exception {
        try (WorkerServer r = worker("r2", 2, Map.of("R", 1.0))) {
            assertTrue(Wait.until(T, () -> ncores() == 3), "three workers");
            for (boolean swap : new boolean[]{false, true}) {
                for (int[] p : new int[][]{{1, 0}, {0, 1}}) {
                    order.clear();
                    String clog1 = key("clog1"), clog2 = key("clog2"), x = key("x"), y = key("y");
                    gate(clog1);
                    gate(clog2);
                    Future<String> c1 = step(r, clog1, 0, false);
                    Future<String> c2 = step(r, clog2, 0, true);
                    awaitStarted(clog1);
                    awaitStarted(clog2);
                    List<Future<String>> fs = swap
                            ? List.of(step(r, y, -p[1], true), step(r, x, -p[0], false))
                            : List.of(step(r, x, -p[0], false), step(r, y, -p[1], true));
                    // x reaches the worker; y, whose R clog2 holds, may wait on the scheduler instead
                    awaitOnWorker(fs.stream().filter(f -> f.key().equals(x)).toList());
                    Future<String> fy = fs.stream().filter(f -> f.key().equals(y)).findFirst().orElseThrow();
                    assertTrue(Wait.until(T, () -> !"null".equals(status(fy))), "y submitted");
                    open(clog1);
                    c1.result(T);
                    awaitStarted(x);
                    assertFalse(order.contains(y), "y ran while clog2 held R: " + order);
                    open(clog2);
                    c2.result(T);
                    for (Future<String> f : fs) {
                        f.result(T);
                    }
                }
            }
        }
    }

    static String holdThenMaybeFail(String name, boolean fail) throws InterruptedException {
        mark(name);
        if (fail) {
            throw new IllegalStateException("failed after cancel");
        }
        return name;
    }

    /**
     * dask: test_resources.py::test_cancelled_with_resources, test_resumed_with_resources — x (R=1)
     * runs and is cancelled: its resource stays taken while its code still runs, so y (R=1) waits;
     * once x's code ends, by success or by an exception, R is free and y runs.
     */
    @Test
    void cancelledTaskHoldsItsResourceUntilItsCodeEnds() throws Exception {
        try (WorkerServer r = worker("r3", 2, Map.of("R", 1.0))) {
            assertTrue(Wait.until(T, () -> ncores() == 3), "three workers");
            for (boolean fail : new boolean[]{false, true}) {
                order.clear();
                String x = key("x"), y = key("y");
                gate(x);
                Future<String> fx = client.with(Options.defaults().key(x).workers(r.address()).resource("R", 1))
                        .submit(ResourcesConformanceTest::holdThenMaybeFail, x, fail);
                awaitStarted(x);
                fx.cancel(false);
                Future<String> fy = step(r, y, 0, true);
                assertTrue(Wait.until(T, () -> !"null".equals(status(fy))), "y submitted");
                // y waits for R, not for a thread: the worker has a second one free
                assertFalse(Wait.until(java.time.Duration.ofMillis(300), () -> order.contains(y)),
                        "y started while the cancelled x still ran holding R: " + order);
                open(x);
                assertEquals(y, fy.result(T));
                assertEquals(List.of(x, y), List.copyOf(order));
            }
        }
    }
}
