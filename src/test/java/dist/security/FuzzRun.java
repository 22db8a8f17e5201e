package dist.security;

import dist.Client;
import dist.LocalCluster;
import dist.Options;
import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.Security;
import dist.comm.Server;
import dist.protocol.FrameLimits;
import dist.protocol.Message;
import dist.protocol.Role;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One fuzz campaign: a thread-mode cluster (scheduler and worker listeners) plus a TLS-and-token
 * listener, an honest client running tasks and an honest TLS peer pinging throughout, and the
 * {@link FuzzDriver} feeding every listener. Figures: inputs, hangs, errors logged, honest work done,
 * platform threads, heap after GC and open file descriptors before and after.
 */
final class FuzzRun {

    /** The campaign's figures. */
    record Figures(FuzzDriver.Report report, long honestTasks, long honestStalls, long honestPings,
                   Throwable honestFailure,
                   long severeLogs, int threadsBefore, int threadsAfter, long heapBefore, long heapAfter,
                   long fdsBefore, long fdsAfter, long millis) {
        @Override
        public String toString() {
            return report + " in " + millis + " ms; honest: " + honestTasks + " tasks (" + honestStalls
                    + " stalled past 30 s), " + honestPings + " TLS pings"
                    + (honestFailure != null ? ", FAILED: " + honestFailure : "") + "; severe logs " + severeLogs
                    + "; platform threads " + threadsBefore + " -> " + threadsAfter + "; heap after GC "
                    + (heapBefore >> 20) + " MiB -> " + (heapAfter >> 20) + " MiB; open fds " + fdsBefore + " -> "
                    + fdsAfter;
        }
    }

    /** How often a long campaign prints where it is. */
    static final long PROGRESS_MILLIS = Long.getLong("fuzz.progress-millis", 60_000);

    static int inc(int x) {
        return x + 1;
    }

    private FuzzRun() {
    }

    /** Held strongly: java.util.logging forgets the level of a logger nobody references. */
    private static final Logger DIST_LOG = Logger.getLogger("dist");
    private static final Logger COMM_LOG = Logger.getLogger("dist.comm");

    static Figures run(long inputs, int threads, long seed) throws Exception {
        Logger comm = DIST_LOG;
        Level before = comm.getLevel();
        AtomicLong severe = new AtomicLong();
        java.util.logging.Handler count = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if ((!r.getLoggerName().equals("dist.comm") || Boolean.getBoolean("fuzz.verbose"))
                        && r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    System.err.println("fuzz: " + r.getLoggerName() + " " + r.getLevel() + ": " + r.getMessage()
                            + (r.getThrown() != null ? " " + r.getThrown() : ""));
                }
                if (r.getLevel().intValue() >= Level.SEVERE.intValue()) {
                    severe.incrementAndGet();
                    System.err.println("SEVERE during fuzzing: " + r.getMessage()
                            + (r.getThrown() != null ? " " + r.getThrown() : ""));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        // every refused input is logged as a warning: keep only the severe ones, and count them
        comm.setLevel(Level.WARNING);
        COMM_LOG.setLevel(Boolean.getBoolean("fuzz.verbose") ? Level.WARNING : Level.SEVERE);
        comm.addHandler(count);
        Certs certs = Certs.get();
        CommConfig secure = SecNet.QUICK.withSecurity(Security.none().withToken("fuzz-token-abcdef")
                .withTls(certs.caPem, certs.scheduler.certPem(), certs.scheduler.keyPem()));
        CommConfig secureClient = SecNet.QUICK.withSecurity(Security.none().withToken("fuzz-token-abcdef")
                .withTls(certs.caPem, certs.client.certPem(), certs.client.keyPem()));
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(2).dashboard(0).start();
             Client client = cluster.client();
             Server tlsServer = Server.listen("127.0.0.1", 0, Role.SCHEDULER, secure, c -> SecNet.echo());
             Connection tlsPeer = SecNet.connect(tlsServer.port(), secureClient);
             // a worker of its own, for its /metrics page: the thread workers of a local cluster serve none
             dist.worker.WorkerServer metricsWorker = dist.worker.WorkerServer.start(new dist.worker.WorkerServer.Options(
                     cluster.schedulerAddress(), "127.0.0.1", 0, 1, "fuzz-metrics", 0, 8 * 1024, CommConfig.DEFAULT));
             dist.dashboard.WorkerDashboard metrics = dist.dashboard.WorkerDashboard.start(metricsWorker, "127.0.0.1", 0)) {
            String worker = client.ncores().keySet().iterator().next();
            List<FuzzDriver.Target> targets = new ArrayList<>(List.of(
                    new FuzzDriver.Target("scheduler", port(cluster.schedulerAddress()), true),
                    new FuzzDriver.Target("worker", port(worker), true),
                    new FuzzDriver.Target("tls+token", tlsServer.port(), false),
                    new FuzzDriver.Target("dashboard", java.net.URI.create(cluster.dashboardLink().orElseThrow()).getPort(), false, true),
                    new FuzzDriver.Target("worker-metrics", java.net.URI.create(metrics.url()).getPort(), false, true)));
            String only = System.getProperty("fuzz.targets");
            if (only != null) {
                targets.removeIf(t -> !only.contains(t.name()));
            }
            FuzzDriver driver = new FuzzDriver(new FrameLimits(CommConfig.DEFAULT.maxFrames(),
                    CommConfig.DEFAULT.maxFrameBytes(), CommConfig.DEFAULT.maxMessageBytes()));
            Options fresh = Options.defaults().pure(false);
            assertEq(11, client.with(fresh).submit(FuzzRun::inc, 10).result(Duration.ofSeconds(30)));
            int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
            long heapBefore = heapAfterGc();
            long fdsBefore = fds();

            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong tasks = new AtomicLong();
            AtomicLong stalls = new AtomicLong();
            AtomicLong pings = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> honest = new ArrayList<>();
            honest.add(Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; !stop.get(); i++) {
                        int got;
                        try {
                            got = client.with(fresh).submit(FuzzRun::inc, i).result(Duration.ofSeconds(30));
                        } catch (dist.DistTimeoutException stalled) {
                            // counted and reported (the test allows none), the next one must still be served
                            stalls.incrementAndGet();
                            continue;
                        }
                        if (got != i + 1) {
                            throw new AssertionError("inc(" + i + ") gave " + got);
                        }
                        tasks.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
            honest.add(Thread.ofVirtual().start(() -> {
                try {
                    for (long i = 0; !stop.get(); i++) {
                        Message m = tlsPeer.request(new Message.Ping(i)).get(30, TimeUnit.SECONDS);
                        if (!m.equals(new Message.Ping(i))) {
                            throw new AssertionError("ping " + i + " answered " + m);
                        }
                        pings.incrementAndGet();
                        Thread.sleep(5);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
            long t0 = System.nanoTime();
            FuzzDriver.Report live = new FuzzDriver.Report();
            Thread progress = Thread.ofVirtual().start(() -> {
                try {
                    while (!stop.get()) {
                        Thread.sleep(PROGRESS_MILLIS);
                        System.out.println("fuzz progress: " + live + " after " + (System.nanoTime() - t0) / 1_000_000
                                + " ms; honest " + tasks.get() + " tasks, " + stalls.get() + " stalled, " + pings.get()
                                + " pings; heap used " + (ManagementFactory.getMemoryMXBean().getHeapMemoryUsage()
                                .getUsed() >> 20) + " MiB");
                    }
                } catch (InterruptedException e) {
                    // done
                }
            });
            FuzzDriver.Report report = driver.run(targets, inputs, threads, seed, live);
            progress.interrupt();
            long millis = (System.nanoTime() - t0) / 1_000_000;
            stop.set(true);
            for (Thread t : honest) {
                t.join(60_000);
            }
            // the listeners are still fine after the campaign
            assertEq(43, client.with(fresh).submit(FuzzRun::inc, 42).result(Duration.ofSeconds(30)));
            int threadsAfter = settledThreads(threadsBefore);
            long heapAfter = heapAfterGc();
            long fdsAfter = settledFds(fdsBefore);
            return new Figures(report, tasks.get(), stalls.get(), pings.get(), failure.get(), severe.get(), threadsBefore,
                    threadsAfter, heapBefore, heapAfter, fdsBefore, fdsAfter, millis);
        } finally {
            comm.removeHandler(count);
            comm.setLevel(before);
            COMM_LOG.setLevel(null);
        }
    }

    /** On a failure of the honest client: every thread's stack (virtual ones too), for the report. */
    static void dumpThreads() {
        try {
            java.nio.file.Path f = java.nio.file.Files.createTempFile("dist-fuzz-threads", ".txt");
            java.nio.file.Files.delete(f);
            ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                    .dumpThreads(f.toString(), com.sun.management.HotSpotDiagnosticMXBean.ThreadDumpFormat.TEXT_PLAIN);
            System.err.println("fuzz: thread dump in " + f);
        } catch (Exception e) {
            System.err.println("fuzz: no thread dump: " + e);
        }
    }

    private static void assertEq(int want, int got) {
        if (want != got) {
            throw new AssertionError("expected " + want + ", got " + got);
        }
    }

    static int port(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }

    /**
     * Platform threads, after waiting (bounded) for them to come down to within the two of
     * {@code target} that the test allows: one pool thread of the JDK may outlive the run, and waiting
     * for the exact count then took the whole bound every run.
     */
    private static int settledThreads(int target) throws InterruptedException {
        var mx = ManagementFactory.getThreadMXBean();
        return dist.Wait.value(java.time.Duration.ofSeconds(15), mx::getThreadCount, n -> n <= target + 2);
    }

    private static long heapAfterGc() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    static long fds() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean u) {
            return u.getOpenFileDescriptorCount();
        }
        return -1;
    }

    /** Open descriptors, after waiting (bounded) for closing sockets (the close linger) to go. */
    private static long settledFds(long target) throws InterruptedException {
        return dist.Wait.value(java.time.Duration.ofSeconds(15), FuzzRun::fds, n -> n <= target + 8);
    }
}
