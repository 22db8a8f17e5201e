package dist.conformance;

import dist.AsCompleted;
import dist.Client;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;
import dist.LocalClusters;
import dist.Options;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Cases of dask's test_client.py that end a scheduler: shutting a cluster down from its client, and a
 * client whose scheduler goes away. Each test has its own scheduler.
 *
 * <p>Not applicable:
 * <ul>
 * <li>test_shutdown_stops_callbacks → the client's tornado periodic callbacks; {@code test_shutdown}
 *     checks the client is closed.</li>
 * </ul>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientExtrasShutdownConformanceTest {
    static final Duration T = Duration.ofSeconds(30);

    static int inc(int x) {
        return x + 1;
    }

    static final CountDownLatch event = new CountDownLatch(1);

    static int waitForEvent(int x) throws InterruptedException {
        event.await(30, TimeUnit.SECONDS);
        return x;
    }

    /**
     * dask: test_client.py::test_shutdown — a scheduler, a worker and a client of them:
     * {@code c.shutdown()} closes the scheduler, the worker, and the client.
     */
    @Test
    void shutdown() throws Exception {
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
             WorkerServer w = WorkerServer.start(WorkerServer.Options.of(s.address(), 1));
             Client c = Client.connect(s.address())) {
            assertTrue(s.awaitWorkers(1, 30, TimeUnit.SECONDS));
            c.shutdown();
            assertTrue(s.awaitClose(30, TimeUnit.SECONDS), "scheduler closed");
            assertTrue(w.awaitClose(30, TimeUnit.SECONDS), "worker closed");
            assertTrue(c.isClosed());
        }
    }

    /**
     * dask: test_client.py::test_shutdown_localcluster, test_async_with — a client of a LocalCluster
     * shuts it down: its scheduler is closed and so is the client; closing both by try-with-resources
     * (dask's {@code async with}) after that is quiet.
     */
    @Test
    void shutdownLocalCluster() throws Exception {
        try (LocalCluster lc = LocalCluster.builder().workers(1).output(null).start(); Client c = lc.client()) {
            assertEquals(11, c.submit(ClientExtrasShutdownConformanceTest::inc, 10).result(T));
            c.shutdown();
            assertTrue(LocalClusters.scheduler(lc).awaitClose(30, TimeUnit.SECONDS), "scheduler closed");
            assertTrue(c.isClosed());
        }
    }

    /**
     * dask: test_client.py::test_client_disconnect_exception_on_cancelled_futures — the scheduler
     * closes under a client: its futures end with an error that names the connection to the scheduler,
     * from result, wait, gather and as_completed with results alike. dist differs for a future that
     * had already finished: it keeps its value (a Java Future never leaves the done state), so the
     * lost one here is a future still pending.
     */
    @Test
    void clientDisconnectExceptionOnCancelledFutures() throws Exception {
        try (LocalCluster lc = LocalCluster.builder().workers(1).threadsPerWorker(2).output(null).start();
             Client c = lc.client()) {
            Future<Integer> done = c.submit(ClientExtrasShutdownConformanceTest::inc, 1);
            assertEquals(2, done.result(T));
            Future<Integer> fut = c.with(Options.defaults().pure(false)).submit(ClientExtrasShutdownConformanceTest::waitForEvent, 1);

            LocalClusters.scheduler(lc).close();

            Exception e = assertThrows(Exception.class, () -> fut.result(T));
            assertTrue(String.valueOf(messages(e)).contains("connection to the scheduler"), messages(e));

            Futures.wait(List.of(fut), T);
            assertTrue(fut.isDone());

            Exception g = assertThrows(Exception.class, () -> c.gather(List.of(fut)));
            assertTrue(messages(g).contains("connection to the scheduler"), messages(g));

            List<AsCompleted.Completed<Integer>> items = new ArrayList<>();
            Futures.asCompleted(List.of(fut)).withResults().forEach(items::add);
            assertEquals(1, items.size());
            assertNotNull(items.get(0).error());
            assertTrue(messages(items.get(0).error()).contains("connection to the scheduler"),
                    messages(items.get(0).error()));

            assertEquals(2, done.result(T)); // dist: the finished future keeps its value
        } finally {
            event.countDown();
        }
    }

    /** The messages of {@code t} and its causes, for a look for the words that matter. */
    static String messages(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable x = t; x != null; x = x.getCause()) {
            sb.append(x).append(" / ");
        }
        return sb.toString();
    }
}
