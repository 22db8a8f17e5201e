package dist.conformance;

import dist.Client;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;
import dist.LocalClusters;
import dist.Options;
import dist.Wait;
import dist.comm.CommConfig;
import dist.protocol.Message;
import dist.scheduler.SchedulerView;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Retiring workers ({@link Client#retireWorkers}), ported from dask's test_scheduler.py. dask's
 * tests call {@code Scheduler.retire_workers}; dist's client call does the same on the scheduler.
 * Each test has its own scheduler and thread workers started here, since workers leave. The other
 * cases of test_scheduler.py are listed in {@link SchedulerWorkersConformanceTest}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SchedulerRetireConformanceTest {
    static final Duration T = Duration.ofSeconds(30);

    static int inc(int x) {
        return x + 1;
    }

    static int slowinc(int x) throws InterruptedException {
        Thread.sleep(500); // the task's work
        return x + 1;
    }

    static LocalCluster empty() throws IOException {
        return LocalCluster.builder().workers(0).output(null).start();
    }

    static WorkerServer worker(LocalCluster c, String name) throws IOException {
        return WorkerServer.start(new WorkerServer.Options(c.schedulerAddress(), "127.0.0.1", 0, 1, name, 0,
                8 * 1024, CommConfig.DEFAULT));
    }

    static <T> T query(LocalCluster c, Function<SchedulerView, T> q) {
        try {
            return LocalClusters.scheduler(c).query(s -> q.apply(s.view()), 10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    static void close(WorkerServer... ws) {
        for (WorkerServer w : ws) {
            if (w != null) {
                w.close();
            }
        }
    }

    /**
     * dask: test_scheduler.py::test_retire_workers (with the worker named: dist has no
     * workers_to_close to choose one), test_retire_workers_empty — the retired worker's data moves to
     * the other, which then holds both keys; retiring none retires nothing.
     */
    @Test
    void retireWorkers() throws Exception {
        WorkerServer a = null, b = null;
        try (LocalCluster cluster = empty(); Client c = cluster.client()) {
            assertEquals(Map.of(), c.retireWorkers(List.of()).retired(), "no worker at all");
            a = worker(cluster, "alice");
            b = worker(cluster, "");
            Future<Integer> x = c.scatter(List.of(1), List.of(a.address()), false).get(0);
            Future<List<Integer>> y = c.scatter(List.of(IntStream.range(0, 1000).boxed().toList()),
                    List.of(b.address()), false).get(0);
            Map<String, dist.WorkerInfo> info = c.retireWorkers(List.of(a.address())).retired();
            assertEquals(Set.of(a.address()), info.keySet());
            assertEquals("alice", info.get(a.address()).name());
            assertEquals(Set.of(b.address()), c.ncores().keySet());
            assertEquals(Set.of(x.key(), y.key()), new HashSet<>(c.hasWhat().get(b.address())));
            assertTrue(a.awaitClose(10, TimeUnit.SECONDS), "the retired worker closes");
            assertEquals(1, x.result(T));
            assertEquals(Map.of(), c.retireWorkers(List.of()).retired());
            assertEquals(Map.of(), c.retireWorkers(List.of("127.0.0.1:1")).retired(), "no such worker");
            assertEquals(Set.of(b.address()), c.ncores().keySet());
        } finally {
            close(a, b);
        }
    }

    /** dask: test_scheduler.py::test_retire_workers_close — retiring every worker closes them all. */
    @Test
    void retireWorkersClose() throws Exception {
        WorkerServer a = null, b = null;
        try (LocalCluster cluster = empty(); Client c = cluster.client()) {
            a = worker(cluster, "");
            b = worker(cluster, "");
            assertEquals(Set.of(a.address(), b.address()), c.retireWorkers(List.of(a.address(), b.address())).retired().keySet());
            assertTrue(c.ncores().isEmpty());
            assertTrue(a.awaitClose(10, TimeUnit.SECONDS));
            assertTrue(b.awaitClose(10, TimeUnit.SECONDS));
        } finally {
            close(a, b);
        }
    }

    /** dask: test_scheduler.py::test_retire_workers_n — the scheduler chooses n workers to retire. */
    @Test
    void retireWorkersN() throws Exception {
        WorkerServer a = null, b = null;
        try (LocalCluster cluster = empty(); Client c = cluster.client()) {
            a = worker(cluster, "");
            b = worker(cluster, "");
            assertEquals(1, c.retireWorkers(1).retired().size());
            assertEquals(1, c.ncores().size());
            assertEquals(Map.of(), c.retireWorkers(0).retired());
            assertEquals(1, c.ncores().size());
            assertEquals(1, c.retireWorkers(1).retired().size());
            assertEquals(0, c.ncores().size());
            assertEquals(Map.of(), c.retireWorkers(0).retired());
            assertEquals(0, c.ncores().size());
            assertTrue(a.awaitClose(10, TimeUnit.SECONDS));
            assertTrue(b.awaitClose(10, TimeUnit.SECONDS));
        } finally {
            close(a, b);
        }
    }

    /** dask: test_scheduler.py::test_retire_names_str — workers retired by name; no result is lost. */
    @Test
    void retireNamesStr() throws Exception {
        WorkerServer a = null, b = null;
        try (LocalCluster cluster = empty(); Client c = cluster.client()) {
            a = worker(cluster, "0");
            b = worker(cluster, "1");
            List<Future<Integer>> futures = new ArrayList<>(c.with(Options.defaults().workers(a.address()))
                    .map(SchedulerRetireConformanceTest::inc, IntStream.range(0, 5).boxed().toList()));
            futures.addAll(c.with(Options.defaults().workers(b.address()))
                    .map(SchedulerRetireConformanceTest::inc, IntStream.range(5, 10).boxed().toList()));
            Futures.wait(futures, T);
            assertFalse(c.hasWhat().get(a.address()).isEmpty());
            assertEquals(Set.of(a.address()), c.retireWorkers(List.of("0")).retired().keySet());
            assertTrue(futures.stream().allMatch(Future::isDone));
            assertEquals(10, c.hasWhat().get(b.address()).size());
            assertEquals(IntStream.range(1, 11).boxed().toList(), c.gather(futures));
        } finally {
            close(a, b);
        }
    }

    /**
     * dask: test_scheduler.py::test_retire_workers_no_suspicious_tasks — a task running on a
     * retired worker moves on without counting as suspicious.
     */
    @Test
    void retireWorkersNoSuspiciousTasks() throws Exception {
        WorkerServer a = null, b = null;
        try (LocalCluster cluster = empty(); Client c = cluster.client()) {
            a = worker(cluster, "");
            b = worker(cluster, "");
            String aa = a.address();
            Future<Integer> f = c.with(Options.defaults().workers(aa).allowOtherWorkers(true))
                    .submit(SchedulerRetireConformanceTest::slowinc, 100);
            assertTrue(Wait.until(T, () -> aa.equals(query(cluster, v -> v.processingOn(f.key())))));
            c.retireWorkers(List.of(aa));
            assertEquals(0, (int) query(cluster, v -> v.suspiciousCount(f.key())));
            assertEquals(101, f.result(T));
            assertEquals(0, (int) query(cluster, v -> v.suspiciousCount(f.key())));
        } finally {
            close(a, b);
        }
    }

    static int square(int x) {
        return x * x;
    }

    static int times(int x, int k) {
        return x * k;
    }

    /** dask: test_scheduler.py::test_retire_state_change — retiring a worker while chains of tasks run. */
    @Test
    void retireStateChange() throws Exception {
        WorkerServer a = null, b = null;
        try (LocalCluster cluster = empty(); Client c = cluster.client()) {
            a = worker(cluster, "");
            b = worker(cluster, "");
            List<Future<Integer>> y = c.map(SchedulerRetireConformanceTest::square, IntStream.range(0, 10).boxed().toList());
            List<List<Future<Integer>>> steps = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                List<Future<Integer>> v = c.with(Options.defaults().pure(false)).map(SchedulerRetireConformanceTest::times,
                        y, IntStream.range(0, 10).map(i -> 3).boxed().toList());
                List<Future<Integer>> k = c.with(Options.defaults().pure(false)).map(SchedulerRetireConformanceTest::times,
                        v, IntStream.range(0, 10).map(i -> 5).boxed().toList());
                steps.add(c.with(Options.defaults().pure(false)).map(SchedulerRetireConformanceTest::times,
                        k, IntStream.range(0, 10).map(i -> 6).boxed().toList()));
            }
            c.retireWorkers(List.of(a.address()));
            List<Integer> expected = IntStream.range(0, 10).map(i -> i * i * 90).boxed().toList();
            for (List<Future<Integer>> step : steps) {
                assertEquals(expected, c.gather(step));
            }
        } finally {
            close(a, b);
        }
    }

    /**
     * dask: test_scheduler.py::test_retire_workers_lock — replicate, rebalance and two retirements
     * at the same time; every result survives, none is recomputed (no task changes state).
     */
    @Test
    void retireWorkersLock() throws Exception {
        WorkerServer[] ws = new WorkerServer[3];
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (LocalCluster cluster = empty(); Client c = cluster.client()) {
            for (int i = 0; i < 3; i++) {
                ws[i] = worker(cluster, "");
            }
            List<Future<Integer>> futs = c.map(SchedulerRetireConformanceTest::inc, IntStream.range(0, 100).boxed().toList());
            Futures.wait(futs, T);
            long before = query(cluster, SchedulerView::transitionCount);
            List<Callable<Object>> calls = List.of(
                    () -> {
                        c.replicate(futs, 2, List.of(), 2);
                        return null;
                    },
                    () -> {
                        c.rebalance();
                        return null;
                    },
                    () -> c.retireWorkers(List.of(ws[0].address())),
                    () -> c.retireWorkers(List.of(ws[1].address())));
            for (java.util.concurrent.Future<Object> f : pool.invokeAll(calls, 60, TimeUnit.SECONDS)) {
                f.get();
            }
            assertEquals(IntStream.range(1, 101).boxed().toList(), c.gather(futs));
            assertEquals(Set.of(ws[2].address()), c.ncores().keySet());
            assertEquals(before, (long) query(cluster, SchedulerView::transitionCount), "nothing was recomputed");
        } finally {
            pool.shutdownNow();
            close(ws);
        }
    }

    static byte[] kb(int i) {
        byte[] b = new byte[64 * 1024];
        b[0] = (byte) i;
        return b;
    }

    static int size(byte[] b) {
        return b.length + b[0];
    }

    /** How often the scheduler sent {@code key} to a worker to compute, from its story. */
    static long runs(Client c, String key) {
        return c.story(key).stream().filter(e -> e.where().equals("scheduler") && e.event().endsWith("-> processing")).count();
    }

    /**
     * Retiring two of three worker processes while a task runs on one: it finishes there, every
     * result only they hold moves to the third, and nothing is computed twice (each task's story
     * shows one placement). dask: test_scheduler.py::test_retire_workers, as its RetireWorker policy
     * does it (test_active_memory_manager.py::test_RetireWorker_amm_on_off).
     */
    @Test
    void retireWorkersRecomputesNothing() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(3).threadsPerWorker(1).processes(true)
                .output(null).start();
             Client c = cluster.client()) {
            assertTrue(cluster.awaitWorkers(3, 60, TimeUnit.SECONDS));
            List<String> ws = List.copyOf(c.ncores().keySet());
            List<Future<byte[]>> blocks = c.map(SchedulerRetireConformanceTest::kb, IntStream.range(0, 60).boxed().toList());
            Futures.wait(blocks, T);
            List<Future<Integer>> sizes = new ArrayList<>();
            for (Future<byte[]> b : blocks) {
                sizes.add(c.submit(SchedulerRetireConformanceTest::size, b));
            }
            Futures.wait(sizes, T); // results read from the workers about to leave
            Future<Integer> slow = c.with(Options.defaults().workers(ws.get(0)).allowOtherWorkers(true))
                    .submit(SchedulerRetireConformanceTest::slowinc, 1);
            assertTrue(Wait.until(T, () -> ws.get(0).equals(query(cluster, v -> v.processingOn(slow.key())))));
            dist.Retirement r = c.retireWorkers(ws.subList(0, 2)); // while slow runs there
            assertEquals(Set.copyOf(ws.subList(0, 2)), r.retired().keySet(), "kept: " + r.kept());
            assertEquals(Map.of(), r.kept());
            assertEquals(Set.of(ws.get(2)), c.ncores().keySet());
            assertEquals(2, slow.result(T));
            for (int i = 0; i < 60; i++) {
                assertEquals(64 * 1024 + (byte) i, sizes.get(i).result(T));
            }
            long twice = 0;
            List<Future<?>> all = new ArrayList<>(blocks);
            all.addAll(sizes);
            all.add(slow);
            StringBuilder stories = new StringBuilder();
            for (Future<?> f : all) {
                long n = runs(c, f.key()) - 1;
                if (n > 0) {
                    twice += n;
                    c.story(f.key()).forEach(e -> stories.append(e).append('\n'));
                }
            }
            assertEquals(0, twice, "recomputations:\n" + stories);
            assertEquals(1, runs(c, blocks.get(0).key()), "the story shows the placement");
        }
    }

    /**
     * All four workers retire at once: the one without data goes, the one holding the only copy of
     * x stays (no receiver), and of the two holding y one goes and one stays (the kept one holds
     * it). dask: test_active_memory_manager.py::test_RetireWorker_no_recipients
     */
    @Test
    void retireWorkerNoRecipients() throws Exception {
        WorkerServer[] ws = new WorkerServer[4];
        try (LocalCluster cluster = empty(); Client c = cluster.client()) {
            for (int i = 0; i < 4; i++) {
                ws[i] = worker(cluster, "w" + (i + 1));
            }
            assertTrue(cluster.awaitWorkers(4, 30, TimeUnit.SECONDS));
            c.scatter(Map.of("x", "x"), List.of(ws[1].address()), false);
            c.scatter(Map.of("y", "y"), List.of(ws[2].address(), ws[3].address()), true);
            dist.Retirement r = c.retireWorkers(List.of(ws[0].address(), ws[1].address(), ws[2].address(), ws[3].address()));
            Set<String> out = r.retired().keySet();
            assertTrue(out.equals(Set.of(ws[0].address(), ws[2].address())) || out.equals(Set.of(ws[0].address(), ws[3].address())), "retired " + out);
            assertTrue(r.kept().get(ws[1].address()).contains("no other running worker"), r.kept().toString());
            assertEquals(2, r.kept().size());
            for (String a : c.ncores().keySet()) {
                assertEquals("running", query(cluster, v -> v.workerStatus(a)), "a worker kept runs again");
            }
            assertEquals(2, c.submit(SchedulerRetireConformanceTest::inc, 1).result(T));
        } finally {
            close(ws);
        }
    }

    /**
     * The only other worker is paused: nothing can take the data, the worker stays and runs again.
     * dask: test_active_memory_manager.py::test_RetireWorker_all_recipients_are_paused
     */
    @Test
    void retireWorkerAllRecipientsArePaused() throws Exception {
        WorkerServer a = null, b = null;
        try (var t = PausedWorkers.noSpill(); LocalCluster cluster = empty(); Client c = cluster.client()) {
            a = worker(cluster, "a");
            b = WorkerServer.start(new WorkerServer.Options(cluster.schedulerAddress(), "127.0.0.1", 0, 1, "b",
                    PausedWorkers.LIMIT, 8 * 1024, CommConfig.DEFAULT));
            WorkerServer bb = b;
            assertTrue(cluster.awaitWorkers(2, 30, TimeUnit.SECONDS));
            // held to the end: a Future collected early releases the result, and the worker resumes
            Future<byte[]> big = c.with(Options.defaults().workers(b.address())).submit(PausedWorkers::block9, 3);
            big.result(T);
            assertTrue(Wait.until(T, () -> "paused".equals(query(cluster, v -> v.workerStatus(bb.address())))));
            c.scatter(Map.of("x", "x"), List.of(a.address()), false);
            dist.Retirement r = c.retireWorkers(List.of(a.address()));
            assertEquals(Map.of(), r.retired());
            assertEquals(Set.of(a.address()), r.kept().keySet());
            assertEquals(Set.of(a.address(), b.address()), c.ncores().keySet());
            String aa = a.address();
            assertEquals("running", query(cluster, v -> v.workerStatus(aa)), "the worker kept runs again");
            assertEquals(2, c.with(Options.defaults().workers(a.address())).submit(SchedulerRetireConformanceTest::inc, 1).result(T));
            java.lang.ref.Reference.reachabilityFence(big);
        } finally {
            close(a, b);
        }
    }

    /**
     * A key held by two workers that both retire moves to the third.
     * dask: test_active_memory_manager.py::test_RetireWorker_all_replicas_are_being_retired
     */
    @Test
    void retireWorkerAllReplicasAreBeingRetired() throws Exception {
        WorkerServer[] ws = new WorkerServer[3];
        try (LocalCluster cluster = empty(); Client c = cluster.client()) {
            for (int i = 0; i < 3; i++) {
                ws[i] = worker(cluster, "w" + (i + 1));
            }
            assertTrue(cluster.awaitWorkers(3, 30, TimeUnit.SECONDS));
            Future<String> x = c.<String>scatter(Map.of("x", "x"), List.of(ws[0].address(), ws[1].address()), true).get("x");
            assertEquals(2, c.whoHas(List.of(x)).get("x").size());
            assertEquals(2, c.retireWorkers(List.of(ws[0].address(), ws[1].address())).retired().size());
            assertEquals(List.of(ws[2].address()), c.whoHas(List.of(x)).get("x"));
            assertEquals("x", x.result(T));
        } finally {
            close(ws);
        }
    }

    /**
     * The only other worker has no room under its memory limit for the retiring worker's 9 MiB:
     * the worker stays, running, and the answer says so; nothing is lost.
     */
    @Test
    void retireWorkerNoRoomElsewhere() throws Exception {
        WorkerServer a = null, b = null;
        try (LocalCluster cluster = empty(); Client c = cluster.client()) {
            a = worker(cluster, "a");
            b = WorkerServer.start(new WorkerServer.Options(cluster.schedulerAddress(), "127.0.0.1", 0, 1, "b",
                    8L << 20, 8 * 1024, CommConfig.DEFAULT));
            assertTrue(cluster.awaitWorkers(2, 30, TimeUnit.SECONDS));
            Future<byte[]> big = c.with(Options.defaults().workers(a.address())).submit(PausedWorkers::block9, 4);
            big.result(T);
            dist.Retirement r = c.retireWorkers(List.of(a.address()));
            assertEquals(Map.of(), r.retired());
            assertTrue(r.kept().get(a.address()).contains("no other worker has room"), r.kept().toString());
            String aa = a.address();
            assertEquals("running", query(cluster, v -> v.workerStatus(aa)));
            assertEquals(List.of(a.address()), c.whoHas(List.of(big)).get(big.key()));
        } finally {
            close(a, b);
        }
    }
}
