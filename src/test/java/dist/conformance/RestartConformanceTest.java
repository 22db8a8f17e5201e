package dist.conformance;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.LocalClusters;
import dist.TaskCancelledException;
import dist.TaskFailedException;
import dist.api.ClusterFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Client.restart as dask's tests check it: every future of the client ends cancelled, whatever its
 * state was, and the scheduler forgets every task. Thread workers (no nanny) stay and drop their data.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RestartConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client client;

    static int inc(int x) {
        return x + 1;
    }

    static double div(int x, int y) {
        if (y == 0) {
            throw new ArithmeticException("division by zero");
        }
        return (double) x / y;
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).output(null).start();
        client = cluster.client();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static String schedulerState(String key) throws Exception {
        return ClusterFixture.stateOf(cluster, key);
    }

    private static int schedulerTasks() throws Exception {
        return LocalClusters.scheduler(cluster).query(st -> st.view().taskCount(), 10, TimeUnit.SECONDS);
    }

    /**
     * dask: test_failed_workers.py::test_restart — x = inc(1), y = inc(x), z = div(1, 0); after
     * {@code await y}, x and y are in memory and z is not; after {@code c.restart()} there are two
     * workers, no tasks, and x, y and z are all cancelled (z had erred).
     */
    @Test
    void restartCancelsEveryFutureIncludingErred() throws Exception {
        Future<Integer> x = client.submit(RestartConformanceTest::inc, 1);
        Future<Integer> y = client.submit(RestartConformanceTest::inc, x);
        Future<Double> z = client.submit(RestartConformanceTest::div, 1, 0);
        assertEquals(3, y.result(T));
        assertInstanceOf(ArithmeticException.class, z.exception(T));

        assertEquals("memory", schedulerState(x.key()));
        assertEquals("memory", schedulerState(y.key()));
        assertNotEquals("memory", schedulerState(z.key()));

        client.restart();

        assertEquals(2, cluster.workerCount());
        assertEquals(0, schedulerTasks());
        assertTrue(x.isCancelled(), String.valueOf(x.state()));
        assertTrue(y.isCancelled(), String.valueOf(y.state()));
        assertTrue(z.isCancelled(), String.valueOf(z.state()));
    }

    /**
     * dask: test_failed_workers.py::test_restart_sync — after x = div(1, 2) finished and
     * {@code c.restart()}: x is cancelled, two workers remain, {@code x.result()} raises CancelledError.
     * The erred case is the same future the same way.
     */
    @Test
    void restartSyncResultRaisesCancelled() throws Exception {
        Future<Double> x = client.submit(RestartConformanceTest::div, 1, 2);
        assertEquals(0.5, x.result(T));
        Future<Double> bad = client.submit(RestartConformanceTest::div, 1, 0);
        TaskFailedException failed = assertThrows(TaskFailedException.class, () -> bad.result(T));
        assertInstanceOf(ArithmeticException.class, failed.getCause());

        client.restart();

        assertTrue(x.isCancelled());
        assertEquals(2, client.ncores().size());
        assertThrows(TaskCancelledException.class, () -> x.result(T));
        assertEquals(Future.State.CANCELLED, bad.state());
        assertThrows(TaskCancelledException.class, () -> bad.result(T));
        assertThrows(TaskCancelledException.class, () -> bad.exception(T));
    }

    /**
     * dask: test_scheduler.py::test_restart — after {@code c.map(inc, range(20))} finished and a
     * restart, the scheduler holds no tasks, every future's status is "cancelled", and a new
     * {@code inc(1)} computes 2.
     */
    @Test
    void restartThenNewWorkRuns() throws Exception {
        List<Future<Integer>> futures = client.map(RestartConformanceTest::inc,
                java.util.stream.IntStream.range(0, 20).boxed().toList());
        client.gather((Object) futures, T);

        client.restart();

        assertEquals(0, schedulerTasks());
        for (Future<Integer> f : futures) {
            assertEquals(Future.State.CANCELLED, f.state());
        }
        assertEquals(2, client.submit(RestartConformanceTest::inc, 1).result(T));
    }

    /**
     * dask: test_client.py::test_scheduler_restart_exception_on_cancelled_futures — a future that
     * finished, then a restart this client did not ask for: {@code fut.result()} raises CancelledError
     * saying the cluster restarted ("Scheduler has restarted" in dask).
     */
    @Test
    void restartByAnotherPartyCancelsThisClientsFutures() throws Exception {
        Future<Integer> fut = client.submit(RestartConformanceTest::inc, 1);
        assertEquals(2, fut.result(T));
        try (Client other = cluster.client()) {
            other.restart();
        }
        assertTrue(dist.Wait.until(T, fut::isCancelled), String.valueOf(fut.state()));
        TaskCancelledException e = assertThrows(TaskCancelledException.class, () -> fut.result(T));
        assertTrue(e.getMessage().contains("restarted"), e.getMessage());
    }

    /**
     * dask: test_failed_workers.py::test_restart, with the erred future held by a client other than
     * the one restarting: dask tells every client to cancel all its futures, so it ends cancelled.
     */
    @Test
    void restartCancelsAnotherClientsErredFuture() throws Exception {
        Future<Double> z = client.submit(RestartConformanceTest::div, 1, 0);
        assertInstanceOf(ArithmeticException.class, z.exception(T));
        try (Client other = cluster.client()) {
            other.restart();
        }
        assertTrue(dist.Wait.until(T, z::isCancelled), String.valueOf(z.state()));
        assertThrows(TaskCancelledException.class, () -> z.result(T));
    }
}
