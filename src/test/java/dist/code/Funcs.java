package dist.code;

import dist.Client;
import dist.Fn1;
import dist.Future;
import dist.WorkerClient;

import java.time.Duration;

/** Task functions that live only in the test classes: workers started without them must get them shipped. */
public final class Funcs {
    private Funcs() {
    }

    public record Point(int x, int y) {}

    public static Point shift(Point p) {
        return new Point(p.x() + 1, p.y() * 2);
    }

    public static Fn1<Integer, Integer> triple() {
        return x -> x * 3;
    }

    /** Launches its two sub-calls from inside the task and waits on them. */
    public static long fib(int n) throws Exception {
        if (n < 2) {
            return n;
        }
        Client c = WorkerClient.get();
        Future<Long> a = c.submit(Funcs::fib, n - 1);
        Future<Long> b = c.submit(Funcs::fib, n - 2);
        return a.result(Duration.ofSeconds(60)) + b.result(Duration.ofSeconds(60));
    }
}
