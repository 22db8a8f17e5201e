package dist.it;

import dist.TaskFailedException;
import dist.TaskCancelledException;
import dist.Client;
import dist.Future;
import dist.KilledWorkerException;
import dist.LocalCluster;
import dist.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Worker processes under nannies that die by their task, by memory, and by restart. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WorkerDeathTest {
    static final Duration T = Duration.ofSeconds(60);

    static int halt(int code) {
        Runtime.getRuntime().halt(code);
        return code;
    }

    static int inc(int x) {
        return x + 1;
    }

    static int hog(int mb) throws InterruptedException {
        byte[][] blocks = new byte[mb * 8][];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = new byte[128 << 10]; // small blocks: 1 MB ones would be humongous in G1 and waste half
            java.util.Arrays.fill(blocks[i], (byte) 1); // touch it: resident, not just reserved
        }
        Thread.sleep(30_000);
        return blocks.length;
    }

    static int sleepy(int ms) throws InterruptedException {
        Thread.sleep(ms);
        return ms;
    }

    @Test
    void aFunctionThatKillsEveryWorkerFailsWithKilledWorkerNamingTheExitAndTheClusterCarriesOn() throws Exception {
        // a loaded machine may deliver the nanny's reason late: give it time, the reason is the point here
        try (Config.Override o = Config.set("distributed.scheduler.allowed-failures", 1);
             Config.Override w = Config.set("distributed.scheduler.nanny-report-wait", "5s");
             LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true)
                     .output(null).start();
             Client client = cluster.client()) {
            Future<Integer> bad = client.submit(WorkerDeathTest::halt, 42);
            Future<Integer> after = client.submit(WorkerDeathTest::inc, bad);
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> bad.result(T));
            KilledWorkerException k = assertInstanceOf(KilledWorkerException.class, e.getCause());
            assertTrue(k.getMessage().contains(bad.key()), k.getMessage());
            assertTrue(k.getMessage().contains("exit code 42"), k.getMessage());
            TaskFailedException e2 = assertThrows(TaskFailedException.class, () -> after.result(T));
            assertInstanceOf(KilledWorkerException.class, e2.getCause());
            // the nannies started new workers
            assertTrue(cluster.awaitWorkers(2, 60, TimeUnit.SECONDS));
            assertEquals(8, client.submit(WorkerDeathTest::inc, 7).result(T));
        }
    }

    @Test
    void theNannyStopsAWorkerPastItsMemoryLimitAndSaysSo() throws Exception {
        // a loaded machine may deliver the nanny's reason late: give it time, the reason is the point here
        try (Config.Override o = Config.set("distributed.scheduler.allowed-failures", 0);
             Config.Override w = Config.set("distributed.scheduler.nanny-report-wait", "5s");
             LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).processes(true)
                     .memoryLimit(300_000_000L).workerJvmArgs("-Xmx1g").output(null).start();
             Client client = cluster.client()) {
            Future<Integer> f = client.submit(WorkerDeathTest::hog, 600);
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> f.result(T));
            assertTrue(e.getCause().getMessage().contains("exceeded its memory limit"), e.getCause().getMessage());
            assertTrue(cluster.awaitWorkers(1, 60, TimeUnit.SECONDS));
            assertEquals(2, client.submit(WorkerDeathTest::inc, 1).result(T));
        }
    }

    @Test
    void restartCancelsFuturesAndGivesFreshWorkerProcesses() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true)
                .output(null).start();
             Client client = cluster.client()) {
            assertEquals(3, client.submit(WorkerDeathTest::inc, 2).result(T));
            List<Long> before = cluster.workerPids();
            Future<Integer> slow = client.submit(WorkerDeathTest::sleepy, 60_000);
            client.restart();
            assertTrue(slow.isCancelled());
            assertThrows(TaskCancelledException.class, () -> slow.result(T));
            // the old processes leave the scheduler's list as their connections end (bounded wait)
            assertTrue(Processes.eventually(Duration.ofSeconds(30), () -> cluster.workerCount() == 2
                    && cluster.workerPids().stream().noneMatch(before::contains)),
                    "old workers " + before + " still listed after the restart: " + cluster.workerPids());
            List<Long> after = cluster.workerPids();
            for (long pid : before) {
                assertFalse(after.contains(pid), "worker " + pid + " survived the restart");
                assertTrue(Processes.eventually(Duration.ofSeconds(30),
                        () -> !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)));
            }
            assertEquals(3, client.submit(WorkerDeathTest::inc, 2).result(T));
        }
    }

    @Test
    void restartWithThreadWorkersKeepsThemAndClearsTheirData() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).start();
             Client client = cluster.client()) {
            Future<Integer> x = client.submit(WorkerDeathTest::inc, 1);
            assertEquals(2, x.result(T));
            client.restart();
            assertTrue(x.isCancelled());
            assertEquals(2, cluster.workerCount());
            assertEquals(2, client.submit(WorkerDeathTest::inc, 1).result(T));
        }
    }

    private static void signal(String sig, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + sig, String.valueOf(pid)).inheritIO().start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "kill -" + sig + " " + pid);
    }

    @Test
    void aFrozenWorkerIsRemovedWhenItsHeartbeatsStopAndItsWorkMovesOn() throws Exception {
        try (var ttl = dist.config.Config.set("distributed.scheduler.worker-ttl", "3s"); // the scheduler is in this JVM
             LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true)
                .output(null).start();
             Client client = cluster.client()) {
            long frozen = cluster.workerPids().get(1);
            signal("STOP", frozen); // the connection stays open: only the missing heartbeats tell
            try {
                List<Future<Integer>> fs = client.map(WorkerDeathTest::inc, java.util.stream.IntStream.range(0, 20)
                        .boxed().toList());
                for (int i = 0; i < fs.size(); i++) {
                    assertEquals(i + 1, fs.get(i).result(T));
                }
                assertTrue(Processes.eventually(Duration.ofSeconds(30), () -> !cluster.workerPids().contains(frozen)),
                        "the frozen worker was removed");
            } finally {
                signal("CONT", frozen);
            }
            // told to close once it wakes up, it exits; its nanny starts a new one
            assertTrue(Processes.eventually(Duration.ofSeconds(60), () -> cluster.workerCount() == 2));
        }
    }
}
