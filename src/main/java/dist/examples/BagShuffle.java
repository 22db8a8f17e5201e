package dist.examples;

import dist.Bag;
import dist.Client;
import dist.Fn1;
import dist.Fn2;
import dist.KeyValue;
import dist.LocalCluster;
import dist.Pair;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Bags on real amounts of data, each result checked against the same computation done here:
 * the word frequencies and the distinct words (a shuffle) of generated text, and a join (a
 * shuffle) of two bags of records. The data is generated on the workers from seeds, so only
 * results travel back. {@code ./run.sh example bagshuffle [MB] [RECORDS]} (default 300 MB of text
 * and 1,000,000 records a side, on 4 worker processes).
 *
 * <pre>{@code
 * BagShuffle.Result r = BagShuffle.run(client, 300, 1_000_000, System.out);
 * if (!r.ok()) throw new AssertionError(r);
 * }</pre>
 */
public final class BagShuffle {
    /** Text per generated partition. */
    static final int PARTITION_BYTES = 4 << 20;
    static final Duration T = Duration.ofMinutes(30);

    private BagShuffle() {
    }

    /** What a run found and whether each part matched the local computation. */
    public record Result(long words, int distinctWords, boolean frequenciesMatch, boolean distinctMatches,
                         long joinedPairs, boolean joinMatches) {
        public boolean ok() {
            return frequenciesMatch && distinctMatches && joinMatches;
        }
    }

    /** The words of generated text partition {@code seed}, about {@code bytes} of it, the same every time. */
    public static List<String> words(long seed, int bytes) {
        SplittableRandom r = new SplittableRandom(seed);
        List<String> out = new ArrayList<>(bytes / 6);
        int size = 0;
        while (size < bytes) {
            // Zipf-like: a few very common words and a long tail of rare ones
            int rank = (int) Math.min(1_000_000, Math.floor(Math.pow(1_000_000, r.nextDouble())));
            String w = "w" + Integer.toString(rank, 36);
            out.add(w);
            size += w.length() + 1;
        }
        return out;
    }

    /** Order {@code id} of the left side: its customer. */
    public record Order(int id, int customer) {
    }

    /** Customer {@code id} of the right side. */
    public record Customer(int id, String name) {
    }

    static List<Order> orders(int part, int parts, int n) {
        List<Order> out = new ArrayList<>();
        for (int i = part; i < n; i += parts) {
            out.add(new Order(i, (int) ((i * 2_654_435_761L) % n)));
        }
        return out;
    }

    static List<Customer> customers(int part, int parts, int n) {
        List<Customer> out = new ArrayList<>();
        for (int i = part; i < n; i += parts) {
            out.add(new Customer(i, "c" + i));
        }
        return out;
    }

    public static Result run(Client client, int megabytes, int records, PrintStream out) {
        int nparts = Math.max(1, (int) ((long) megabytes * (1 << 20) / PARTITION_BYTES));
        int bytes = (int) Math.min(PARTITION_BYTES, (long) megabytes * (1 << 20));
        List<Long> seeds = IntStream.range(0, nparts).mapToObj(i -> (long) i).toList();
        Fn1<Long, List<String>> gen = seed -> words(seed, bytes);
        Bag<String> words = Bag.fromSequence(seeds, nparts).flatMap(gen);

        long t0 = System.nanoTime();
        Map<String, Long> freq = new HashMap<>();
        for (KeyValue<String, Long> kv : words.frequencies().compute(client, T)) {
            freq.put(kv.key(), kv.value());
        }
        long t1 = System.nanoTime();
        long distinct = words.distinct().count().compute(client, T);
        long t2 = System.nanoTime();

        Map<String, Long> here = new HashMap<>();
        long total = 0;
        for (long s : seeds) {
            for (String w : words(s, bytes)) {
                here.merge(w, 1L, Long::sum);
                total++;
            }
        }
        boolean freqOk = here.equals(freq);
        boolean distinctOk = distinct == here.size();
        out.printf("words: %,d in %d partitions (%d MB); frequencies %.1f s, %s; distinct %,d in %.1f s, %s%n",
                total, nparts, megabytes, (t1 - t0) / 1e9, freqOk ? "match" : "DIFFER",
                distinct, (t2 - t1) / 1e9, distinctOk ? "match" : "DIFFER");

        int sides = Math.max(2, records / 50_000);
        List<Integer> parts = IntStream.range(0, sides).boxed().toList();
        Fn1<Integer, List<Order>> genOrders = p -> orders(p, sides, records);
        Fn1<Integer, List<Customer>> genCustomers = p -> customers(p, sides, records);
        Fn1<Order, Integer> byCustomer = Order::customer;
        Fn1<Customer, Integer> byId = Customer::id;
        Bag<Pair<Order, Customer>> joined = Bag.fromSequence(parts, sides).flatMap(genOrders)
                .join(Bag.fromSequence(parts, sides).flatMap(genCustomers), byCustomer, byId);
        // checked by a sum over the pairs, so a million pairs need not travel here
        Fn2<Long, Pair<Order, Customer>, Long> mix = (acc, p) -> acc + pairHash(p);
        Fn2<Long, Long, Long> add = Long::sum;
        long t3 = System.nanoTime();
        long count = joined.count().compute(client, T);
        long sum = joined.fold(mix, add, 0L).compute(client, T);
        long t4 = System.nanoTime();
        long expectedSum = 0;
        for (int p = 0; p < sides; p++) {
            for (Order o : orders(p, sides, records)) {
                expectedSum += pairHash(new Pair<>(o, new Customer(o.customer(), "c" + o.customer())));
            }
        }
        boolean joinOk = count == records && sum == expectedSum;
        out.printf("join: %,d orders with %,d customers in %d partitions a side: %,d pairs, twice in %.1f s, %s%n",
                records, records, sides, count, (t4 - t3) / 1e9, joinOk ? "match" : "DIFFER");
        return new Result(total, here.size(), freqOk, distinctOk, count, joinOk);
    }

    static long pairHash(Pair<Order, Customer> p) {
        return p.left().id() * 31L + p.right().id() * 17L + p.right().name().length();
    }

    public static void main(String[] args) throws Exception {
        int mb = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        int records = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        try (LocalCluster cluster = LocalCluster.builder().workers(4).threadsPerWorker(1).processes(true)
                .workerJvmArgs("-Xmx1g").start();
             Client client = cluster.client()) {
            Result r = run(client, mb, records, System.out);
            System.out.println(r.ok() ? "all results match the local computation" : "MISMATCH: " + r);
            if (!r.ok()) {
                System.exit(1);
            }
        }
    }
}
