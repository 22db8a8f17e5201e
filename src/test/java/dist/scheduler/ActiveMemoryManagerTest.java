package dist.scheduler;

import dist.Client;
import dist.Future;
import dist.Options;
import dist.Wait;
import dist.comm.CommConfig;
import dist.config.Config;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The active memory manager as a user sees it: policies that drop and copy replicas, the checks
 * that keep the last copy, copies tasks read, copies client.replicate asked for, and receivers
 * that are paused. Ported from dask's test_active_memory_manager.py (each test names its case);
 * dask's DemoPolicy is {@link Demo} here, loaded by class name as any user policy.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ActiveMemoryManagerTest {
    static final Duration T = Duration.ofSeconds(30);
    /** What {@link Demo} does: "drop" or "replicate", its key, and how many suggestions per run. */
    static volatile String action = "drop";
    static volatile String demoKey = "x";
    static volatile int demoN = 10;
    /** {@link DropEach}: the workers it names, one per run, in turn. */
    static volatile List<String> dropOrder = List.of();
    static final AtomicInteger dropRuns = new AtomicInteger();
    static final CountDownLatch release1 = new CountDownLatch(1);
    static final CountDownLatch release2 = new CountDownLatch(1);

    final List<AutoCloseable> open = new ArrayList<>();

    /** dask's DemoPolicy: drop or replicate one key n times, the manager choosing the workers. */
    public static class Demo implements MemoryManagerPolicy {
        @Override
        public List<Suggestion> suggest(View cluster) {
            List<Suggestion> out = new ArrayList<>();
            if (cluster.key(demoKey) != null) {
                for (int i = 0; i < demoN; i++) {
                    out.add("drop".equals(action) ? Suggestion.drop(demoKey, null) : Suggestion.replicate(demoKey, null));
                }
            }
            return out;
        }
    }

    /** Drops x from a different named worker at each run (dask's test_double_drop policy). */
    public static class DropEach implements MemoryManagerPolicy {
        @Override
        public List<Suggestion> suggest(View cluster) {
            int i = dropRuns.getAndIncrement();
            return i < dropOrder.size() ? List.of(Suggestion.drop("x", dropOrder.get(i))) : List.of();
        }
    }

    static int inc(int x) {
        return x + 1;
    }

    static int waitThenInc(int x, int which) throws InterruptedException {
        (which == 1 ? release1 : release2).await(60, TimeUnit.SECONDS); // held until the test lets it end
        return x + 1;
    }

    static byte[] block9(int seed) {
        byte[] b = new byte[9 << 20];
        b[0] = (byte) seed;
        return b;
    }

    @AfterEach
    void close() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    /** A scheduler whose manager runs {@code policies} every 100 ms; the overrides stay until the test ends. */
    SchedulerServer scheduler(String policies, boolean start) throws IOException {
        open.add(Config.set("distributed.scheduler.active-memory-manager.policies", policies));
        open.add(Config.set("distributed.scheduler.active-memory-manager.start", start));
        open.add(Config.set("distributed.scheduler.active-memory-manager.interval", "100ms"));
        SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        open.add(s);
        return s;
    }

    WorkerServer worker(SchedulerServer s, String name, long limit) throws IOException {
        WorkerServer w = WorkerServer.start(new WorkerServer.Options(s.address(), "127.0.0.1", 0, 1, name, limit,
                8 * 1024, CommConfig.DEFAULT));
        open.add(w);
        return w;
    }

    List<WorkerServer> workers(SchedulerServer s, int n) throws Exception {
        List<WorkerServer> ws = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ws.add(worker(s, "w" + i, 0));
        }
        assertTrue(s.awaitWorkers(n, 30, TimeUnit.SECONDS));
        return ws;
    }

    Client client(SchedulerServer s) {
        Client c = Client.connect(s.address());
        open.add(c);
        return c;
    }

    static int add(int x, int y) {
        return x + y;
    }

    /**
     * {@code x} scattered to the first worker, then copied to the others by tasks there reading it:
     * copies nobody asked for (scatter with broadcast and replicate ask for theirs, which are kept).
     */
    static Future<Integer> spread(Client c, List<WorkerServer> ws, int value) throws Exception {
        Future<Integer> x = c.scatter(Map.of("x", value), List.of(ws.get(0).address()), false).get("x");
        List<Future<Integer>> readers = new ArrayList<>();
        for (int i = 1; i < ws.size(); i++) {
            readers.add(c.with(Options.defaults().workers(ws.get(i).address())).submit(ActiveMemoryManagerTest::add, x, i));
        }
        for (Future<Integer> r : readers) {
            r.result(T);
        }
        readers.forEach(Future::release);
        return x;
    }

    static int holders(Client c, Future<?> f) {
        return c.whoHas(List.of(f)).getOrDefault(f.key(), List.of()).size();
    }

    static <T> T query(SchedulerServer s, java.util.function.Function<SchedulerView, T> q) {
        try {
            return s.query(x -> q.apply(x.view()), 10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    /** Five runs of the manager: what it would change has changed by then. */
    static void severalRuns() throws InterruptedException {
        assertFalse(Wait.until(Duration.ofMillis(500), () -> false));
    }

    /** dask: test_active_memory_manager.py::test_no_policies — with no policy, replicas stay. */
    @Test
    void noPolicies() throws Exception {
        SchedulerServer s = scheduler("", true);
        List<WorkerServer> ws = workers(s, 2);
        Client c = client(s);
        Future<Integer> x = spread(c, ws, 1);
        assertEquals(2, holders(c, x));
        severalRuns();
        assertEquals(2, holders(c, x));
    }

    /** dask: test_active_memory_manager.py::test_drop — five drops of a key on four workers leave one copy. */
    @Test
    void drop() throws Exception {
        action = "drop";
        demoKey = "x";
        demoN = 5;
        SchedulerServer s = scheduler(Demo.class.getName(), true);
        List<WorkerServer> ws = workers(s, 4);
        Client c = client(s);
        Future<Integer> x = spread(c, ws, 123);
        assertTrue(Wait.until(T, () -> holders(c, x) == 1));
        severalRuns();
        assertEquals(1, holders(c, x), "the last copy is never dropped");
        assertEquals(123, x.result(T));
    }

    /** dask: test_active_memory_manager.py::test_drop_not_in_memory — a key still computing is left alone. */
    @Test
    void dropNotInMemory() throws Exception {
        action = "drop";
        demoKey = "never-mind";
        demoN = 10;
        SchedulerServer s = scheduler(Demo.class.getName(), true);
        workers(s, 2);
        Client c = client(s);
        Future<Integer> x = c.submit(ActiveMemoryManagerTest::inc, 1);
        demoKey = x.key();
        assertEquals(2, x.result(T));
    }

    /**
     * dask: test_active_memory_manager.py::test_drop_with_waiter — a copy a task running on that
     * worker reads is never dropped; once that task is done, it is.
     */
    @Test
    void dropWithWaiter() throws Exception {
        action = "drop";
        demoKey = "x";
        demoN = 10;
        SchedulerServer s = scheduler(Demo.class.getName(), true);
        List<WorkerServer> ws = workers(s, 2);
        Client c = client(s);
        Future<Integer> x = spread(c, ws, 1);
        Future<Integer> y1 = c.with(Options.defaults().workers(ws.get(0).address())).submit(ActiveMemoryManagerTest::waitThenInc, x, 1);
        Future<Integer> y2 = c.with(Options.defaults().workers(ws.get(1).address())).submit(ActiveMemoryManagerTest::waitThenInc, x, 2);
        assertTrue(Wait.until(T, () -> ws.get(0).address().equals(query(s, v -> v.processingOn(y1.key())))
                && ws.get(1).address().equals(query(s, v -> v.processingOn(y2.key())))));
        severalRuns();
        assertEquals(2, holders(c, x), "both copies are read by running tasks");
        release1.countDown();
        assertEquals(2, y1.result(T));
        assertTrue(Wait.until(T, () -> c.whoHas(List.of(x)).get("x").equals(List.of(ws.get(1).address()))),
                "the copy nobody reads goes");
        assertFalse(y2.isDone());
        release2.countDown();
        assertEquals(2, y2.result(T));
    }

    /**
     * dask: test_active_memory_manager.py::test_double_drop — two runs drop from each holder in
     * turn before the first drop is done: the last copy stays.
     */
    @Test
    void doubleDrop() throws Exception {
        dropRuns.set(0);
        dropOrder = List.of();
        SchedulerServer s = scheduler(DropEach.class.getName(), true);
        List<WorkerServer> ws = workers(s, 2);
        Client c = client(s);
        Future<Integer> x = spread(c, ws, 1);
        assertEquals(2, holders(c, x));
        dropRuns.set(0);
        dropOrder = List.of(ws.get(0).address(), ws.get(1).address());
        assertTrue(Wait.until(T, () -> dropRuns.get() > 2));
        assertEquals(1, holders(c, x));
        assertEquals(1, x.result(T));
    }

    /** dask: test_active_memory_manager.py::test_ReduceReplicas — a key on four workers, nobody waiting, ends on one. */
    @Test
    void reduceReplicas() throws Exception {
        SchedulerServer s = scheduler("ReduceReplicas,distributed.active_memory_manager.ReduceReplicas", true);
        List<WorkerServer> ws = workers(s, 4);
        Client c = client(s);
        Future<Integer> x = spread(c, ws, 123);
        assertTrue(Wait.until(T, () -> holders(c, x) == 1));
        assertEquals(123, x.result(T));
    }

    /** Copies client.replicate and a broadcast scatter made stay while the futures are held, though ReduceReplicas runs. */
    @Test
    void replicasAskedForAreKept() throws Exception {
        SchedulerServer s = scheduler("ReduceReplicas", true);
        workers(s, 4);
        Client c = client(s);
        Future<Integer> x = c.scatter(Map.of("x", 123), List.of(), false).get("x");
        c.replicate(List.of(x), 3, List.of(), 2);
        Future<Integer> y = c.scatter(Map.of("y", 7), List.of(), true).get("y");
        assertEquals(3, holders(c, x));
        assertEquals(4, holders(c, y));
        severalRuns();
        assertEquals(3, holders(c, x), "ReduceReplicas keeps what replicate asked for");
        assertEquals(4, holders(c, y), "and what a broadcast asked for");
    }

    /**
     * dask: test_active_memory_manager.py::test_replicate_avoids_paused_workers_1 — copies go to
     * running workers only; and never past a receiver's memory limit (dist's own check).
     */
    @Test
    void replicateAvoidsPausedAndFullWorkers() throws Exception {
        action = "replicate";
        demoKey = "none-yet";
        demoN = 10;
        try (Config.Override t = Config.set("distributed.worker.memory.target", 5.0)) { // no spilling: w1 pauses
            SchedulerServer s = scheduler(Demo.class.getName(), true);
            WorkerServer w0 = worker(s, "w0", 0);
            WorkerServer w1 = worker(s, "w1", 10L << 20);
            WorkerServer w2 = worker(s, "w2", 0);
            WorkerServer small = worker(s, "small", 4L << 20);
            assertTrue(s.awaitWorkers(4, 30, TimeUnit.SECONDS));
            Client c = client(s);
            Future<byte[]> big = c.with(Options.defaults().workers(w1.address())).submit(ActiveMemoryManagerTest::block9, 1);
            big.result(T);
            assertTrue(Wait.until(T, () -> "paused".equals(query(s, v -> v.workerStatus(w1.address())))));
            Future<byte[]> x = c.with(Options.defaults().workers(w0.address())).submit(ActiveMemoryManagerTest::block9, 2);
            x.result(T);
            demoKey = x.key();
            assertTrue(Wait.until(T, () -> holders(c, x) == 2));
            severalRuns();
            assertEquals(Set.of(w0.address(), w2.address()), Set.copyOf(c.whoHas(List.of(x)).get(x.key())),
                    "not to the paused worker, nor to the one whose limit it would pass");
            assertNotNull(small);
        }
    }

    /**
     * dask: test_active_memory_manager.py::test_replicate — ten copies asked of a key on one of four
     * workers: every worker ends with one, never more.
     */
    @Test
    void replicate() throws Exception {
        action = "replicate";
        demoKey = "x";
        demoN = 10;
        SchedulerServer s = scheduler(Demo.class.getName(), true);
        List<WorkerServer> ws = workers(s, 4);
        Client c = client(s);
        Future<Integer> x = c.scatter(Map.of("x", 123), List.of(ws.get(0).address()), false).get("x");
        assertTrue(Wait.until(T, () -> holders(c, x) == 4));
        severalRuns();
        assertEquals(4, holders(c, x));
    }

    /**
     * dask: test_active_memory_manager.py::test_drop_prefers_paused_workers — of four copies, the
     * one on the paused worker goes first.
     */
    @Test
    void dropPrefersPausedWorkers() throws Exception {
        action = "drop";
        demoKey = "none-yet";
        demoN = 1;
        try (Config.Override t = Config.set("distributed.worker.memory.target", 5.0)) {
            SchedulerServer s = scheduler(Demo.class.getName(), true);
            List<WorkerServer> ws = new ArrayList<>(List.of(worker(s, "w0", 0), worker(s, "w1", 0), worker(s, "w2", 0)));
            WorkerServer paused = worker(s, "paused", 10L << 20);
            ws.add(paused);
            assertTrue(s.awaitWorkers(4, 30, TimeUnit.SECONDS));
            Client c = client(s);
            Future<Integer> x = spread(c, ws, 5);
            assertEquals(4, holders(c, x));
            // held to the end: a Future collected early releases the result, and the worker resumes
            Future<byte[]> big = c.with(Options.defaults().workers(paused.address())).submit(ActiveMemoryManagerTest::block9, 3);
            big.result(T);
            assertTrue(Wait.until(T, () -> "paused".equals(query(s, v -> v.workerStatus(paused.address())))));
            demoKey = "x";
            assertTrue(Wait.until(T, () -> holders(c, x) == 3));
            assertFalse(c.whoHas(List.of(x)).get("x").contains(paused.address()), "the paused worker's copy went first");
            java.lang.ref.Reference.reachabilityFence(big);
        }
    }
}
