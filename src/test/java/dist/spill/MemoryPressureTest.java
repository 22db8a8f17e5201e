package dist.spill;

import dist.Client;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;
import dist.Options;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.examples.MemoryPressure;
import dist.worker.MemoryPolicy;
import dist.worker.WorkerMetrics;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A map of 1 MiB leaves consumed by a tree reduction, on far less memory than the leaves add up to:
 * root-task queuing keeps the leaves from outrunning the sums that free them. {@code ./run.sh memory}
 * runs the same with 100,000 leaves.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MemoryPressureTest {
    static final int MB = 1 << 20;
    static final Duration T = Duration.ofSeconds(150);

    /**
     * dask: test_scheduler.py::test_graph_execution_width — a worker holds only the leaves its threads
     * are about to use: with the sums waiting on the workers, a queued leaf must not jump ahead of them.
     */
    @Test
    void aTreeReductionHoldsAFewLeavesAtATime() {
        int n = 600; // 600 MiB of leaves; each worker held 200 to 500 MiB when leaves jumped the queue
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).output(null).start();
             Client client = cluster.client()) {
            MemoryPressure.Outcome o = MemoryPressure.run(client, n, quiet(), T);
            assertTrue(o.exact(), "checksum " + o.checksum() + ", expected " + o.expectedChecksum());
            assertEquals(2, o.memory().size());
            o.memory().forEach((w, m) -> assertTrue(m.heldPeak() <= 128L * MB,
                    w + " held " + (m.heldPeak() >> 20) + " MiB of results at once: " + report(o)));
        }
    }

    /** {@code workers} single-thread worker processes, each under a nanny that enforces {@code limit}. */
    private static LocalCluster limited(int workers, long limit) throws Exception {
        return LocalCluster.builder().workers(workers).threadsPerWorker(1).processes(true).memoryLimit(limit)
                .output(null).start();
    }

    /**
     * 5,000 leaves of 1 MiB (4.9 GiB of leaves, as much again of sums) on two worker processes of
     * 256 MiB each: the answer is exact, no worker is restarted, results held stay below the spill
     * target, and each process's peak resident memory below the limit its nanny enforces.
     */
    @Test
    void fiveThousandLeavesOfOneMebibyteOnTwoWorkersOf256MebibytesComeOutExact() throws Exception {
        long limit = 256L * MB;
        try (LocalCluster cluster = limited(2, limit);
             Client client = cluster.client()) {
            List<Long> pids = cluster.workerPids();
            MemoryPressure.Outcome o = MemoryPressure.run(client, 5000, quiet(), T);
            assertTrue(o.exact(), "checksum " + o.checksum() + ", expected " + o.expectedChecksum());
            assertEquals(pids, cluster.workerPids(), "a worker was restarted: " + report(o));
            assertEquals(2, o.memory().size(), report(o));
            for (WorkerMetrics.Memory m : o.memory().values()) {
                assertEquals(limit, m.limit());
                // the heap (-Xmx at most 0.6 x the limit) is smaller than the limit: results spill at 0.6 of the heap
                assertTrue(m.spillTarget() <= m.heapMax() * 6 / 10 + MB
                        && m.spillTarget() < MemoryPolicy.fromConfig(limit).targetBytes(), report(o));
                // a result that takes the held bytes past the target is stored, then older ones spill:
                // the peak may pass the target by that result (2 MiB as G1 holds a 1 MiB array), no more
                assertTrue(m.heldPeak() > 0 && m.heldPeak() <= m.spillTarget() + 2 * MB,
                        "held peak past the target by more than one result: " + report(o));
                assertTrue(m.heapAfterGcPeak() > 0 && m.heapAfterGcPeak() <= m.heapMax(), report(o));
                assertTrue(m.heapMax() < limit, "the worker's heap is within its limit: " + report(o));
                if (m.residentPeak() > 0) { // 0 where /proc cannot be read
                    assertTrue(m.residentPeak() < limit, "peak resident memory past the limit: " + report(o));
                }
            }
        }
    }

    /**
     * 200 leaves of 1 MiB that the client holds, more than the worker's heap (-Xmx 131 MiB of the 256): they
     * go to disk past the spill target, and the worker lives on. Under G1's 1 MiB regions each leaf
     * took two, and the heap ran out before anything spilled.
     */
    @Test
    void resultsTheClientHoldsPastTheTargetGoToDiskAndTheWorkerLives() throws Exception {
        long limit = 256L * MB;
        try (LocalCluster cluster = limited(1, limit);
             Client client = cluster.client()) {
            List<Long> pids = cluster.workerPids();
            List<Future<byte[]>> leaves = client.map(MemoryPressure::leaf, LongStream.range(0, 200).boxed().toList());
            assertTrue(Futures.wait(leaves, T).notDone().isEmpty(), "every leaf was made");
            WorkerMetrics.Memory m = client.run(() -> WorkerServer.current().memory()).values().iterator().next();
            assertEquals(pids, cluster.workerPids(), "the worker was restarted: " + m);
            assertTrue(m.spilledBytes() >= 100L * MB, "spilled: " + m);
            // one leaf past the target at most, counted as the heap holds it (two 1 MiB regions under G1)
            assertTrue(m.heldPeak() <= m.spillTarget() + 2L * MB + 4096, "held past the target and one leaf: " + m);
            assertArrayEquals(MemoryPressure.leaf(0), leaves.get(0).result(T), "read back from disk");
            assertArrayEquals(MemoryPressure.leaf(199), leaves.get(199).result(T));
        }
    }

    /**
     * A limit near the smallest a worker takes (128 MiB): its heap, the smallest (32 MiB), leaves the
     * JVM's own memory (code, metadata, stacks, about 80 MiB) below the nanny's line (0.95 x 144 MiB).
     * With 60% of the limit as its heap (86 MiB) it passed the line once the heap filled and was
     * stopped; at 128 MiB the worker peaked at 107 to 110 MiB of the 121 allowed.
     */
    @Test
    void aWorkerWithASmallLimitRunsBelowItsNannysLine() throws Exception {
        long limit = 144L * MB;
        try (LocalCluster cluster = limited(1, limit);
             Client client = cluster.client()) {
            List<Long> pids = cluster.workerPids();
            for (int round = 0; round < 3; round++) {
                List<Future<byte[]>> leaves = client.map(MemoryPressure::leaf,
                        LongStream.range(round * 40L, round * 40L + 40).boxed().toList());
                assertTrue(Futures.wait(leaves, T).notDone().isEmpty(), "round " + round);
                assertArrayEquals(MemoryPressure.leaf(round * 40L + 39), leaves.get(39).result(T));
                leaves.forEach(Future::release);
            }
            WorkerMetrics.Memory m = client.run(() -> WorkerServer.current().memory()).values().iterator().next();
            assertEquals(pids, cluster.workerPids(), "the worker was restarted: " + m);
            assertTrue(m.heapMax() <= 40L * MB, "heap: " + m);
            if (m.residentPeak() > 0) {
                assertTrue(m.residentPeak() < limit * 95 / 100, "past the nanny's line: " + m);
            }
        }
    }

    /**
     * dask: test_worker_memory.py's transfer limit (distributed.worker.memory.transfer, 0.1) — a worker
     * with a 100 MiB limit fetches 30 MiB of inputs from a peer in requests of at most a tenth of its
     * memory, not in one message of up to 50 MB.
     */
    @Test
    void aWorkerWithALimitFetchesATenthOfItsMemoryAtOnce() throws Exception {
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
             WorkerServer holder = SpillClusterTest.worker(s, "holder", 1, 0, null);
             WorkerServer small = SpillClusterTest.worker(s, "small", 1, 100L * MB, null);
             Client client = Client.connect(s.address())) {
            assertTrue(s.awaitWorkers(2, 10, TimeUnit.SECONDS));
            List<Future<byte[]>> leaves = client.with(Options.defaults().workers("holder"))
                    .map(MemoryPressure::leaf, LongStream.range(0, 30).boxed().toList());
            assertTrue(Futures.wait(leaves, T).notDone().isEmpty());
            Future<Long> sum = client.with(Options.defaults().workers("small"))
                    .submit(SpillClusterTest::groupSum, Futures.all(leaves));
            long expected = 0;
            for (int i = 0; i < 30; i++) expected += SpillClusterTest.checksum(MemoryPressure.leaf(i));
            assertEquals(expected, sum.result(T));
            long requests = small.metrics().transfer().count();
            assertTrue(requests >= 3, "30 MiB came in " + requests + " requests");
        }
    }

    static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }

    static String report(MemoryPressure.Outcome o) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        MemoryPressure.print(o, new PrintStream(b, true, StandardCharsets.UTF_8));
        return b.toString(StandardCharsets.UTF_8);
    }
}
