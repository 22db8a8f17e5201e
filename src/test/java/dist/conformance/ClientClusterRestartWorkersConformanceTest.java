package dist.conformance;

import dist.Client;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;
import dist.protocol.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Client.restartWorkers as dask's distributed/tests/test_client.py checks restart_workers: chosen
 * workers restart through their nannies while futures are kept. Each test has its own cluster.
 *
 * <p>Not applicable:
 * <ul>
 * <li>test_restart_workers_kill_timeout, test_restart_workers_restart_timeout,
 * test_restart_workers_exception → use nannies patched to block their kill or their worker's start, or
 * to raise in it; dist's nanny has no such hooks.</li>
 * </ul>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientClusterRestartWorkersConformanceTest {
    static final Duration T = Duration.ofSeconds(30);

    static int inc(int x) {
        return x + 1;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    static long pid() {
        return ProcessHandle.current().pid();
    }

    /**
     * dask: test_client.py::test_restart_workers_no_nanny_raises,
     * test_client.py::test_restart_workers_no_nanny_raises_many_workers — restarting a worker without a
     * nanny (the first of two, the last of seven) fails, saying restarting workers requires a nanny and
     * naming the worker; nothing is restarted.
     */
    @Test
    void noNannyRaises() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(7).threadsPerWorker(1).output(null).start();
             Client c = cluster.client()) {
            List<String> all = c.workersInfo().stream().map(dist.WorkerInfo::address).toList();
            assertEquals(7, all.size());
            for (String target : List.of(all.get(0), all.get(6))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> c.restartWorkers(List.of(target)));
                String msg = e.getMessage().toLowerCase();
                assertTrue(msg.contains("restarting workers requires a nanny"), msg);
                assertTrue(msg.contains(target), msg);
            }
            assertEquals(all, c.workersInfo().stream().map(dist.WorkerInfo::address).toList());
        }
    }

    /**
     * dask: test_client.py::test_restart_workers, test_client.py::test_restart_workers_by_name — two
     * workers under nannies; a persisted computation sums to its value; restarting a alone, by its name,
     * answers {name: "OK"} (under the name given), gives a a new process while b keeps its own, and the
     * sum is the same after. (One restart covers both: each costs a JVM start.)
     */
    @Test
    void restartWorkers() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true).output(null).start();
             Client c = cluster.client()) {
            assertTrue(cluster.awaitWorkers(2, 60, TimeUnit.SECONDS));
            List<dist.WorkerInfo> ws = c.workersInfo();
            String aName = ws.get(0).name();
            String b = ws.get(1).address();
            Map<String, Long> pids = c.run(ClientClusterRestartWorkersConformanceTest::pid);

            List<Future<Integer>> x = c.map(ClientClusterRestartWorkersConformanceTest::inc,
                    IntStream.range(0, 100).boxed().toList());
            int expected = IntStream.range(0, 100).map(i -> i + 1).sum();
            assertEquals(expected, c.submit(ClientClusterRestartWorkersConformanceTest::sum, Futures.all(x)).result(T));

            assertEquals(Map.of(aName, "OK"), c.restartWorkers(List.of(aName)));
            Map<String, Long> after = c.run(ClientClusterRestartWorkersConformanceTest::pid);
            assertEquals(2, after.size());
            assertEquals(pids.get(b), after.get(b));
            Set<Long> fresh = new HashSet<>(after.values());
            fresh.removeAll(pids.values());
            assertEquals(1, fresh.size(), "a runs in a new process: " + pids + " then " + after);
            assertEquals(expected, c.with(dist.Options.defaults().pure(false))
                    .submit(ClientClusterRestartWorkersConformanceTest::sum, Futures.all(x)).result(T));
        }
    }
}
