package dist.conformance;

import dist.TaskCancelledException;
import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.api.ClusterFixture;
import dist.Options;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Cancelling futures, ported from dask's test_client.py. dask's slowinc is a task held at a gate
 * here, so a cancel surely finds it unfinished; the gate opens after each test.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CancelConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client client;
    static volatile CountDownLatch gate = new CountDownLatch(1);

    static int inc(int x) {
        return x + 1;
    }

    static double div(int x, int y) {
        if (y == 0) {
            throw new ArithmeticException("division by zero");
        }
        return (double) x / y;
    }

    /** dask's slowinc: inc once the gate opens (at most 30 s). */
    static int slowinc(int x) throws InterruptedException {
        gate.await(30, TimeUnit.SECONDS);
        return x + 1;
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(2).output(null).start();
        client = cluster.client();
    }

    @AfterEach
    void openGate() {
        gate.countDown();
        gate = new CountDownLatch(1);
    }

    @AfterAll
    static void stop() {
        gate.countDown();
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static String schedulerState(String key) {
        return ClusterFixture.stateOf(cluster, key);
    }

    /**
     * dask: test_client.py::test_cancel — x = slowinc(1), y = slowinc(x); once y is known to the
     * scheduler, {@code c.cancel([x])}: x is cancelled, "cancel" is in str(x), y ends cancelled too,
     * and the scheduler holds neither.
     */
    @Test
    void cancel() throws Exception {
        Future<Integer> x = client.submit(CancelConformanceTest::slowinc, 1);
        Future<Integer> y = client.submit(CancelConformanceTest::slowinc, x);
        assertTrue(dist.Wait.until(T, () -> !schedulerState(y.key()).equals("null")));

        client.cancel(List.of(x));

        assertTrue(x.isCancelled());
        assertTrue(x.toString().contains("cancel"), x.toString());
        assertTrue(dist.Wait.until(T, y::isCancelled), String.valueOf(y.state()));
        assertTrue(dist.Wait.until(T, () -> schedulerState(x.key()).equals("null")
                && schedulerState(y.key()).equals("null")), schedulerState(x.key()) + " " + schedulerState(y.key()));
    }

    /**
     * dask: test_client.py::test_cancel_multi_client — two clients submit the same call (one key);
     * after both finish, the first cancels its future: it is cancelled, the second client's is not
     * and still gives 2, and the first's raises CancelledError.
     */
    @Test
    void cancelMultiClient() throws Exception {
        try (Client f = cluster.client()) {
            Future<Integer> x = client.submit(CancelConformanceTest::inc, 1);
            Future<Integer> y = f.submit(CancelConformanceTest::inc, 1);
            assertEquals(x.key(), y.key());
            assertEquals(2, y.result(T));
            assertEquals(2, x.result(T));

            client.cancel(List.of(x));

            assertTrue(x.isCancelled());
            assertFalse(y.isCancelled());
            assertEquals(2, y.result(T));
            assertThrows(TaskCancelledException.class, () -> x.result(T));
        }
    }

    /**
     * dask: test_client.py::test_cancel_sync — x, y, z a chain of slowinc; cancelling y cancels z
     * (eventually) while x still gives 2; z.cancel() afterwards leaves z cancelled.
     */
    @Test
    void cancelSync() throws Exception {
        String tag = UUID.randomUUID().toString();
        Future<Integer> x = client.with(Options.defaults().key("x-" + tag)).submit(CancelConformanceTest::inc, 1);
        Future<Integer> y = client.with(Options.defaults().key("y-" + tag)).submit(CancelConformanceTest::slowinc, x);
        Future<Integer> z = client.with(Options.defaults().key("z-" + tag)).submit(CancelConformanceTest::slowinc, y);

        client.cancel(List.of(y));

        assertTrue(dist.Wait.until(T, z::isCancelled), String.valueOf(z.state()));
        assertEquals(2, x.result(T));
        z.cancel(true);
        assertTrue(z.isCancelled());
    }

    /**
     * dask's Client.cancel cancels each future's state whatever it is (FutureState.cancel), so an
     * erred future ends cancelled and its result raises CancelledError (as in test_cancel, for a
     * future that failed instead of one still running).
     */
    @Test
    void cancelErred() throws Exception {
        Future<Double> z = client.submit(CancelConformanceTest::div, 1, 0);
        assertInstanceOf(ArithmeticException.class, z.exception(T));

        assertEquals(1, client.cancel(List.of(z)));

        assertTrue(z.isCancelled(), String.valueOf(z.state()));
        assertThrows(TaskCancelledException.class, () -> z.result(T));
        assertEquals(0, client.cancel(List.of(z)), "a second cancel changes nothing");
    }
}
