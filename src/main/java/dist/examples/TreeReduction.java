package dist.examples;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.Progress;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A tree reduction: {@code map(inc)} over {@code 0..n-1}, then add neighbours pairwise, level after
 * level, until one future is left. Every sum runs on a worker with inputs fetched from its peers; the
 * client sees only the last number. {@code ./run.sh example treereduction [N]}.
 *
 * <pre>{@code
 * long total = TreeReduction.run(client, 1000, System.out, false);   // 500500
 * }</pre>
 */
public final class TreeReduction {
    private TreeReduction() {
    }

    public static long inc(long x) {
        return x + 1;
    }

    public static long add(long a, long b) {
        return a + b;
    }

    /** The sum of {@code inc(i)} for i in 0..n-1, reduced in a binary tree on the cluster. */
    public static long run(Client client, int n, PrintStream out, boolean redraw) throws Exception {
        if (n < 1) {
            throw new IllegalArgumentException("the tree needs at least one leaf, got n=" + n);
        }
        List<Long> range = IntStream.range(0, n).mapToObj(i -> (long) i).toList();
        List<Future<Long>> level = client.map(TreeReduction::inc, range);
        List<Future<Long>> all = new ArrayList<>(level);
        int depth = 0;
        int additions = 0;
        while (level.size() > 1) {
            List<Future<Long>> next = new ArrayList<>((level.size() + 1) / 2);
            for (int i = 0; i + 1 < level.size(); i += 2) {
                next.add(client.submit(TreeReduction::add, level.get(i), level.get(i + 1)));
                additions++;
            }
            if (level.size() % 2 == 1) {
                next.add(level.get(level.size() - 1)); // the odd one joins the next level as it is
            }
            all.addAll(next.subList(0, level.size() / 2));
            level = next;
            depth++;
        }
        out.println(n + " leaves, " + depth + " levels, " + additions + " additions");
        Progress.progress(all, out, redraw);
        return level.get(0).result();
    }

    /** {@code treereduction [N]} (default 1000) on a local cluster of 4 thread workers. */
    public static void main(String[] args) throws Exception {
        int n;
        try {
            n = args.length == 0 ? 1000 : Integer.parseInt(args[0]);
            if (n < 1) throw new NumberFormatException();
        } catch (NumberFormatException e) {
            System.err.println("usage: ./run.sh example treereduction [N]   (N: leaves, a whole number of 1 or more; got "
                    + args[0] + ")");
            System.exit(2);
            return;
        }
        try (LocalCluster cluster = LocalCluster.builder().workers(4).threadsPerWorker(1).start();
             Client client = cluster.client()) {
            long total = run(client, n, System.out, System.console() != null);
            long expected = (long) n * (n + 1) / 2;
            System.out.println("sum of inc(i) for i < " + n + " = " + total + (total == expected ? " (exact)"
                    : " (WRONG: expected " + expected + ")"));
        }
    }
}
