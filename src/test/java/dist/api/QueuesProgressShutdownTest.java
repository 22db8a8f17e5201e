package dist.api;

import dist.TaskCancelledException;
import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.Options;
import dist.Progress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pipelines over queues, the progress bar, and shutting the cluster down. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QueuesProgressShutdownTest {
    static ClusterFixture fx;
    static Client client;

    @BeforeAll
    static void start() throws Exception {
        fx = ClusterFixture.start(2, 2);
        client = fx.client;
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    static int inc(int x) {
        return x + 1;
    }

    static int twice(int x) {
        return 2 * x;
    }

    static int sleepy(int millis) throws InterruptedException {
        Thread.sleep(millis);
        return millis;
    }

    @Test
    void theSeedsQueuePipeline() throws Exception {
        BlockingQueue<Integer> input = new LinkedBlockingQueue<>();
        BlockingQueue<Future<Integer>> remote = client.scatter(input);
        BlockingQueue<Future<Integer>> incQ = client.map(QueuesProgressShutdownTest::inc, remote);
        BlockingQueue<Future<Integer>> doubleQ = client.map(QueuesProgressShutdownTest::twice, incQ);
        BlockingQueue<Integer> result = client.gather(doubleQ);
        assertEquals(0, result.size());
        input.put(10);
        assertEquals(22, result.poll(30, TimeUnit.SECONDS));
        Thread loader = Thread.ofVirtual().start(() -> {
            for (int i = 0; i < 20; i++) {
                input.add(i);
            }
        });
        loader.join(30_000);
        List<Integer> got = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Integer v = result.poll(30, TimeUnit.SECONDS);
            assertNotNull(v, "the pipeline stalled after " + got.size() + " items");
            got.add(v);
        }
        assertEquals(IntStream.range(0, 20).map(i -> 2 * (i + 1)).boxed().toList(), got, "order is kept");
    }

    @Test
    void boundedQueuesGiveBackPressure() throws Exception {
        BlockingQueue<Integer> input = new ArrayBlockingQueue<>(2);
        BlockingQueue<Future<Integer>> remote = client.scatter(input);
        BlockingQueue<Integer> results = client.gather(client.map(QueuesProgressShutdownTest::inc, remote));
        assertEquals(2, remote.remainingCapacity(), "stages are bounded like their input");
        assertEquals(2, results.remainingCapacity());
        // nobody takes results: the stages fill up, then the producer is held back
        int accepted = 0;
        for (int i = 0; i < 50; i++) {
            if (!input.offer(i, 300, TimeUnit.MILLISECONDS)) {
                break;
            }
            accepted++;
        }
        assertTrue(accepted < 50, "a full pipeline must refuse more input, accepted " + accepted);
        for (int i = 0; i < accepted; i++) {
            assertEquals(i + 1, results.poll(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void progressPrintsALinePerStepWithoutATerminalAndRedrawsOnOne() throws Exception {
        List<Future<Integer>> fs = client.with(Options.defaults().pure(false))
                .map(QueuesProgressShutdownTest::sleepy, List.of(50, 100, 150, 200, 250, 300, 350, 400));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Progress.progress(fs, new PrintStream(buf, true, StandardCharsets.UTF_8), false);
        for (Future<Integer> f : fs) {
            assertTrue(f.isDone());
        }
        String[] lines = buf.toString(StandardCharsets.UTF_8).split("\n");
        assertTrue(lines.length >= 2, "a first and a last line at least: " + lines.length);
        assertTrue(lines[lines.length - 1].matches("\\[#{40}] \\| 100% Completed \\| \\d+\\.\\ds"), lines[lines.length - 1]);
        assertTrue(!buf.toString(StandardCharsets.UTF_8).contains("\r"));

        ByteArrayOutputStream tty = new ByteArrayOutputStream();
        Progress.progress(fs, new PrintStream(tty, true, StandardCharsets.UTF_8), true);
        String drawn = tty.toString(StandardCharsets.UTF_8);
        assertTrue(drawn.startsWith("\r[") && drawn.endsWith("100% Completed | " + drawn.substring(drawn.lastIndexOf("| ") + 2)),
                drawn);
        assertEquals("[####################                    ] | 50% Completed | 1.7s", Progress.bar(0.5, 1.7));
        Future<Integer> cancelled = client.with(Options.defaults().pure(false)).submit(QueuesProgressShutdownTest::sleepy, 500);
        cancelled.cancel(true);
        Progress.progress(List.of(cancelled), new PrintStream(new ByteArrayOutputStream()), false); // returns
    }

    static boolean accepts(String address) {
        int colon = address.lastIndexOf(':');
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress(address.substring(0, colon),
                    Integer.parseInt(address.substring(colon + 1))), 500);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void shutdownStopsTheSchedulerAndWorkers() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).output(null).start()) {
            Client c = cluster.client();
            assertEquals(2, c.submit(QueuesProgressShutdownTest::inc, 1).result(Duration.ofSeconds(30)));
            String worker = c.workersInfo().get(0).address();
            Future<Integer> pending = c.with(Options.defaults().pure(false)).submit(QueuesProgressShutdownTest::sleepy, 5_000);
            c.shutdown();
            assertTrue(c.isClosed());
            assertThrows(TaskCancelledException.class, () -> pending.result(Duration.ofSeconds(30)));
            assertTrue(ClusterFixture.eventually(Duration.ofSeconds(30), () -> !accepts(worker)),
                    "the worker should stop listening");
            assertThrows(dist.SchedulerUnavailableException.class, () -> Client.connect(c.address(), Duration.ofMillis(500)));
        }
    }
}
