package dist.conformance;

import dist.Client;
import dist.Future;
import dist.Futures;
import dist.Wait;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Paused workers at the scheduler, ported from dask's test_scheduler.py: a worker whose memory is
 * past its pause fraction gets no new task; root tasks wait in the scheduler's queue until a worker
 * runs (again). dask's tests set the status by hand; here the workers pause on memory
 * ({@link PausedWorkers}).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SchedulerPausedConformanceTest {

    static int inc(int x) {
        return x + 1;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    static <T> T query(SchedulerServer s, java.util.function.Function<dist.scheduler.SchedulerView, T> q) {
        try {
            return s.query(x -> q.apply(x.view()), 10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    /** dask: test_scheduler.py::test_avoid_paused_workers */
    @Test
    void avoidPausedWorkers() throws Exception {
        try (var t = PausedWorkers.noSpill();
             SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
             WorkerServer w1 = PausedWorkers.worker(s, "w1", 0);
             WorkerServer w2 = PausedWorkers.worker(s, "w2", PausedWorkers.LIMIT);
             WorkerServer w3 = PausedWorkers.worker(s, "w3", 0);
             Client c = Client.connect(s.address())) {
            assertTrue(s.awaitWorkers(3, 30, TimeUnit.SECONDS));
            Future<byte[]> big = PausedWorkers.pause(c, s, w2); // held: released, it would let w2 resume
            List<Future<Integer>> fs = c.map(SchedulerPausedConformanceTest::inc, IntStream.range(0, 8).boxed().toList());
            assertTrue(Futures.wait(fs, PausedWorkers.T).notDone().isEmpty());
            Map<String, List<String>> who = c.whoHas(fs);
            long on1 = who.values().stream().filter(h -> h.contains(w1.address())).count();
            long on3 = who.values().stream().filter(h -> h.contains(w3.address())).count();
            assertTrue(who.values().stream().noneMatch(h -> h.contains(w2.address())), "nothing ran on the paused worker: " + who);
            assertTrue(on1 > 0 && on3 > 0, "both running workers computed: " + who);
            assertEquals(8, on1 + on3);
            assertTrue(big.isDone());
        }
    }

    /**
     * Both workers pause: root tasks wait in the scheduler's queue, none is sent; once the workers
     * resume, everything runs. dask: test_scheduler.py::test_queued_paused_unpaused
     */
    @Test
    void queuedPausedUnpaused() throws Exception {
        try (var t = PausedWorkers.noSpill();
             SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
             WorkerServer a = PausedWorkers.worker(s, "a", PausedWorkers.LIMIT);
             WorkerServer b = PausedWorkers.worker(s, "b", PausedWorkers.LIMIT);
             Client c = Client.connect(s.address())) {
            assertTrue(s.awaitWorkers(2, 30, TimeUnit.SECONDS));
            List<Future<byte[]>> big = List.of(PausedWorkers.pause(c, s, a), PausedWorkers.pause(c, s, b));
            List<Future<Integer>> f1s = c.map(SchedulerPausedConformanceTest::inc, IntStream.range(0, 16).boxed().toList());
            List<Future<Integer>> f2s = new ArrayList<>();
            for (Future<Integer> f : f1s) {
                f2s.add(c.submit(SchedulerPausedConformanceTest::inc, f));
            }
            Future<Integer> total = c.submit(SchedulerPausedConformanceTest::sum, Futures.all(f2s));
            assertTrue(Wait.until(PausedWorkers.T, () -> query(s, v -> v.queuedCount()) == 16), "the root tasks queue");
            assertTrue(f1s.stream().allMatch(f -> query(s, v -> v.processingOn(f.key())) == null), "none was sent");
            c.cancel(big); // memory falls: both resume
            assertEquals(IntStream.range(0, 16).map(i -> i + 2).sum(), total.result(PausedWorkers.T));
            assertEquals("running", PausedWorkers.status(s, a.address()));
        }
    }

    /**
     * Both workers pause; a new worker joins and runs everything. dask:
     * test_scheduler.py::test_queued_paused_new_worker
     */
    @Test
    void queuedPausedNewWorker() throws Exception {
        try (var t = PausedWorkers.noSpill();
             SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
             WorkerServer a = PausedWorkers.worker(s, "a", PausedWorkers.LIMIT);
             WorkerServer b = PausedWorkers.worker(s, "b", PausedWorkers.LIMIT);
             Client c = Client.connect(s.address())) {
            assertTrue(s.awaitWorkers(2, 30, TimeUnit.SECONDS));
            List<Future<byte[]>> big = List.of(PausedWorkers.pause(c, s, a), PausedWorkers.pause(c, s, b));
            List<Future<Integer>> f1s = c.map(SchedulerPausedConformanceTest::inc, IntStream.range(0, 16).boxed().toList());
            List<Future<Integer>> f2s = new ArrayList<>();
            for (Future<Integer> f : f1s) {
                f2s.add(c.submit(SchedulerPausedConformanceTest::inc, f));
            }
            Future<Integer> total = c.submit(SchedulerPausedConformanceTest::sum, Futures.all(f2s));
            assertTrue(Wait.until(PausedWorkers.T, () -> query(s, v -> v.queuedCount()) == 16), "the root tasks queue");
            try (WorkerServer w = PausedWorkers.worker(s, "w", 0)) {
                assertEquals(IntStream.range(0, 16).map(i -> i + 2).sum(), total.result(PausedWorkers.T));
                assertEquals(List.of(w.address()), c.whoHas(List.of(total)).get(total.key()));
                assertEquals(2, big.size());
                assertTrue(c.whoHas(f1s).values().stream().allMatch(h -> h.equals(List.of(w.address()))));
            }
        }
    }
}
