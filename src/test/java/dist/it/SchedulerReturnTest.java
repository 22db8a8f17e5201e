package dist.it;

import dist.Client;
import dist.Future;
import dist.Futures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The scheduler process dies by SIGKILL and a new one starts on the same address. */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class SchedulerReturnTest {
    static final Duration T = Duration.ofSeconds(60);
    private final Processes procs = new Processes();

    @AfterEach
    void cleanup() {
        procs.close();
    }

    static int square(int x) {
        return x * x;
    }

    static int slowSquare(int x) throws InterruptedException {
        Thread.sleep(300);
        return x * x;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    private Processes.Proc scheduler(int port) throws Exception {
        Processes.Proc s = procs.dist("scheduler", "--port", String.valueOf(port));
        s.awaitLine(l -> l.startsWith("scheduler at: "), Duration.ofSeconds(30));
        return s;
    }

    @Test
    void workersAndClientsReconnectAndFuturesCompleteWithTheRightValues() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String address = "127.0.0.1:" + port;
        Processes.Proc first = scheduler(port);
        Processes.Proc w1 = procs.dist("worker", address, "--nthreads", "1", "--name", "a");
        Processes.Proc w2 = procs.dist("worker", address, "--nthreads", "1", "--name", "b", "--no-nanny");
        w1.awaitLine(l -> l.startsWith("registered with scheduler at: "), Duration.ofSeconds(30));
        w2.awaitLine(l -> l.startsWith("registered with scheduler at: "), Duration.ofSeconds(30));

        try (Client client = Client.connect(address)) {
            List<Integer> xs = IntStream.range(0, 10).boxed().toList();
            List<Future<Integer>> done = client.map(SchedulerReturnTest::square, xs);
            assertEquals(xs.stream().map(x -> x * x).toList(), waitAll(done)); // held on the workers now
            List<Future<Integer>> pending = client.map(SchedulerReturnTest::slowSquare,
                    IntStream.range(10, 30).boxed().toList());
            List<Future<Integer>> all = new ArrayList<>(done);
            all.addAll(pending);
            Future<Integer> total = client.submit(SchedulerReturnTest::sum, Futures.all(all));

            first.process.destroyForcibly(); // SIGKILL: no goodbye to anyone
            first.awaitExit(Duration.ofSeconds(30));
            // both workers saw the loss and are trying to reconnect: the restart meets them mid-retry
            w1.awaitLine(l -> l.contains("lost the scheduler"), Duration.ofSeconds(30));
            w2.awaitLine(l -> l.contains("lost the scheduler"), Duration.ofSeconds(30));
            scheduler(port);

            int expected = IntStream.range(0, 30).map(x -> x * x).sum();
            assertEquals(expected, total.result(T));
            assertEquals(IntStream.range(10, 30).map(x -> x * x).boxed().toList(), waitAll(pending));
            assertEquals(xs.stream().map(x -> x * x).toList(), client.gather(done));
            // new work after the return
            assertEquals(49, client.submit(SchedulerReturnTest::square, 7).result(T));
        }
    }

    private static List<Integer> waitAll(List<Future<Integer>> fs) throws Exception {
        List<Integer> out = new ArrayList<>();
        for (Future<Integer> f : fs) {
            out.add(f.result(T));
        }
        return out;
    }
}
