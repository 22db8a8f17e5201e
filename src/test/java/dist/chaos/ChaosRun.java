package dist.chaos;

import dist.Client;
import dist.Options;
import dist.it.Processes;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Honest clients against a real cluster (a scheduler process, three workers) while, at once, a
 * client process with thousands of results owed to it is stopped with SIGSTOP, peers announce 2 GB
 * frames and stall, a peer sends a compression bomb, a peer floods 1 MB requests and reads nothing,
 * peers connect and go silent, and a worker is SIGKILLed. Figures: the honest round trips' p99 before
 * and during, wrong results, dashboard answers, the scheduler's peak resident memory, out-of-memory
 * errors in any process, and the hostile peers still connected at the end.
 */
final class ChaosRun {

    /** How long a run lasts and how hard it pushes. */
    record Plan(int quietCalls, int chaosCalls, int stoppedClientTasks, int bigFrames, int bombMiB,
                int hostileRounds, Duration dropBound) {
        static final Plan QUICK = new Plan(1_200, 1_200, 2_000, 4, 900, 1, Duration.ofSeconds(40));
        /** Rounds of hostile peers every 2 s while 20,000 honest calls run. */
        static final Plan SOAK = new Plan(20_000, 20_000, 4_000, 4, 900, 1_000, Duration.ofSeconds(60));
    }

    /** What a run measured. */
    record Figures(double quietP50Ms, double quietP99Ms, double chaosP50Ms, double chaosP99Ms, double chaosMaxMs, long honestCalls, long wrong,
                   long dashboardAnswers, long dashboardFailures, long schedulerPeakRssMiB, boolean schedulerAlive,
                   List<String> outOfMemory, List<String> hostileStillOpen, long floodedMiB,
                   boolean stoppedClientDropLogged, String schedulerLog) {
        @Override
        public String toString() {
            return String.format("honest round trip p50/p99 quiet %.2f/%.2f ms, under chaos %.2f/%.2f ms"
                            + " (p99 %.1fx; max %.1f ms) over %d calls,"
                            + " %d wrong; dashboard %d answers, %d failures; scheduler peak RSS %d MiB, alive %s;"
                            + " out of memory: %s; hostile peers still connected: %s; flooded %d MiB;"
                            + " stopped client's drop logged: %s",
                    quietP50Ms, quietP99Ms, chaosP50Ms, chaosP99Ms, chaosP99Ms / quietP99Ms, chaosMaxMs, honestCalls, wrong,
                    dashboardAnswers, dashboardFailures, schedulerPeakRssMiB, schedulerAlive, outOfMemory,
                    hostileStillOpen, floodedMiB, stoppedClientDropLogged);
        }
    }

    static final Duration T = Duration.ofSeconds(60);

    /** Deadlines short enough for a test: a peer that reads nothing for 3 s, or says nothing for 6 s, is dropped. */
    static final List<String> SCHEDULER_JVM_ARGS = List.of("-Xmx256m",
            "-Ddist.comm.write-timeout=3s", "-Ddist.comm.idle-timeout=6s", "-Ddist.comm.keepalive=1s");

    static int inc(int x) {
        return x + 1;
    }

    /** A result small enough for the scheduler to forward to its client with the notice. */
    static byte[] block(int x, int bytes) {
        byte[] b = new byte[bytes];
        java.util.Arrays.fill(b, (byte) x);
        return b;
    }

    private ChaosRun() {
    }

    static Figures run(Plan plan) throws Exception {
        try (Processes procs = new Processes()) {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            String address = "127.0.0.1:" + port;
            Processes.Proc scheduler = procs.javaWith(SCHEDULER_JVM_ARGS, "dist.Main", "scheduler", "--port",
                    String.valueOf(port), "--dashboard-port", "0");
            scheduler.awaitLine(l -> l.startsWith("scheduler at: "), T);
            URI link = URI.create(scheduler.awaitLine(l -> l.startsWith("dashboard at: "), T)
                    .substring("dashboard at: ".length()).trim());
            String dashboard = "http://" + link.getHost() + ":" + link.getPort();
            List<Processes.Proc> nannies = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Processes.Proc w = procs.dist("worker", address, "--nthreads", "1", "--name", "w" + i);
                w.awaitLine(l -> l.startsWith("registered with scheduler at: "), T);
                nannies.add(w);
            }
            // the worker to be killed runs without a nanny: a restarted JVM's start-up would only measure
            // two cores shared by one more process, not whether dist holds anyone up
            Processes.Proc doomed = procs.dist("worker", address, "--nthreads", "1", "--name", "doomed", "--no-nanny");
            doomed.awaitLine(l -> l.startsWith("registered with scheduler at: "), T);
            try (Client a = Client.connect(address); Client b = Client.connect(address);
                 HostilePeers hostile = new HostilePeers(port)) {
                Options fresh = Options.defaults().pure(false);
                // for diagnosis: -Dchaos.skip=stop,frames,bomb,flood,silent,kill leaves those out
                java.util.Set<String> skip = java.util.Set.of(System.getProperty("chaos.skip", "").split(","));
                Processes.Proc stopped = procs.java("dist.chaos.ChaosClient", address,
                        String.valueOf(plan.stoppedClientTasks()), String.valueOf(32 << 10));
                stopped.awaitLine(l -> l.startsWith("connected"), T);
                roundTrips(a, fresh, 500, new AtomicLong()); // warm-up
                AtomicLong wrong = new AtomicLong();
                // the quiet figure comes from the same two honest clients at once, with nobody hostile
                double[] quiet = bothClients(a, b, fresh, plan.quietCalls(), wrong);

                stopped.process.getOutputStream().write('\n');
                stopped.process.getOutputStream().flush();
                stopped.awaitLine(l -> l.startsWith("submitted "), T);
                if (!skip.contains("stop")) {
                    signal("STOP", stopped.pid());
                }
                hostileRound(hostile, plan, skip);
                AtomicBoolean done = new AtomicBoolean();
                // the soak keeps the hostile peers coming for as long as the honest clients run
                Thread rounds = Thread.ofVirtual().start(() -> {
                    try {
                        for (int r = 1; r < plan.hostileRounds() && !done.get(); r++) {
                            Thread.sleep(2_000);
                            hostileRound(hostile, plan, skip);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                AtomicLong answers = new AtomicLong();
                AtomicLong failures = new AtomicLong();
                Thread poller = Thread.ofVirtual().start(() -> pollDashboard(dashboard, done, answers, failures));
                List<double[]> chaos = new CopyOnWriteArrayList<>();
                Thread other = Thread.ofVirtual().start(() -> {
                    try {
                        chaos.add(roundTrips(b, fresh, plan.chaosCalls() / 2, wrong));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                // the kill lands while both honest clients are mid-run
                Thread killer = Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(300);
                        if (skip.contains("kill")) {
                            return;
                        }
                        doomed.process.destroyForcibly(); // SIGKILL
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                chaos.add(roundTrips(a, fresh, plan.chaosCalls() - plan.chaosCalls() / 2, wrong));
                other.join(T.toMillis());
                killer.join(T.toMillis());
                done.set(true);
                rounds.join(T.toMillis());
                poller.join(T.toMillis());
                if (other.isAlive()) {
                    throw new AssertionError("the second honest client did not finish within " + T);
                }
                double[] all = chaos.stream().flatMapToDouble(Arrays::stream).toArray();

                boolean dropLogged = waitForLine(scheduler, plan.dropBound(), l -> l.contains("(CLIENT)"));
                List<String> stillOpen = hostile.stillOpenAfter(plan.dropBound());
                long rss = peakRssMiB(scheduler.pid());
                boolean alive = scheduler.process.isAlive();
                stopped.process.destroyForcibly();
                List<String> oom = new ArrayList<>();
                Path logs = Files.createDirectories(Path.of("target", "chaos"));
                String[] names = {"scheduler", "nanny-0", "nanny-1", "stopped-client"};
                List<Processes.Proc> all4 = List.of(scheduler, nannies.get(0), nannies.get(1), stopped);
                for (int i = 0; i < all4.size(); i++) {
                    String out = all4.get(i).output();
                    Files.writeString(logs.resolve(names[i] + ".log"), out); // kept for a failed run's reader
                    String who = names[i];
                    out.lines().filter(l -> l.contains("OutOfMemoryError")).limit(3).forEach(l -> oom.add(who + ": " + l));
                }
                return new Figures(pct(quiet, 0.5), pct(quiet, 0.99), pct(all, 0.5), pct(all, 0.99), max(all), (long) quiet.length + all.length, wrong.get(),
                        answers.get(), failures.get(), rss, alive, oom, stillOpen, hostile.floodedBytes.get() >> 20,
                        dropLogged, scheduler.output());
            }
        }
    }

    /** {@code n} round trips split over two clients running at once; all durations in milliseconds. */
    static double[] bothClients(Client a, Client b, Options o, int n, AtomicLong wrong) throws Exception {
        double[][] second = new double[1][];
        Thread other = Thread.ofVirtual().start(() -> {
            try {
                second[0] = roundTrips(b, o, n / 2, wrong);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        double[] first = roundTrips(a, o, n - n / 2, wrong);
        other.join(T.toMillis());
        if (second[0] == null) {
            throw new AssertionError("the second honest client did not finish within " + T);
        }
        double[] all = Arrays.copyOf(first, first.length + second[0].length);
        System.arraycopy(second[0], 0, all, first.length, second[0].length);
        return all;
    }

    /** One of each hostile peer but the stopped client (left out as {@code skip} says). */
    static void hostileRound(HostilePeers hostile, Plan plan, java.util.Set<String> skip) throws IOException {
        for (int i = 0; i < plan.bigFrames() && !skip.contains("frames"); i++) {
            hostile.announceFrameAndStall(2_000_000_000L);
        }
        if (!skip.contains("bomb")) {
            hostile.compressionBomb(plan.bombMiB());
        }
        if (!skip.contains("flood")) {
            hostile.floodRequestsAndReadNothing();
        }
        if (!skip.contains("silent")) {
            hostile.silentBeforeHandshake();
            hostile.silentAfterHandshake();
        }
    }

    /** Sequential submit-and-wait round trips; their durations in milliseconds. */
    static double[] roundTrips(Client c, Options o, int n, AtomicLong wrong) throws Exception {
        double[] ms = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            int r = c.with(o).submit(ChaosRun::inc, i).result(T);
            ms[i] = (System.nanoTime() - t0) / 1e6;
            if (r != i + 1) {
                wrong.incrementAndGet();
            }
        }
        return ms;
    }

    private static void pollDashboard(String url, AtomicBoolean done, AtomicLong answers, AtomicLong failures) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        while (!done.get()) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/api/status"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                (r.statusCode() == 200 ? answers : failures).incrementAndGet();
                Thread.sleep(200);
            } catch (IOException e) {
                failures.incrementAndGet();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static boolean waitForLine(Processes.Proc p, Duration bound, java.util.function.Predicate<String> match)
            throws InterruptedException {
        return Processes.eventually(bound, () -> p.output().lines().anyMatch(l -> l.contains("dropped") && match.test(l)));
    }

    static void signal(String sig, long pid) throws IOException, InterruptedException {
        Process k = new ProcessBuilder("kill", "-" + sig, String.valueOf(pid)).inheritIO().start();
        if (!k.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) || k.exitValue() != 0) {
            throw new IOException("kill -" + sig + " " + pid + " failed");
        }
    }

    /** VmHWM of a process: its peak resident memory, -1 where /proc does not say. */
    static long peakRssMiB(long pid) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (l.startsWith("VmHWM:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) >> 10;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    static double pct(double[] xs, double q) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s[Math.max(0, Math.min(s.length - 1, (int) Math.ceil(s.length * q) - 1))];
    }

    static double max(double[] xs) {
        return Arrays.stream(xs).max().orElse(0);
    }
}
