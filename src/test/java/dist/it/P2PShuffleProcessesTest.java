package dist.it;

import dist.Bag;
import dist.Client;
import dist.Fn1;
import dist.Future;
import dist.KeyValue;
import dist.LocalCluster;
import dist.Pair;
import dist.TaskFailedException;
import dist.Wait;
import dist.WorkerInfo;
import dist.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The peer-to-peer shuffle across worker processes: shards are pushed between JVMs to the owners of
 * the output partitions, and a worker SIGKILLed mid-shuffle (it ran inputs and owns partitions)
 * makes the scheduler run the shuffle again on the others with exact results, up to
 * distributed.scheduler.allowed-failures times.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class P2PShuffleProcessesTest {
    static final Duration T = Duration.ofSeconds(120);

    static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    /** A key that takes a while, so the kill lands while inputs are still being cut. */
    static int slowMod(int x) throws InterruptedException {
        if (x % 20 == 0) {
            Thread.sleep(5);
        }
        return x % 37;
    }

    static Map<Integer, List<Integer>> asMap(List<KeyValue<Integer, List<Integer>>> kvs) {
        Map<Integer, List<Integer>> out = new HashMap<>();
        for (KeyValue<Integer, List<Integer>> kv : kvs) {
            assertEquals(null, out.put(kv.key(), kv.value()), "key " + kv.key() + " twice");
        }
        return out;
    }

    /** dask: distributed/shuffle/tests/test_shuffle.py::test_basic_integration (groupBy and join between JVMs). */
    @Test
    void groupByAndJoinAcrossWorkerProcessesMatchStreams() throws Exception {
        List<Integer> xs = range(20_000);
        try (LocalCluster cluster = LocalCluster.builder().workers(3).threadsPerWorker(1).processes(true)
                .output(null).start();
             Client client = cluster.client()) {
            Fn1<Integer, Integer> mod = x -> x % 101;
            List<KeyValue<Integer, List<Integer>>> got = Bag.fromSequence(xs, 12).groupBy(mod).compute(client, T);
            assertEquals(xs.stream().collect(Collectors.groupingBy(x -> x % 101)), asMap(got));
            Fn1<Integer, Integer> self = x -> x;
            Fn1<Integer, Integer> half = x -> x / 2;
            List<Pair<Integer, Integer>> joined = Bag.fromSequence(range(1000), 5)
                    .join(Bag.fromSequence(range(1000), 7), self, half).compute(client, T);
            List<Pair<Integer, Integer>> expected = new ArrayList<>();
            for (int y = 0; y < 1000; y++) {
                if (y / 2 < 1000) {
                    expected.add(new Pair<>(y / 2, y));
                }
            }
            java.util.Comparator<Pair<Integer, Integer>> order = java.util.Comparator.comparing(Pair::right);
            assertEquals(expected, joined.stream().sorted(order).toList());
        }
    }

    /** dask: distributed/shuffle/tests/test_shuffle.py::test_crashed_worker_during_transfer. */
    @Test
    void aWorkerKilledMidShuffleRunsItAgainOnTheOthersWithExactResults() throws Exception {
        List<Integer> xs = range(12_000);
        try (Config.Override o = Config.set("distributed.scheduler.allowed-failures", 3);
             LocalCluster cluster = LocalCluster.builder().workers(3).threadsPerWorker(1).processes(true)
                     .nannies(false).output(null).start();
             Client client = cluster.client()) {
            Bag<KeyValue<Integer, List<Integer>>> grouped = Bag.fromSequence(xs, 30).groupBy(P2PShuffleProcessesTest::slowMod);
            List<Future<List<KeyValue<Integer, List<Integer>>>>> fs = client.compute(grouped.partitions());
            String victim = killAHolderOfShards(client);
            List<KeyValue<Integer, List<Integer>>> got = new ArrayList<>();
            for (var f : fs) {
                got.addAll(f.result(T));
            }
            Map<Integer, List<Integer>> expected = xs.stream().collect(Collectors.groupingBy(x -> x % 37));
            assertEquals(expected, asMap(got));
            assertTrue(Wait.until(T, () -> !client.ncores().containsKey(victim)), "the killed worker " + victim + " left");
        }
    }

    /**
     * dask: distributed/shuffle/tests/test_shuffle.py::test_restarting_during_transfer_raises_killed_worker
     * (a SIGKILLed worker; dask's KilledWorker is dist's P2PShuffleError).
     */
    @Test
    void pastTheAllowedFailuresTheShuffleFailsWithAClearError() throws Exception {
        List<Integer> xs = range(12_000);
        try (Config.Override o = Config.set("distributed.scheduler.allowed-failures", 0);
             LocalCluster cluster = LocalCluster.builder().workers(3).threadsPerWorker(1).processes(true)
                     .nannies(false).output(null).start();
             Client client = cluster.client()) {
            Bag<KeyValue<Integer, List<Integer>>> grouped = Bag.fromSequence(xs, 30).groupBy(P2PShuffleProcessesTest::slowMod);
            List<Future<List<KeyValue<Integer, List<Integer>>>>> fs = client.compute(grouped.partitions());
            killAHolderOfShards(client);
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> fs.get(0).result(T));
            String why = String.valueOf(e.getCause());
            assertTrue(why.contains("P2PShuffleError") && why.contains("allowed-failures"), why);
        }
    }

    /** SIGKILLs a worker that ran an input (and owns output partitions) once a few inputs have sent; its address. */
    static String killAHolderOfShards(Client client) throws Exception {
        String[] victim = new String[1];
        assertTrue(Wait.until(T, () -> {
            int held = 0;
            for (Map.Entry<String, List<String>> e : client.whoHas().entrySet()) {
                if (e.getKey().startsWith("p2pShuffleTransfer") && !e.getValue().isEmpty()) {
                    held++;
                    victim[0] = e.getValue().get(0);
                }
            }
            return held >= 3;
        }), "inputs were cut");
        long pid = -1;
        for (WorkerInfo w : client.workersInfo()) {
            if (w.address().equals(victim[0])) {
                pid = w.pid();
            }
        }
        assertTrue(pid > 0 && pid != ProcessHandle.current().pid(), "a worker process holds shards: " + victim[0]);
        ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // SIGKILL
        return victim[0];
    }
}
