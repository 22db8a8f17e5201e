package dist.it;

import dist.TaskFailedException;
import dist.Client;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;
import dist.nanny.ChildJvm;
import dist.config.Config;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LocalCluster with thread workers and with worker processes. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LocalClusterTest {
    private final Processes procs = new Processes();

    @AfterEach
    void cleanup() {
        procs.close();
    }

    static int square(int x) {
        return x * x;
    }

    static int neg(int x) {
        return -x;
    }

    static int inc(int x) {
        return x + 1;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    static int fail(int x) {
        throw new IllegalArgumentException("bad input " + x);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void quickstart(boolean processes) throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(processes)
                .start();
             Client client = cluster.client()) {
            assertEquals(2, cluster.workerCount());
            List<Future<Integer>> a = client.map(LocalClusterTest::square, IntStream.range(0, 10).boxed().toList());
            List<Future<Integer>> b = client.map(LocalClusterTest::neg, a);
            Future<Integer> total = client.submit(LocalClusterTest::sum, Futures.all(b));
            assertEquals(-285, total.result(Duration.ofSeconds(30)));
            assertEquals(List.of(0, 1, 4, 9, 16, 25, 36, 49, 64, 81), client.gather(a));
            assertEquals(11, client.submit(LocalClusterTest::inc, 10).result(Duration.ofSeconds(30)));
        }
    }

    /** A cache the JVM cannot use (here: not a cache at all) is skipped silently; the worker runs tasks. */
    @Test
    void workersStartFromTheirAheadOfTimeCachesAndAnUnusableOneIsSkipped(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("worker.aot"), "not a cache");
        Files.writeString(dir.resolve("nanny.aot"), "not a cache");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (Config.Override o = Config.set(ChildJvm.AOT_CACHE_DIR, dir.toString());
             LocalCluster cluster = LocalCluster.builder().workers(1).processes(true)
                     .output(new PrintStream(out, true, StandardCharsets.UTF_8)).start();
             Client client = cluster.client()) {
            assertEquals(11, client.submit(LocalClusterTest::inc, 10).result(Duration.ofSeconds(30)));
            List<String> args = ProcessHandle.of(cluster.workerPids().get(0)).orElseThrow().info().arguments()
                    .map(List::of).orElseThrow();
            boolean expected = Runtime.version().feature() >= 25;
            assertEquals(expected, args.contains("-XX:AOTCache=" + dir.resolve("worker.aot")), args.toString());
        }
        assertFalse(out.toString(StandardCharsets.UTF_8).contains("[aot]"), out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void errorsReachTheFutureAndItsDependentsAndTheClusterCarriesOn() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).start();
             Client client = cluster.client()) {
            Future<Integer> bad = client.submit(LocalClusterTest::fail, 7);
            Future<Integer> dependent = client.submit(LocalClusterTest::inc, bad);
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> bad.result(Duration.ofSeconds(30)));
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
            assertEquals("bad input 7", e.getCause().getMessage());
            TaskFailedException e2 = assertThrows(TaskFailedException.class,
                    () -> dependent.result(Duration.ofSeconds(30)));
            assertInstanceOf(IllegalArgumentException.class, e2.getCause());
            assertEquals(Future.State.FAILED, bad.state());
            assertEquals(2, client.submit(LocalClusterTest::inc, 1).result(Duration.ofSeconds(30)));
        }
    }

    static String foo() {
        return System.getenv("DIST_TEST_FOO");
    }

    /** workerEnv reaches the workers a cluster's nannies start; workers in this process cannot have one. */
    @Test
    void workerEnvReachesWorkerProcesses() throws Exception {
        assertThrows(IllegalArgumentException.class,
                () -> LocalCluster.builder().workers(1).workerEnv(java.util.Map.of("DIST_TEST_FOO", "x")).start());
        try (LocalCluster cluster = LocalCluster.builder().workers(1).processes(true).output(null)
                .workerEnv(java.util.Map.of("DIST_TEST_FOO", "a b=c")).start();
             Client client = cluster.client()) {
            assertEquals(java.util.List.of("a b=c"), java.util.List.copyOf(client.run(LocalClusterTest::foo).values()));
            // a worker whose options name no collector runs the throughput one (ChildJvm.WORKER_GC)
            assertEquals(java.util.List.of("PS MarkSweep,PS Scavenge"),
                    java.util.List.copyOf(client.run(LocalClusterTest::collectors).values()));
        }
    }

    static String collectors() {
        return java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                .map(java.lang.management.GarbageCollectorMXBean::getName).sorted()
                .collect(java.util.stream.Collectors.joining(","));
    }

    @Test
    void workerProcessesHaveTheirOwnPidsAndCloseStopsThem() throws Exception {
        List<Long> pids;
        try (LocalCluster cluster = LocalCluster.builder().workers(2).processes(true).start()) {
            pids = cluster.workerPids();
            assertEquals(2, pids.size());
            for (long pid : pids) {
                assertNotEquals(ProcessHandle.current().pid(), pid);
                assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
            }
        }
        for (long pid : pids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
                    "worker " + pid + " outlived close()");
        }
    }

    @Test
    void workersDieWithAKilledParent() throws Exception {
        Processes.Proc host = procs.java("dist.it.LocalClusterHost");
        String line = host.awaitLine(l -> l.startsWith("pids: "), Duration.ofSeconds(60));
        long[] pids = Arrays.stream(line.substring(6).trim().split(",")).mapToLong(Long::parseLong).toArray();
        assertEquals(2, pids.length);
        host.process.destroyForcibly(); // SIGKILL: no shutdown hook runs in the parent
        host.awaitExit(Duration.ofSeconds(30));
        for (long pid : pids) {
            assertTrue(Processes.eventually(Duration.ofSeconds(30),
                    () -> !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)),
                    "worker " + pid + " outlived its killed parent");
        }
    }
}
