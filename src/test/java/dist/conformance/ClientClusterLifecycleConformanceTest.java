package dist.conformance;

import dist.SchedulerUnavailableException;

import dist.TaskFailedException;
import dist.TaskCancelledException;
import dist.LocalClusters;

import dist.Client;
import dist.Future;
import dist.KilledWorkerException;
import dist.LocalCluster;
import dist.Options;
import dist.Wait;
import dist.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Clients and clusters starting, stopping and coming back, as dask's distributed/tests/test_client.py
 * checks them. Each test has its own cluster (or two, one after the other on the same port).
 *
 * <p>dask's client, when the scheduler returns, has cancelled its futures; a dist client sends the
 * recipes of the keys it holds again, so its futures keep their results or complete (README,
 * "Resilience"). test_reconnect is written to that.
 *
 * <p>Not applicable:
 * <ul>
 * <li>test_open_close_many_workers → skipped in dask ("hangs"); counts file descriptors.</li>
 * </ul>
 *
 * <p>restart_workers is in ClientClusterRestartWorkersConformanceTest, retire_workers in
 * ClientClusterPlacementConformanceTest.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientClusterLifecycleConformanceTest {
    static final Duration T = Duration.ofSeconds(30);

    static int inc(int x) {
        return x + 1;
    }

    static int die() {
        Runtime.getRuntime().halt(1);
        return 0;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * dask: test_client.py::test_write_scheduler_file — a client writes its scheduler's file; a
     * client started from it reaches the same scheduler; writing a second file is refused
     * (IllegalStateException where dask raises ValueError).
     */
    @Test
    void writeSchedulerFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = dir.resolve("scheduler.json");
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).output(null).start();
             Client c = cluster.client()) {
            int workers = c.workersInfo().size();
            c.writeSchedulerFile(file);
            try (Client c2 = Client.connectSchedulerFile(file)) {
                assertEquals(workers, c2.workersInfo().size());
                assertEquals(c.address(), c2.address());
            }
            assertThrows(IllegalStateException.class, () -> c.writeSchedulerFile(file));
        }
    }

    /**
     * dask: test_client.py::test_client_timeout — a client started before its scheduler keeps trying
     * (within its connect timeout) and connects once the scheduler is up.
     */
    @Test
    void clientTimeout() throws Exception {
        int port = freePort();
        CompletableFuture<Client> connecting = CompletableFuture.supplyAsync(() -> {
            try {
                return Client.connect("127.0.0.1:" + port, Duration.ofSeconds(20));
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        assertFalse(Wait.until(Duration.ofMillis(300), connecting::isDone), "connected with no scheduler");
        try (LocalCluster cluster = LocalCluster.builder().workers(0).schedulerPort(port).output(null).start();
             Client c = connecting.get(30, TimeUnit.SECONDS)) {
            assertEquals(Map.of(), c.ncores());
            assertEquals(cluster.schedulerAddress(), c.address());
        }
    }

    /**
     * dask: test_client.py::test_quiet_client_close_when_cluster_is_closed_before_client — closing a
     * client after its cluster closed returns quietly.
     */
    @Test
    void clientCloseAfterClusterClosed() throws Exception {
        LocalCluster cluster = LocalCluster.builder().workers(1).output(null).start();
        Client c = cluster.client();
        cluster.close();
        assertDoesNotThrow(c::close);
        assertTrue(c.isClosed());
    }

    /**
     * dask: test_client.py::test_reconnect_timeout — with a short reconnect timeout, a client whose
     * scheduler closes gives up: dask closes it and logs "Failed to reconnect"; a dist client fails
     * its pending futures as lost, saying the connection to the scheduler ended.
     */
    @Test
    void reconnectTimeout() throws Exception {
        try (var ignored = Config.set("distributed.client.reconnect-timeout", "500ms")) {
            LocalCluster cluster = LocalCluster.builder().workers(0).output(null).start();
            // dask's client has timeout=0.5: its connect timeout, which bounds each attempt to reconnect too
            try (Client c = Client.connect(cluster.schedulerAddress(), Duration.ofMillis(500))) {
                Future<Integer> f = c.submit(ClientClusterLifecycleConformanceTest::inc, 1); // no worker: pending
                cluster.close();
                assertTrue(Wait.until(T, () -> f.state() == Future.State.FAILED), f.state().toString());
                SchedulerUnavailableException e = assertThrows(SchedulerUnavailableException.class, () -> f.result(T));
                assertTrue(String.valueOf(e.getCause()).contains("connection to the scheduler"), String.valueOf(e.getCause()));
                assertTrue(f.toString().contains("lost"), f.toString());
            }
        }
    }

    /**
     * dask: test_client.py::test_reconnect — a client and a worker outlive their scheduler; a scheduler
     * started again on the same port gets them back: the client submits inc(10) and gets 11 (dask:
     * inc(1) is 2), once the worker is back. dask cancels x, the future from before; dist keeps it
     * finished with its value, 2.
     */
    @Test
    void reconnect() throws Exception {
        int port = freePort();
        LocalCluster first = LocalCluster.builder().workers(0).schedulerPort(port).output(null).start();
        dist.worker.WorkerServer w = dist.worker.WorkerServer.start(
                dist.worker.WorkerServer.Options.of(first.schedulerAddress(), 1));
        try (Client c = Client.connect(first.schedulerAddress())) {
            assertTrue(LocalClusters.scheduler(first).awaitWorkers(1, 30, TimeUnit.SECONDS));
            Future<Integer> x = c.submit(ClientClusterLifecycleConformanceTest::inc, 1);
            assertEquals(2, x.result(T));
            first.close();
            LocalCluster[] again = new LocalCluster[1];
            assertTrue(Wait.until(T, () -> { // the old listener's port may take a moment to be free
                try {
                    again[0] = LocalCluster.builder().workers(0).schedulerPort(port).output(null).start();
                    return true;
                } catch (java.io.UncheckedIOException e) {
                    return false;
                }
            }));
            try (LocalCluster second = again[0]) {
                assertTrue(LocalClusters.scheduler(second).awaitWorkers(1, 30, TimeUnit.SECONDS));
                assertEquals(11, c.submit(ClientClusterLifecycleConformanceTest::inc, 10).result(T));
                assertTrue(Wait.until(T, () -> {
                    try {
                        return c.ncores().size() == 1;
                    } catch (Exception e) {
                        return false;
                    }
                }));
                assertEquals(Future.State.SUCCESS, x.state());
                assertEquals(2, x.result(T));
            }
        } finally {
            w.close();
        }
    }

    /**
     * dask: test_client.py::test_Client_clears_references_after_restart — after a restart the client
     * holds no reference to x any more: x is cancelled. (dask restarts with a 10 ms timeout and
     * expects TimeoutError first; thread workers restart within any bound.)
     */
    @Test
    void clientClearsReferencesAfterRestart() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).output(null).start();
             Client c = cluster.client()) {
            Future<Integer> x = c.with(Options.defaults().pure(false)).submit(ClientClusterLifecycleConformanceTest::inc, 1);
            c.restart();
            assertTrue(x.isCancelled());
            assertThrows(TaskCancelledException.class, () -> x.result(T));
            assertTrue(Wait.until(T, () -> dist.api.ClusterFixture.stateOf(cluster, x.key()).equals("null")));
        }
    }

    /**
     * dask: test_client.py::test_bad_tasks_fail — a task that ends its worker's process (sys.exit)
     * fails with KilledWorker, naming the task. Here no worker death is allowed, so the first one
     * decides.
     */
    @Test
    void badTasksFail() throws Exception {
        try (var ignored = Config.set("distributed.scheduler.allowed-failures", 0);
             LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).processes(true).output(null).start();
             Client c = cluster.client()) {
            assertTrue(cluster.awaitWorkers(1, 60, TimeUnit.SECONDS));
            Future<Integer> f = c.submit(ClientClusterLifecycleConformanceTest::die);
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> f.result(T));
            assertInstanceOf(KilledWorkerException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains(f.key()), e.getCause().getMessage());
        }
    }
}
