package dist.hosts;

import dist.Client;
import dist.Future;
import dist.Futures;
import dist.Options;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

/**
 * The client side of the multi-host tests, run on its own test host:
 * {@code HostProgram SCHEDULER quickstart|p2p|cut}. It prints one line per fact the test checks.
 */
public final class HostProgram {
    static final Duration T = Duration.ofSeconds(60);

    private HostProgram() {
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

    static long sumLongs(List<Long> xs) {
        return xs.stream().mapToLong(Long::longValue).sum();
    }

    static long[] block(int start, int n) {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = start + i;
        }
        return a;
    }

    static long total(long[] a) {
        long s = 0;
        for (long x : a) {
            s += x;
        }
        return s;
    }

    static long slowSquare(int i) throws InterruptedException {
        Thread.sleep(150);
        return (long) i * i;
    }

    public static void main(String[] args) throws Exception {
        try (Client client = Client.connect(args[0], Duration.ofSeconds(30))) {
            awaitWorkers(client, 2);
            switch (args[1]) {
                case "quickstart" -> quickstart(client);
                case "p2p" -> peerToPeer(client);
                case "cut" -> cut(client);
                default -> throw new IllegalArgumentException("unknown mode " + args[1]);
            }
        }
        System.out.println("DONE");
        System.exit(0);
    }

    static void quickstart(Client client) throws Exception {
        List<Future<Integer>> a = client.map(HostProgram::square, IntStream.range(0, 10).boxed().toList());
        List<Future<Integer>> b = client.map(HostProgram::neg, a);
        Future<Integer> total = client.submit(HostProgram::sum, Futures.all(b));
        System.out.println("TOTAL " + total.result(T));
        System.out.println("GATHER " + client.gather(a));
        System.out.println("INC " + client.submit(HostProgram::inc, 10).result(T));
    }

    /** Blocks made on one host, summed on the other: every sum fetches its block across hosts. */
    static void peerToPeer(Client client) throws Exception {
        List<Future<Long>> totals = new ArrayList<>();
        List<Future<long[]>> blocks = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String maker = i % 2 == 0 ? "w2" : "w3";
            String summer = i % 2 == 0 ? "w3" : "w2";
            Future<long[]> blk = client.with(Options.defaults().workers(maker)).submit(HostProgram::block,
                    i * 100_000, 100_000);
            blocks.add(blk);
            totals.add(client.with(Options.defaults().workers(summer)).submit(HostProgram::total, blk));
        }
        System.out.println("RESULT " + client.submit(HostProgram::sumLongs, Futures.all(totals)).result(T));
        int both = 0;
        for (List<String> holders : client.whoHas(blocks).values()) {
            if (holders.size() == 2) {
                both++;
            }
        }
        System.out.println("CROSS " + both);
    }

    /** Work spread over both workers; the test cuts one worker's link half way and later restores it. */
    static void cut(Client client) throws Exception {
        AtomicInteger seen = new AtomicInteger(-1);
        Thread watcher = Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    int n = client.workersInfo().size();
                    if (seen.getAndSet(n) != n) {
                        System.out.println("WORKERS " + n);
                    }
                    Thread.sleep(100);
                }
            } catch (InterruptedException e) {
                // stopped
            } catch (Exception e) {
                System.out.println("WATCH-FAILED " + e);
            }
        });
        List<Future<Long>> parts = client.map(HostProgram::slowSquare, IntStream.range(0, 60).boxed().toList());
        Future<Long> total = client.submit(HostProgram::sumLongs, Futures.all(parts));
        int done = 0;
        for (Future<Long> f : Futures.asCompleted(parts)) {
            if (++done == 16) {
                Map<String, List<String>> who = client.whoHas(parts);
                long onW3 = who.values().stream().filter(h -> h.stream().anyMatch(a -> a.startsWith("dhost3"))).count();
                System.out.println("CUT-NOW held-on-w3=" + onW3);
                break;
            }
        }
        System.out.println("RESULT " + total.result(T));
        // the worker comes back once its link does
        new BufferedReader(new InputStreamReader(System.in)).readLine();
        awaitWorkers(client, 2);
        Future<Integer> there = client.with(Options.defaults().workers("w3")).submit(HostProgram::inc, 41);
        System.out.println("REJOINED " + there.result(T));
        watcher.interrupt();
    }

    static void awaitWorkers(Client client, int n) throws Exception {
        int seen = dist.Wait.value(T, () -> {
            try {
                return client.workersInfo().size();
            } catch (Exception e) {
                return -1; // asked again at the next poll
            }
        }, k -> k >= n);
        if (seen < n) {
            throw new IllegalStateException("only " + Math.max(seen, 0) + " workers after " + T);
        }
    }
}
