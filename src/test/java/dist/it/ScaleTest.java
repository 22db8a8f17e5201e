package dist.it;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link LocalCluster#scale}: up starts workers named on from the last, down retires them
 * gracefully (what only they hold moves first) and stops what is left, for thread workers and for
 * worker processes with and without nannies. Every cluster closes in try-with-resources, so its
 * processes go even when an assertion fails.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ScaleTest {
    static final Duration T = Duration.ofSeconds(60);

    static int square(int x) {
        return x * x;
    }

    /** How many times the scheduler sent {@code key} to a worker to run. */
    static long runs(Client c, String key) {
        return c.story(key).stream().filter(e -> e.where().equals("scheduler") && e.event().endsWith("-> processing"))
                .count();
    }

    /**
     * Holds results on every worker, scales down, and checks every result is still there and was
     * computed once: retirement moved it, nothing recomputed it.
     */
    static void scaleDownKeepsEveryResult(LocalCluster cluster, Client client, int from, int to) throws Exception {
        List<Future<Integer>> fs = client.map(ScaleTest::square, IntStream.range(0, 40).boxed().toList());
        client.gather(fs);
        assertTrue(Wait.until(T, () -> client.hasWhat().values().stream().filter(k -> !k.isEmpty()).count() == from),
                "results on every worker: " + client.hasWhat());
        cluster.scale(to);
        assertEquals(to, cluster.workers().size(), cluster.workers().toString());
        assertTrue(Wait.until(T, () -> cluster.workerCount() == to), "workers left: " + cluster.workerCount());
        assertEquals(IntStream.range(0, 40).map(i -> i * i).boxed().toList(), client.gather(fs));
        for (Future<Integer> f : fs) {
            assertEquals(1, runs(client, f.key()), "computed again after the scale-down: " + client.story(f.key()));
        }
    }

    @Test
    void threadWorkersScaleUpWithNewNamesAndDownGracefully() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).output(null).start();
             Client client = cluster.client()) {
            assertEquals(List.of("worker-0", "worker-1"), cluster.workers());
            cluster.scale(4);
            assertEquals(List.of("worker-0", "worker-1", "worker-2", "worker-3"), cluster.workers());
            client.waitForWorkers(4, T);
            scaleDownKeepsEveryResult(cluster, client, 4, 1);
            cluster.scale(3);
            client.waitForWorkers(3, T);
            List<String> names = cluster.workers();
            assertEquals(3, names.size());
            assertTrue(names.containsAll(List.of("worker-4", "worker-5")), "names go on from the last: " + names);
            assertEquals(names.stream().sorted().toList(),
                    client.workersInfo().stream().map(dist.WorkerInfo::name).sorted().toList());
            cluster.scale(3); // nothing to do
            assertEquals(names, cluster.workers());
            cluster.scale(0);
            assertTrue(Wait.until(T, () -> cluster.workerCount() == 0));
            assertThrows(IllegalArgumentException.class, () -> cluster.scale(-1));
        }
    }

    @Test
    void workerProcessesUnderNanniesScaleUpAndDown() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).processes(true).output(null).start();
             Client client = cluster.client()) {
            long start = System.nanoTime();
            cluster.scale(4);
            client.waitForWorkers(4, T);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            System.out.println("FIGURE scale(4) on a 1-worker process cluster with nannies: four workers registered after "
                    + millis + " ms");
            assertTrue(Wait.until(T, () -> cluster.nannyPids().size() == 4));
            List<Long> nannies = cluster.nannyPids();
            scaleDownKeepsEveryResult(cluster, client, 4, 2);
            assertEquals(2, cluster.nannyPids().size());
            List<Long> gone = nannies.stream().filter(p -> !cluster.nannyPids().contains(p)).toList();
            assertEquals(2, gone.size());
            for (long pid : gone) {
                assertTrue(Wait.until(T, () -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true)),
                        "the retired worker's nanny " + pid + " is gone");
            }
        }
    }

    @Test
    void bareWorkerProcessesScaleUpAndDown() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).processes(true).nannies(false).output(null).start();
             Client client = cluster.client()) {
            cluster.scale(2);
            client.waitForWorkers(2, T);
            List<Long> pids = cluster.workerPids();
            scaleDownKeepsEveryResult(cluster, client, 2, 1);
            List<Long> left = cluster.workerPids();
            assertEquals(1, left.size());
            long gone = pids.stream().filter(p -> !left.contains(p)).findFirst().orElseThrow();
            assertTrue(Wait.until(T, () -> ProcessHandle.of(gone).map(h -> !h.isAlive()).orElse(true)));
        }
    }
}
