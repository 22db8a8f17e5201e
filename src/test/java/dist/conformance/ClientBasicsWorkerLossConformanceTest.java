package dist.conformance;

import dist.TaskFailedException;
import dist.DistTimeoutException;
import dist.Client;
import dist.Future;
import dist.Futures;
import dist.Options;
import dist.Wait;
import dist.comm.CommConfig;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Cases of dask's distributed/tests/test_client.py that close a worker or start without one, each on
 * a cluster of its own.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientBasicsWorkerLossConformanceTest {
    static final Duration T = ClientBasicsCluster.T;

    static int inc(int x) {
        return x + 1;
    }

    /**
     * dask: test_client.py::test_gather_lost — x scattered to a and y = inc(1) on b: once a closes,
     * gathering [x, y] fails. dask raises CancelledError; dist fails the scattered future, saying it
     * was scattered and lost (scattered data has no recipe to compute it again).
     */
    @Test
    void gatherLost() throws Exception {
        try (ClientBasicsCluster c = ClientBasicsCluster.start(1, 2)) {
            WorkerServer a = c.w(0), b = c.w(1);
            Future<Integer> x = c.client.scatter(List.of(1), List.of(a.address()), false).get(0);
            Future<Integer> y = c.client.with(Options.defaults().workers(b.address())).submit(
                    ClientBasicsWorkerLossConformanceTest::inc, 1);
            y.result(T);
            a.close();
            assertTrue(Wait.until(T, () -> c.workerCount() == 1)); // dask's close returns once the scheduler removed a
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> c.client.gather(List.of(x, y), T));
            assertTrue(String.valueOf(e.getCause().getMessage()).contains("scattered"), e.getCause().toString());
        }
    }

    /**
     * dask: test_client.py::test_remove_worker — twenty incs computed, then b closes: the scheduler
     * drops b and gathering still gives every result.
     */
    @Test
    void removeWorker() throws Exception {
        try (ClientBasicsCluster c = ClientBasicsCluster.start(1, 2)) {
            List<Integer> r = IntStream.range(0, 20).boxed().toList();
            List<Future<Integer>> l = c.client.map(ClientBasicsWorkerLossConformanceTest::inc, r);
            Futures.wait(l, T);
            WorkerServer b = c.w(1);
            b.close();
            assertTrue(Wait.until(T, () -> c.workerCount() == 1));
            assertEquals(IntStream.range(1, 21).boxed().toList(), c.client.gather(l, T));
        }
    }

    static int callBasicsX() throws Exception {
        Class<?> k = Class.forName("uploaded.LateWorker", true, Thread.currentThread().getContextClassLoader());
        return (Integer) k.getField("X").get(null);
    }

    /**
     * dask: test_client.py::test_upload_file_new_worker — a module uploaded while there is no worker
     * reaches a worker that starts afterwards: a task reading its x gets 123.
     */
    @Test
    void uploadFileNewWorker(@TempDir Path dir) throws Exception {
        try (ClientBasicsCluster c = ClientBasicsCluster.start()) {
            c.client.uploadJar(JarBuilder.jar(dir, "late", "uploaded.LateWorker", """
                    package uploaded;
                    public class LateWorker { public static final Integer X = 123; }
                    """));
            c.addWorker("late", 1);
            assertEquals(123, c.client.submit(ClientBasicsWorkerLossConformanceTest::callBasicsX).result(T));
        }
    }

    /**
     * dask: test_client.py::test_scatter_direct_empty — with no worker, a scatter with a short timeout
     * fails with a timeout.
     */
    @Test
    void scatterDirectEmpty() throws Exception {
        try (ClientBasicsCluster c = ClientBasicsCluster.start()) {
            CommConfig d = CommConfig.DEFAULT;
            CommConfig quick = new CommConfig(d.connectTimeout(), Duration.ofMillis(300), d.handshakeTimeout(),
                    d.maxFrames(), d.maxFrameBytes(), d.maxMessageBytes(), d.maxConnectionsPerPeer(), d.security(),
                    d.liveness());
            try (Client impatient = Client.connect(c.scheduler.address(), quick)) {
                assertThrows(DistTimeoutException.class, () -> impatient.scatter(List.of(123)));
            }
        }
    }

    /** dask's long_running_client_connection: a client in its own process that holds a result, then waits. */
    public static void main(String[] args) throws Exception {
        try (Client c = Client.connect(args[0])) {
            Future<Integer> x = c.submit(ClientBasicsWorkerLossConformanceTest::inc, 10);
            x.result(T);
            new java.util.concurrent.CountDownLatch(1).await(100, TimeUnit.SECONDS);
        }
    }

    private static int taskCount(ClientBasicsCluster c) {
        try {
            return c.scheduler.query(s -> s.view().taskCount(), 10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /**
     * dask: test_client.py::test_cleanup_after_broken_client_connection — a client process that holds
     * a result is killed: the scheduler forgets its tasks.
     */
    @Test
    void cleanupAfterBrokenClientConnection() throws Exception {
        try (ClientBasicsCluster c = ClientBasicsCluster.start(1)) {
            List<String> cmd = List.of(ProcessHandle.current().info().command().orElseThrow(), "-Xmx128m", "-cp",
                    System.getProperty("java.class.path"), ClientBasicsWorkerLossConformanceTest.class.getName(),
                    c.scheduler.address());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                assertTrue(Wait.until(T, () -> taskCount(c) > 0), "the client process submitted");
                p.destroyForcibly();
                assertTrue(Wait.until(T, () -> taskCount(c) == 0), "its tasks are forgotten");
            } finally {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
