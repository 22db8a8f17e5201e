package dist.it;

import dist.AbstractClusterManager;
import dist.Adaptive;
import dist.Client;
import dist.Future;
import dist.LocalCluster;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Adaptive clusters ({@link dist.ClusterManager#adapt}), ported from dask's
 * distributed/deploy/tests/test_adaptive.py where a user can see the behaviour: the cluster grows
 * with the work, shrinks when it is done, within its bounds, without churning on short pauses.
 * Thread workers (as dask's {@code processes=False}), so a task can count its runs in a static map.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class AdaptiveTest {
    static final Duration T = Duration.ofSeconds(60);
    private final List<AutoCloseable> open = new ArrayList<>();
    /** Runs per input of {@link #counted}: thread workers share this JVM. */
    static final Map<Integer, AtomicInteger> RUNS = new ConcurrentHashMap<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        RUNS.clear();
    }

    private <T extends AutoCloseable> T keep(T c) {
        open.add(c);
        return c;
    }

    private LocalCluster cluster(int workers) {
        return cluster(workers, 1);
    }

    private LocalCluster cluster(int workers, int threadsPerWorker) {
        return keep(LocalCluster.builder().workers(workers).threadsPerWorker(threadsPerWorker).output(null).start());
    }

    /** A fast interval for tests; dask's tests pass interval="20 ms" .. "100 ms" the same way. */
    private void interval(String interval, int waitCount) {
        keep(Config.set("distributed.adaptive.interval", interval));
        keep(Config.set("distributed.adaptive.wait-count", waitCount));
    }

    static int slowinc(int x, int millis) throws InterruptedException {
        Thread.sleep(millis); // the task's work
        return x + 1;
    }

    static int counted(int x) throws InterruptedException {
        RUNS.computeIfAbsent(x, k -> new AtomicInteger()).incrementAndGet();
        Thread.sleep(50); // the task's work
        return x * 2;
    }

    /** dask: test_adaptive.py::test_adaptive_local_cluster — from no worker, up for a task, down to none after. */
    @Test
    void fromNoWorkerUpForATaskAndBackToNone() throws Exception {
        interval("100ms", 3);
        LocalCluster cluster = cluster(0);
        Client c = cluster.client();
        Adaptive a = cluster.adapt(0, 4);
        assertEquals(0, cluster.workerCount());
        Future<Integer> f = c.submit(x -> x + 1, 1);
        assertEquals(2, f.result(T));
        assertTrue(cluster.workerCount() >= 1);
        f.release();
        assertTrue(Wait.until(T, () -> cluster.workerCount() == 0 && cluster.workers().isEmpty()),
                "down to none: " + cluster.workers() + " " + a.events());
        assertEquals("down", direction(a.events().get(a.events().size() - 1)));
    }

    /** dask: test_adaptive.py::test_min_max — at least the minimum at once, never above the maximum. */
    @Test
    void minimumAtOnceNeverAboveTheMaximumAndBackToTheMinimum() throws Exception {
        interval("50ms", 10);
        LocalCluster cluster = cluster(0);
        Client c = cluster.client();
        Adaptive a = cluster.adapt(1, 2);
        c.waitForWorkers(1, T);
        assertEquals(1, a.events().size());
        assertEquals(0, a.events().get(0).from());
        assertEquals(1, a.events().get(0).to());
        List<Future<Integer>> fs = c.map(x -> slowinc(x, 100), IntStream.range(0, 100).boxed().toList());
        assertTrue(Wait.until(T, () -> cluster.workerCount() == 2));
        assertTrue(a.events().stream().allMatch(e -> e.to() <= 2 && direction(e).equals("up")), a.events().toString());
        assertEquals(2, a.events().size(), a.events().toString());
        c.cancel(fs);
        assertTrue(Wait.until(T, () -> cluster.workerCount() == 1 && cluster.workers().size() == 1));
        assertEquals("down", direction(a.events().get(a.events().size() - 1)));
        assertTrue(a.events().stream().allMatch(e -> e.to() >= 1 && e.to() <= 2), a.events().toString());
    }

    /** dask: test_adaptive.py::test_avoid_churn — short pauses between tasks do not retire the worker. */
    @Test
    void shortPausesBetweenTasksDoNotChurn() throws Exception {
        interval("20ms", 100); // a pause is a few intervals, far fewer than 100
        LocalCluster cluster = cluster(0);
        Client c = cluster.client();
        Adaptive a = cluster.adapt(0, 4);
        for (int i = 0; i < 10; i++) {
            int x = i;
            Future<Integer> f = c.submit(() -> slowinc(x, 40));
            assertEquals(i + 1, f.result(T));
            f.release(); // as dask's test drops its future: the worker holds nothing, so it could close
            // the pause between two pieces of work: the worker has nothing left
            assertTrue(Wait.until(T, () -> c.workersInfo().stream().allMatch(w -> w.processing() == 0 && w.keysHeld() == 0)));
        }
        assertEquals(1, a.events().size(), a.events().toString());
    }

    /**
     * dask: test_adaptive.py::test_adapt_quickly — plenty of work scales up at once, beyond two, to
     * the maximum; back to one after; a long chain of dependent tasks does not scale up.
     */
    @Test
    void plentyOfWorkScalesUpAtOnceThenDownToOne() throws Exception {
        interval("20ms", 5);
        LocalCluster cluster = cluster(0);
        Client c = cluster.client();
        Adaptive a = cluster.adapt(0, 10);
        assertEquals(2, c.submit(() -> slowinc(1, 100)).result(T));
        assertEquals(1, a.events().size(), a.events().toString());
        Future<Integer> keep = c.submit(x -> x, 7);
        keep.result(T);
        List<Future<Integer>> fs = c.map(x -> slowinc(x, 100), IntStream.range(2, 1002).boxed().toList());
        assertTrue(Wait.until(T, () -> a.events().size() >= 2));
        Adaptive.ScaleEvent up = a.events().get(1);
        assertEquals("up", direction(up));
        assertTrue(up.to() > 2 && up.to() <= 10, up.toString());
        assertTrue(Wait.until(T, () -> cluster.workers().size() == 10));
        c.cancel(fs);
        // one result held: one worker stays for it
        assertTrue(Wait.until(T, () -> cluster.workerCount() == 1 && cluster.workers().size() == 1),
                cluster.workers() + " " + a.events());
        assertEquals(7, keep.result(T));
        // one task runnable at a time: no reason for a second worker
        int before = a.events().size();
        Future<Integer> x = keep;
        for (int i = 0; i < 20; i++) {
            Future<Integer> prev = x;
            x = c.submit((Integer v) -> slowinc(v, 20), prev);
        }
        assertEquals(27, x.result(T));
        assertEquals(before, a.events().size(), a.events().toString());
        assertEquals(1, cluster.workers().size());
    }

    /** dask: test_adaptive.py::test_adapt_down — adapting again with a lower maximum retires workers. */
    @Test
    void aLowerMaximumRetiresWorkers() throws Exception {
        interval("20ms", 3);
        LocalCluster cluster = cluster(0);
        Client c = cluster.client();
        cluster.adapt(0, 5);
        List<Future<Integer>> fs = c.map(x -> slowinc(x, 100), IntStream.range(0, 1000).boxed().toList());
        assertTrue(Wait.until(T, () -> cluster.workerCount() == 5));
        Adaptive a = cluster.adapt(0, 2);
        assertTrue(Wait.until(T, () -> cluster.workerCount() == 2 && cluster.workers().size() == 2),
                cluster.workers() + " " + a.events());
        assertTrue(a.events().stream().allMatch(e -> direction(e).equals("down")), a.events().toString());
        c.cancel(fs);
    }

    /** dask: test_adaptive.py::test_no_more_workers_than_tasks — one long task asks for one worker. */
    @Test
    void oneTaskAsksForOneWorker() throws Exception {
        interval("10ms", 3);
        LocalCluster cluster = cluster(0);
        Client c = cluster.client();
        Adaptive a = cluster.adapt(0, 4);
        assertEquals(2, c.submit(() -> slowinc(1, 100)).result(T));
        assertTrue(a.events().stream().allMatch(e -> e.to() <= 1), a.events().toString());
    }

    /**
     * dask: test_adaptive.py::test_adaptive_local_cluster_multi_workers (a burst on an adaptive
     * cluster): 2,000 tasks of 50 ms on adapt(1, 4) go up to four workers, all finish with the
     * right results, and the cluster returns to one; one direction change, up then down.
     */
    @Test
    void aBurstGoesUpToTheMaximumFinishesAndComesBackToTheMinimum() throws Exception {
        interval("200ms", 3);
        LocalCluster cluster = cluster(1, 2); // two threads a worker: the burst takes half as long
        Client c = cluster.client();
        Adaptive a = cluster.adapt(1, 4);
        List<Future<Integer>> fs = c.map(AdaptiveTest::counted, IntStream.range(0, 2000).boxed().toList());
        List<Integer> results = c.gather(fs);
        assertEquals(IntStream.range(0, 2000).map(i -> 2 * i).boxed().toList(), results);
        assertEquals(2000, RUNS.size());
        assertTrue(Wait.until(T, () -> cluster.workers().size() == 1 && cluster.workerCount() == 1),
                cluster.workers() + " " + a.events());
        assertEquals(IntStream.range(0, 2000).map(i -> 2 * i).boxed().toList(), c.gather(fs));
        a.stop();
        List<Adaptive.ScaleEvent> events = a.events();
        events.forEach(e -> System.out.println("FIGURE burst scale event " + e));
        System.out.println("FIGURE burst task runs " + RUNS.values().stream().mapToInt(AtomicInteger::get).sum()
                + " for 2000 tasks");
        assertBurstShape(events);
    }

    /** Up, then down: exactly one change of direction, reaching the maximum, ending at the minimum. */
    static void assertBurstShape(List<Adaptive.ScaleEvent> events) {
        assertFalse(events.isEmpty());
        int changes = 0;
        for (int i = 1; i < events.size(); i++) {
            if (!direction(events.get(i)).equals(direction(events.get(i - 1)))) {
                changes++;
            }
            assertTrue(events.get(i).time().isAfter(events.get(i - 1).time()), "one step per interval: " + events);
            assertEquals(events.get(i - 1).to(), events.get(i).from(), events.toString());
        }
        assertEquals(1, changes, events.toString());
        assertEquals("up", direction(events.get(0)));
        assertEquals(4, events.stream().mapToInt(Adaptive.ScaleEvent::to).max().orElseThrow(), events.toString());
        assertEquals(1, events.get(events.size() - 1).to(), events.toString());
    }

    static String direction(Adaptive.ScaleEvent e) {
        return e.to() > e.from() ? "up" : "down";
    }

    /**
     * dask: test_adaptive.py::test_scale_needs_to_be_awaited — a manager of the user's own (here
     * starting thread workers) adapts unchanged: up for the work, back to none after.
     */
    @Test
    void aManagerOfOnesOwnAdaptsUnchanged() throws Exception {
        interval("50ms", 3);
        LocalCluster cluster = cluster(0);
        Client c = cluster.client();
        Map<String, WorkerServer> started = new ConcurrentHashMap<>();
        AbstractClusterManager mine = keep(new AbstractClusterManager(c) {
            @Override
            protected void startWorker(String name) throws IOException {
                started.put(name, WorkerServer.start(new WorkerServer.Options(cluster.schedulerAddress(), "127.0.0.1", 0,
                        1, name, 0, 8 * 1024, CommConfig.DEFAULT)));
            }

            @Override
            protected void stopWorker(String name) {
                started.remove(name).close();
            }
        });
        List<Future<Integer>> fs = c.map(x -> slowinc(x, 50), IntStream.range(0, 5).boxed().toList());
        assertTrue(mine.workers().isEmpty());
        Adaptive a = mine.adapt(0, 2);
        assertEquals(IntStream.range(1, 6).boxed().toList(), c.gather(fs));
        fs.forEach(Future::release);
        assertTrue(Wait.until(T, () -> mine.workers().isEmpty() && cluster.workerCount() == 0 && started.isEmpty()),
                mine.workers() + " " + a.events());
        assertTrue(a.events().stream().allMatch(e -> e.to() <= 2), a.events().toString());
        mine.close();
        assertFalse(a.isRunning());
        assertThrows(IllegalStateException.class, () -> mine.scale(1));
    }

    /** dask: test_adaptive.py::test_adapt_gets_stopped_on_cluster_close, test_adaptive.py::test_adaptive_stopped — closing the cluster stops adapting. */
    @Test
    void closingTheClusterStopsAdapting() throws Exception {
        interval("20ms", 3);
        LocalCluster cluster = cluster(0);
        Adaptive a = cluster.adapt(1, 2);
        assertTrue(Wait.until(T, () -> cluster.workerCount() == 1));
        assertTrue(a.isRunning());
        cluster.close();
        assertFalse(a.isRunning());
        Adaptive b = cluster(0).adapt(0, 1);
        b.stop();
        assertFalse(b.isRunning());
        assertThrows(IllegalArgumentException.class, () -> cluster(0).adapt(3, 2));
    }

    /**
     * Data filling more than 60% of the workers' memory limits asks for twice the workers, as dask's
     * adaptive_target does; without limits memory asks for none.
     */
    @Test
    void memoryFillingTheLimitsAsksForMoreWorkers() throws Exception {
        LocalCluster cluster = keep(LocalCluster.builder().workers(1).memoryLimit(4L << 20).output(null).start());
        Client c = cluster.client();
        java.util.function.IntSupplier target = () -> {
            try {
                return dist.LocalClusters.scheduler(cluster).query(s -> s.view().adaptiveTarget(Duration.ofSeconds(5)),
                        10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError(e);
            }
        };
        Future<byte[]> small = c.scatter(List.of(new byte[1 << 10])).get(0);
        assertTrue(Wait.until(T, () -> target.getAsInt() == 1), "a little data keeps one worker: " + target.getAsInt());
        Future<byte[]> big = c.scatter(List.of(new byte[3 << 20])).get(0);
        assertTrue(Wait.until(T, () -> target.getAsInt() == 2), "3 MiB of 4 MiB wants two: " + target.getAsInt());
        big.release();
        small.release();
    }

    /**
     * dask: test_adaptive.py::test_target_duration — a longer target duration asks for fewer
     * workers: 20 tasks (counted at 0.5 s each before one has run) want two workers at 5 s, one at 100 s.
     */
    @Test
    void aLongerTargetDurationAsksForFewerWorkers() throws Exception {
        interval("20ms", 3);
        for (String duration : List.of("5s", "100s")) {
            try (var d = Config.set("distributed.adaptive.target-duration", duration);
                 LocalCluster cluster = LocalCluster.builder().workers(0).output(null).start()) {
                Client c = cluster.client();
                List<Future<Integer>> fs = c.map(x -> slowinc(x, 100), IntStream.range(0, 20).boxed().toList());
                Adaptive a = cluster.adapt(0, 4);
                c.gather(fs);
                a.stop();
                int most = a.events().stream().mapToInt(Adaptive.ScaleEvent::to).max().orElse(0);
                assertEquals(duration.equals("5s") ? 2 : 1, most, a.events().toString());
            }
        }
    }
}
