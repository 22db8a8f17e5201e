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
 * <li>test_persist, test_compute, test_get, test_persist_multiple_collections, test_persist_collections,
 *     test_collections_get, test_resources_str → Delayed and Graph carry no per-task resources (no
 *     dask.annotate); resources are given per submit through Options.</li>
 * <li>test_submit_many_non_overlapping_2, test_set_resources → they read the worker's
 *     available_resources, and set_resources has no counterpart (test_minimum_resource reads
 *     executing_count through a counter inside the task instead).</li>
 * <li>test_prefer_constrained → asserts on elapsed time.</li>
 * <li>test_resources_from_config, test_resources_from_python_override_config → resources come from
 *     WorkerServer.start, not from a config key.</li>
 * <li>test_balance_resources, test_dont_optimize_out, test_full_collections → skipped in dask.</li>
 * </ul>
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
}
