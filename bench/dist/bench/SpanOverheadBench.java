package dist.bench;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.Span;
import dist.TaskStream;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * What task streams and spans cost: tasks a second through an in-process cluster (2 workers x 1 thread)
 * with nothing open, with a task stream open, and inside two nested spans, rounds interleaved so drift
 * hits all three alike. Prints the median of each and the difference to the plain run.
 *
 * <p>{@code java -cp target/test-classes:target/classes:$(cat target/test.classpath) dist.bench.SpanOverheadBench [tasks] [rounds]}
 * (target/test.classpath: written by {@code ./run.sh bench} or {@code mvn dependency:build-classpath}).
 */
public final class SpanOverheadBench {
    private SpanOverheadBench() {
    }

    static int inc(int x) {
        return x + 1;
    }

    private static double run(Client client, List<Integer> xs) {
        long t0 = System.nanoTime();
        List<Future<Integer>> fs = client.with(dist.Options.defaults().pure(false)).map(SpanOverheadBench::inc, xs);
        client.gather(fs);
        double rate = xs.size() / ((System.nanoTime() - t0) / 1e9);
        fs.forEach(Future::release);
        return rate;
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        List<Integer> xs = IntStream.range(0, n).boxed().toList();
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).start();
             Client client = cluster.client()) {
            for (int i = 0; i < 3 * rounds; i++) {
                run(client, xs); // warm up: the JIT and the heap settle
            }
            double[][] r = new double[3][rounds];
            for (int i = 0; i < rounds; i++) {
                r[0][i] = run(client, xs);
                try (TaskStream ts = client.taskStream()) {
                    r[1][i] = run(client, xs);
                }
                try (Span a = client.span("outer"); Span b = client.span("inner")) {
                    r[2][i] = run(client, xs);
                }
            }
            String[] names = {"plain", "task-stream", "spans"};
            double base = median(r[0]);
            for (int k = 0; k < 3; k++) {
                double m = median(r[k]);
                System.out.printf("%-12s %9.0f tasks/s  %+5.1f%%  rounds %s%n", names[k], m, (m / base - 1) * 100,
                        Arrays.toString(Arrays.stream(r[k]).mapToLong(Math::round).toArray()));
            }
        }
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
