package dist.examples;

import dist.Client;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;

import java.util.List;
import java.util.stream.IntStream;

/**
 * The seed manual's quickstart on a local cluster of two worker processes:
 * {@code ./run.sh demo}.
 */
public final class Quickstart {
    private Quickstart() {
    }

    static int square(int x) {
        return x * x;
    }

    static int neg(int x) {
        return -x;
    }

    static int inc(int x) {
        return x + 1;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true)
                .output(null).start();
             Client client = cluster.client()) {
            System.out.printf("cluster: scheduler at %s, %d worker processes %s, ready in %d ms%n",
                    cluster.schedulerAddress(), cluster.workerCount(), cluster.workerPids(),
                    (System.nanoTime() - t0) / 1_000_000);
            List<Integer> range = IntStream.range(0, 10).boxed().toList();
            List<Future<Integer>> a = client.map(Quickstart::square, range);
            List<Future<Integer>> b = client.map(Quickstart::neg, a);
            Future<Integer> total = client.submit(Quickstart::sum, Futures.all(b));
            System.out.println(">>> total = client.submit(sum, client.map(neg, client.map(square, range(10))))");
            System.out.println(">>> total.result()");
            System.out.println(total.result());
            System.out.println(">>> client.gather(A)");
            System.out.println(client.gather(a));
            System.out.println(">>> client.submit(inc, 10).result()");
            System.out.println(client.submit(Quickstart::inc, 10).result());
        }
    }
}
