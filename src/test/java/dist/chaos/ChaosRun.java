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
 * Honest clients against a real cluster (a scheduler process, workers under nannies) while, at once, a
 * client process with thousands of results owed to it is stopped with SIGSTOP, peers announce 2 GB
 * frames and stall, a peer sends a compression bomb, a peer floods 1 MB requests and reads nothing,
 * peers connect and go silent, and a worker is SIGKILLed. Figures: the honest round trips' p99 before
 * and during, wrong results, dashboard answers, the scheduler's peak resident memory, out-of-memory
 * errors in any process, and the hostile peers still connected at the end.
 */
final class ChaosRun {

    /** How long a run lasts and how hard it pushes. */
    record Plan(int quietCalls, int chaosCalls, int stoppedClientTasks, int bigFrames, int bombMiB,
                Duration dropBound) {
        static final Plan QUICK = new Plan(400, 1_200, 60_000, 4, 900, Duration.ofSeconds(40));
        static final Plan SOAK = new Plan(2_000, 20_000, 300_000, 16, 900, Duration.ofSeconds(60));
    }

    /** What a run measured. */
    record Figures(double quietP99Ms, double chaosP99Ms, double chaosMaxMs, long honestCalls, long wrong,
                   long dashboardAnswers, long dashboardFailures, long schedulerPeakRssMiB, boolean schedulerAlive,
                   List<String> outOfMemory, List<String> hostileStillOpen, long floodedMiB,
                   boolean stoppedClientDropLogged, String schedulerLog) {
        @Override
        public String toString() {
            return String.format("honest p99 quiet %.2f ms, under chaos %.2f ms (%.1fx; max %.1f ms) over %d calls,"
                            + " %d wrong; dashboard %d answers, %d failures; scheduler peak RSS %d MiB, alive %s;"
                            + " out of memory: %s; hostile peers still connected: %s; flooded %d MiB;"
                            + " stopped client's drop logged: %s",
                    quietP99Ms, chaosP99Ms, chaosP99Ms / quietP99Ms, chaosMaxMs, honestCalls, wrong,
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
            String dashboard = scheduler.awaitLine(l -> l.startsWith("dashboard at: "), T)
                    .substring("dashboard at: ".length()).trim();
            List<Processes.Proc> nannies = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Processes.Proc w = procs.dist("worker", address, "--nthreads", "1", "--name", "w" + i);
                w.awaitLine(l -> l.startsWith("registered with scheduler at: "), T);
                nannies.add(w);
            }
            try (Client a = Client.connect(address); Client b = Client.connect(address);
                 HostilePeers hostile = new HostilePeers(port)) {
                Options fresh = Options.defaults().pure(false);
                roundTrips(a, fresh, 200, new AtomicLong()); // warm-up
                AtomicLong wrong = new AtomicLong();
                double[] quiet = roundTrips(a, fresh, plan.quietCalls(), wrong);

                Processes.Proc stopped = procs.java("dist.chaos.ChaosClient", address,
                        String.valueOf(plan.stoppedClientTasks()));
                stopped.awaitLine(l -> l.startsWith("submitted "), T);
                signal("STOP", stopped.pid());

                for (int i = 0; i < plan.bigFrames(); i++) {
                    hostile.announceFrameAndStall(2_000_000_000L);
                }
                hostile.compressionBomb(plan.bombMiB());
                hostile.floodRequestsAndReadNothing();
                hostile.silentBeforeHandshake();
                hostile.silentAfterHandshake();

                AtomicBoolean done = new AtomicBoolean();
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
                        nannies.get(0).process.descendants().filter(p -> p.info().command()
                                .map(c -> c.endsWith("java")).orElse(false)).forEach(ProcessHandle::destroyForcibly);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                chaos.add(roundTrips(a, fresh, plan.chaosCalls() - plan.chaosCalls() / 2, wrong));
                other.join(T.toMillis());
                killer.join(T.toMillis());
                done.set(true);
                poller.join(T.toMillis());
                if (other.isAlive()) {
                    throw new AssertionError("the second honest client did not finish within " + T);
                }
                double[] all = chaos.stream().flatMapToDouble(Arrays::stream).toArray();

                boolean dropLogged = waitForLine(scheduler, plan.dropBound(),
                        l -> l.contains(String.valueOf(stopped.pid())) || l.contains("did not read"));
                List<String> stillOpen = hostile.stillOpenAfter(plan.dropBound());
                long rss = peakRssMiB(scheduler.pid());
                boolean alive = scheduler.process.isAlive();
                stopped.process.destroyForcibly();
                List<String> oom = new ArrayList<>();
                for (Processes.Proc p : List.of(scheduler, nannies.get(0), nannies.get(1), stopped)) {
                    if (p.output().contains("OutOfMemoryError")) {
                        oom.add("pid " + p.pid());
                    }
                }
                return new Figures(p99(quiet), p99(all), max(all), (long) quiet.length + all.length, wrong.get(),
                        answers.get(), failures.get(), rss, alive, oom, stillOpen, hostile.floodedBytes.get() >> 20,
                        dropLogged, scheduler.output());
            }
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
        return Processes.eventually(bound, () -> p.output().lines().anyMatch(l ->
                (l.contains("dropped") || l.contains("WARNING")) && match.test(l)));
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

    static double p99(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(s.length * 0.99) - 1)];
    }

    static double max(double[] xs) {
        return Arrays.stream(xs).max().orElse(0);
    }
}
