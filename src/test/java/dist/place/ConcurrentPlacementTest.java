package dist.place;

import dist.Client;
import dist.Future;
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
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Replica changes of several clients at once, over real sockets: the scheduler runs them one after
 * another, so whatever the order, the end state is one the scheduler and the workers agree on.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConcurrentPlacementTest {
    static SchedulerServer scheduler;
    static final List<WorkerServer> workers = new ArrayList<>();
    static Client one, two;
    static final Duration WAIT = Duration.ofSeconds(30);

    @BeforeAll
    static void start() throws Exception {
        scheduler = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        for (String name : List.of("alice", "bob", "carol")) {
            workers.add(WorkerServer.start(new WorkerServer.Options(scheduler.address(), "127.0.0.1", 0, 1, name, 0,
                    8 * 1024, CommConfig.DEFAULT), Map.of()));
        }
        assertTrue(scheduler.awaitWorkers(3, 10, TimeUnit.SECONDS));
        one = Client.connect(scheduler.address());
        two = Client.connect(scheduler.address());
    }

    @AfterAll
    static void stop() {
        if (one != null) one.close();
        if (two != null) two.close();
        workers.forEach(WorkerServer::close);
        if (scheduler != null) scheduler.close();
    }

    static Map<String, int[]> blocks(String prefix, int count) {
        Map<String, int[]> out = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            int[] b = new int[1000 + 100 * i];
            b[0] = i;
            out.put(prefix + "-" + i, b);
        }
        return out;
    }

    /** Runs both at once (released together) and rethrows the first failure. */
    static void together(Callable<?> a, Callable<?> b) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CountDownLatch go = new CountDownLatch(1);
            var fa = pool.submit(() -> {
                go.await();
                return a.call();
            });
            var fb = pool.submit(() -> {
                go.await();
                return b.call();
            });
            go.countDown();
            fa.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            fb.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Each key has {@code n} copies by who_has, has_what says the same, and every worker holds
     * exactly what the scheduler lists for it (its drops arrive a moment after the answer).
     */
    static void assertConsistent(Collection<? extends Future<?>> futures, int n) throws Exception {
        Map<String, List<String>> whoHas = one.whoHas(futures);
        Set<String> keys = whoHas.keySet();
        assertEquals(futures.stream().map(Future::key).collect(java.util.stream.Collectors.toSet()), keys);
        for (String k : keys) {
            assertEquals(n, new HashSet<>(whoHas.get(k)).size(), k + " at " + whoHas.get(k));
        }
        Map<String, List<String>> hasWhat = one.hasWhat();
        for (WorkerServer w : workers) {
            Set<String> listed = new HashSet<>(hasWhat.get(w.address()));
            listed.retainAll(keys);
            Set<String> expected = new HashSet<>();
            whoHas.forEach((k, at) -> {
                if (at.contains(w.address())) {
                    expected.add(k);
                }
            });
            assertEquals(expected, listed, "has_what and who_has agree on " + w.name());
            assertTrue(Wait.until(WAIT, () -> {
                Set<String> held = new HashSet<>(w.dataStore().keys());
                held.retainAll(keys);
                return held.equals(expected);
            }), w.name() + " holds what the scheduler lists: " + expected + " vs " + w.dataStore().keys());
        }
    }

    @Test
    void twoClientsReplicatingAndRebalancingTheSameKeysEndConsistent() throws Exception { // test_client.py::test_replicate, test_rebalance
        Map<String, int[]> data = blocks("shared", 12);
        Map<String, Future<int[]>> mine = one.scatter(data, List.of("alice"), false);
        Map<String, Future<int[]>> theirs = two.scatter(data, List.of("alice"), false);

        for (int n : new int[] {2, 3, 1, 2}) {
            together(() -> {
                one.replicate(mine.values(), n, List.of(), 2);
                one.rebalance(mine.values(), null);
                return null;
            }, () -> {
                two.rebalance(theirs.values(), null);
                two.replicate(theirs.values(), n, List.of(), 2);
                return null;
            });

            assertConsistent(theirs.values(), n);
        }
        Map<String, int[]> back = two.gather(theirs);
        for (Map.Entry<String, int[]> e : data.entrySet()) {
            assertArrayEquals(e.getValue(), back.get(e.getKey()), "no key lost: " + e.getKey());
        }
        one.cancel(mine.values());
        two.cancel(theirs.values());
    }

    @Test
    void replicateOfFuturesStillRunningWaitsForThem() throws Exception { // test_client.py::test_client_replicate
        CountDownLatch release = new CountDownLatch(1);
        Gate.latch = release;
        List<Future<Integer>> running = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            running.add(one.submit(Gate::pass, i));
        }
        Throwable[] failed = new Throwable[1];
        Thread replicator = Thread.ofVirtual().start(() -> {
            try {
                one.replicate(running, 3, List.of(), 2);
            } catch (Throwable t) {
                failed[0] = t;
            }
        });
        try {
            // parked on the scheduler's answer: the request is out while every task still runs, and a
            // round trip on the same connection after it means the scheduler has it
            assertTrue(Wait.until(WAIT, () -> replicator.getState() == Thread.State.WAITING
                    || replicator.getState() == Thread.State.TIMED_WAITING));
            one.hasWhat();
            assertTrue(running.stream().noneMatch(f -> f.state() == Future.State.SUCCESS));
        } finally {
            release.countDown();
        }
        replicator.join(WAIT);
        assertNull(failed[0]);
        assertTrue(running.stream().allMatch(f -> f.state() == Future.State.SUCCESS));
        assertConsistent(running, 3);
        one.cancel(running);
    }

    @Test
    void scattersOfTwoClientsAtOnceBroadcastToEveryWorker() throws Exception { // test_client.py::test_scatter_direct_broadcast
        @SuppressWarnings("unchecked")
        Map<String, Future<int[]>>[] got = new Map[2];
        together(() -> got[0] = one.scatter(blocks("bcast-one", 4), List.of(), true),
                () -> got[1] = two.scatter(blocks("bcast-two", 4), List.of(), true));
        List<Future<int[]>> all = new ArrayList<>(got[0].values());
        all.addAll(got[1].values());
        assertConsistent(all, 3);
        one.cancel(got[0].values());
        two.cancel(got[1].values());
    }

    /** A task that runs until the test lets it finish. */
    static final class Gate {
        static volatile CountDownLatch latch;

        static int pass(int x) throws InterruptedException {
            if (!latch.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("never released");
            }
            return x;
        }
    }
}
