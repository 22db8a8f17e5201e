package dist.it;

import dist.TaskFailedException;
import dist.Bag;
import dist.Client;
import dist.Delayed;
import dist.Future;
import dist.Graph;
import dist.config.Config;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scheduler process dies by SIGKILL and a new one starts on the same address, while futures made
 * from graphs, Delayed values and bags are pending: the client sends their recipes again.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class SchedulerReturnGraphsTest {
    static final Duration T = Duration.ofSeconds(60);
    private final Processes procs = new Processes();

    @AfterEach
    void cleanup() {
        procs.close();
    }

    static int slowInc(int x) throws InterruptedException {
        Thread.sleep(400);
        return x + 1;
    }

    static int slowAdd(int a, int b) throws InterruptedException {
        Thread.sleep(400);
        return a + b;
    }

    static int slowSquare(int x) throws InterruptedException {
        Thread.sleep(50);
        return x * x;
    }

    static int square(int x) {
        return x * x;
    }

    static int sleepThenInc(int x) throws InterruptedException {
        Thread.sleep(3000);
        return x + 1;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private Processes.Proc scheduler(int port) throws Exception {
        Processes.Proc s = procs.dist("scheduler", "--port", String.valueOf(port));
        s.awaitLine(l -> l.startsWith("scheduler at: "), Duration.ofSeconds(30));
        return s;
    }

    private Processes.Proc worker(String address, String name, boolean nanny) throws Exception {
        Processes.Proc w = nanny ? procs.dist("worker", address, "--nthreads", "1", "--name", name)
                : procs.dist("worker", address, "--nthreads", "1", "--name", name, "--no-nanny");
        w.awaitLine(l -> l.startsWith("registered with scheduler at: "), Duration.ofSeconds(30));
        return w;
    }

    private void killAndRestart(Processes.Proc first, int port) throws Exception {
        first.process.destroyForcibly(); // SIGKILL: no goodbye to anyone
        first.awaitExit(Duration.ofSeconds(30));
        scheduler(port);
    }

    @Test
    void graphDelayedAndBagFuturesAndAPublishedDatasetComeBackWithExactValues() throws Exception {
        int port = freePort();
        String address = "127.0.0.1:" + port;
        Processes.Proc first = scheduler(port);
        worker(address, "a", true);
        worker(address, "b", false);

        try (Client client = Client.connect(address)) {
            // a dataset of results that exist, whose futures this client then lets go of
            List<Future<Integer>> squares = client.map(SchedulerReturnGraphsTest::square, List.of(1, 2, 3, 4));
            assertEquals(List.of(1, 4, 9, 16), client.gather(squares, T));
            client.publishDataset("squares", squares);
            squares.forEach(Future::release);

            Graph g = new Graph().value("x", 3)
                    .task("y", SchedulerReturnGraphsTest::slowInc, Graph.key("x"))
                    .task("z", SchedulerReturnGraphsTest::slowAdd, Graph.key("y"), Graph.key("x"));
            Future<Integer> z = client.compute(g, "z");
            Delayed<Integer> d = Delayed.of(SchedulerReturnGraphsTest::slowInc,
                    Delayed.of(SchedulerReturnGraphsTest::slowInc, Delayed.of(SchedulerReturnGraphsTest::slowInc, 10)));
            Future<Integer> fd = client.compute(d);
            List<Integer> xs = IntStream.range(0, 40).boxed().toList();
            Future<Number> sum = client.compute(Bag.fromSequence(xs, 8).map(SchedulerReturnGraphsTest::slowSquare).sum());

            killAndRestart(first, port);

            assertEquals(7, z.result(T));
            assertEquals(13, fd.result(T));
            assertEquals((long) xs.stream().mapToInt(x -> x * x).sum(), sum.result(T));
            // new graph work after the return
            assertEquals(5, client.compute(Delayed.of(SchedulerReturnGraphsTest::slowInc, 4)).result(T));

            try (Client other = Client.connect(address)) {
                assertTrue(Processes.eventually(T, () -> {
                    try {
                        return other.listDatasets().contains("squares");
                    } catch (Exception e) {
                        return false;
                    }
                }), "the dataset was not published again after the scheduler returned");
                List<Future<Integer>> again = other.getDataset("squares");
                assertEquals(List.of(1, 4, 9, 16), other.gather(again, T));
            }
        }
    }

    @Test
    void scatteredDataLostWithItsOnlyWorkerFailsItsFutureAndDependentsSayingWhy() throws Exception {
        int port = freePort();
        String address = "127.0.0.1:" + port;
        Processes.Proc first = scheduler(port);
        worker(address, "a", true);
        Processes.Proc b = worker(address, "b", false);

        // the client waits this long for returning workers to report what they hold
        try (Config.Override grace = Config.set("distributed.scheduler.unknown-key-grace", "3s");
             Client client = Client.connect(address)) {
            Future<Integer> five = client.<Integer>scatter(List.of(5), List.of("b"), false).get(0);
            Future<Integer> six = client.submit(SchedulerReturnGraphsTest::sleepThenInc, five);
            Future<Integer> elsewhere = client.compute(Delayed.of(SchedulerReturnGraphsTest::slowInc, 41));

            b.process.destroyForcibly();
            b.awaitExit(Duration.ofSeconds(30));
            killAndRestart(first, port);

            TaskFailedException e = assertThrows(TaskFailedException.class, () -> six.result(T));
            assertTrue(e.getMessage().contains(five.key()) && e.getMessage().contains("scattered"), e.getMessage());
            TaskFailedException lost = assertThrows(TaskFailedException.class, () -> five.result(T));
            assertTrue(lost.getMessage().contains("scattered"), lost.getMessage());
            assertEquals(Future.State.FAILED, five.state()); // erred or lost, saying the data was scattered and lost
            assertEquals(42, elsewhere.result(T));
        }
    }
}
