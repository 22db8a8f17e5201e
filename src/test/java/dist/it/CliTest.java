package dist.it;

import dist.Client;
import dist.Future;
import dist.Futures;
import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.protocol.Message;
import dist.protocol.Role;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line roles as real processes on 127.0.0.1. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CliTest {
    private final Processes procs = new Processes();

    @AfterEach
    void cleanup() {
        procs.close();
    }

    static int square(int x) {
        return x * x;
    }

    static int neg(int x) {
        return -x;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    /**
     * Follows dask's test_scheduler.py::test_idle_timeout: a scheduler process given an idle timeout,
     * with nothing to do, stops by itself with exit code 0 and says why.
     */
    @Test
    void idleSchedulerExitsByItself() throws Exception {
        Processes.Proc s = procs.javaWith(List.of("-Ddist.scheduler.idle-timeout=300ms"), "dist.Main",
                "scheduler", "--no-dashboard", "--port", "0");
        assertEquals(0, s.awaitExit(Duration.ofSeconds(30)), s.output());
        assertTrue(s.output().contains("idle for 300 ms (idle-timeout-exceeded)"), s.output());
    }

    @Test
    void helpAndBadArgumentsExitWithUsage() throws Exception {
        Processes.Proc help = procs.dist("scheduler", "--help");
        assertEquals(0, help.awaitExit(Duration.ofSeconds(30)));
        assertTrue(help.output().contains("--port"), help.output());

        Processes.Proc badOption = procs.dist("scheduler", "--prot", "1");
        assertEquals(2, badOption.awaitExit(Duration.ofSeconds(30)));
        assertTrue(badOption.output().contains("unknown option --prot"), badOption.output());

        Processes.Proc badAddress = procs.dist("worker", "localhost-without-port");
        assertEquals(2, badAddress.awaitExit(Duration.ofSeconds(30)));
        assertTrue(badAddress.output().contains("must be HOST:PORT"), badAddress.output());

        Processes.Proc badThreads = procs.dist("worker", "127.0.0.1:8786", "--nthreads", "many");
        assertEquals(2, badThreads.awaitExit(Duration.ofSeconds(30)));
        assertTrue(badThreads.output().contains("--nthreads must be a whole number"), badThreads.output());

        Processes.Proc noRole = procs.dist("nonsense");
        assertEquals(2, noRole.awaitExit(Duration.ofSeconds(30)));
        assertTrue(noRole.output().contains("unknown role 'nonsense'"), noRole.output());
    }

    /**
     * A number that cannot work is refused before anything starts (exit 2), naming the flag, the value
     * and what would do: a memory limit below what a worker runs in, no threads, a port past 65535.
     */
    @Test
    void numbersThatCannotWorkAreRefusedNamingTheFlagAndTheValue() throws Exception {
        List<List<String>> cases = List.of(
                List.of("worker", "127.0.0.1:9", "--memory-limit", "10KB", "below the least a worker runs in, 128MiB"),
                List.of("nanny", "127.0.0.1:9", "--memory-limit", "10KB", "--memory-limit 10KB is below"),
                List.of("worker", "127.0.0.1:9", "--memory-limit", "lots", "--memory-limit must be a size such as 4GB"),
                List.of("worker", "127.0.0.1:9", "--memory-limit", "1e30", "got '1e30'"),
                List.of("worker", "127.0.0.1:9", "--nthreads", "0", "--nthreads must be between 1 and 4096, got 0"),
                List.of("worker", "127.0.0.1:9", "--nthreads", "-2", "--nthreads must be between 1 and 4096, got -2"),
                List.of("worker", "127.0.0.1:9", "--port", "70000", "--port takes a port or a range"),
                List.of("worker", "127.0.0.1:9", "--connect-timeout", "0", "--connect-timeout must be between 1"),
                List.of("scheduler", "--port", "70000", "--port must be between 0 and 65535, got 70000"));
        for (List<String> c : cases) {
            Processes.Proc p = procs.dist(c.subList(0, c.size() - 1).toArray(String[]::new));
            assertEquals(2, p.awaitExit(Duration.ofSeconds(30)), c + ": " + p.output());
            assertTrue(p.output().contains(c.get(c.size() - 1)), c + ": " + p.output());
        }
    }

    /**
     * As dask's parse_memory_limit (distributed/worker_memory.py): a memory limit past the machine's
     * memory is said once and the machine's memory is used instead.
     */
    @Test
    void aMemoryLimitPastTheMachinesMemoryIsCappedAndSaidOnce() throws Exception {
        Processes.Proc w = procs.dist("worker", "127.0.0.1:9", "--memory-limit", "100000GB", "--connect-timeout", "1");
        assertEquals(1, w.awaitExit(Duration.ofSeconds(60)), w.output());
        assertEquals(1, w.output().lines().filter(l -> l.contains("--memory-limit 100000GB is more than this machine's"
                + " memory")).count(), w.output());
    }

    /** A taken port is named once with its cause; a dashboard port asked for by name that is taken is an error. */
    @Test
    void takenPortsAreSaidOnceAndAChosenDashboardPortIsNotReplaced() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            Processes.Proc s = procs.dist("scheduler", "--no-dashboard", "--port", String.valueOf(port));
            assertEquals(1, s.awaitExit(Duration.ofSeconds(30)), s.output());
            String out = s.output();
            assertEquals(1, out.split("cannot listen on", -1).length - 1, out);
            assertTrue(out.contains("127.0.0.1:" + port) && out.contains("is another scheduler running there?"), out);

            Processes.Proc d = procs.dist("scheduler", "--port", "0", "--dashboard-port", String.valueOf(port));
            assertEquals(1, d.awaitExit(Duration.ofSeconds(30)), d.output());
            assertTrue(d.output().contains("cannot use --dashboard-port " + port), d.output());
            assertFalse(d.output().contains("using a free port instead"), d.output());
        }
    }

    @Test
    void workerWithNoSchedulerSaysWhereItLooked() throws Exception {
        Processes.Proc w = procs.dist("worker", "127.0.0.1:9", "--connect-timeout", "1");
        assertEquals(1, w.awaitExit(Duration.ofSeconds(30)));
        assertTrue(w.output().contains("127.0.0.1:9"), w.output());
    }

    /**
     * A scheduler that refuses connections: the worker tries for --connect-timeout, then names that flag
     * (not a class of the code) and exits 1.
     */
    @Test
    void anUnreachableSchedulerIsNamedWithTheConnectTimeoutFlag() throws Exception {
        int closed;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            closed = free.getLocalPort();
        }
        Processes.Proc w = procs.dist("worker", "127.0.0.1:" + closed, "--connect-timeout", "1", "--no-nanny");
        assertEquals(1, w.awaitExit(Duration.ofSeconds(30)), w.output());
        String out = w.output();
        assertTrue(out.contains("cannot reach the scheduler at 127.0.0.1:" + closed) && out.contains("connection refused")
                && out.contains("--connect-timeout"), out);
        assertFalse(out.contains("CommConfig"), out);
    }

    /**
     * A scheduler address that takes connections into a full backlog and never answers (as a
     * blackholed address): the wait ends at --connect-timeout, well before the worker's bound here.
     */
    @Test
    void aSilentSchedulerAddressIsGivenUpOnAtTheConnectTimeout() throws Exception {
        try (java.net.ServerSocket full = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            List<java.nio.channels.SocketChannel> queued = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) { // fill the accept queue; later connects get no answer
                    java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open();
                    c.configureBlocking(false);
                    c.connect(full.getLocalSocketAddress());
                    queued.add(c);
                }
                Processes.Proc w = procs.dist("worker", "127.0.0.1:" + full.getLocalPort(), "--connect-timeout", "2",
                        "--no-nanny");
                assertEquals(1, w.awaitExit(Duration.ofSeconds(60)), w.output());
                assertTrue(w.output().contains("--connect-timeout"), w.output());
            } finally {
                for (java.nio.channels.SocketChannel c : queued) {
                    c.close();
                }
            }
        }
    }

    /** A host name that does not resolve is a configuration error: said once, exit 2, no retries. */
    @Test
    void anUnresolvableSchedulerHostIsSaidOnceWithoutRetrying() throws Exception {
        for (String role : List.of("worker", "nanny")) {
            Processes.Proc w = procs.dist(role, "no-such-host.invalid:8786", "--connect-timeout", "600");
            assertEquals(2, w.awaitExit(Duration.ofSeconds(60)), w.output());
            String out = w.output();
            assertEquals(1, out.split("cannot resolve the host name 'no-such-host.invalid'", -1).length - 1, out);
            assertFalse(out.contains("--help"), out);
        }
        // the same for where a role listens, rather than a bare UnresolvedAddressException
        Processes.Proc s = procs.dist("scheduler", "--host", "no-such-host.invalid", "--port", "0");
        assertEquals(2, s.awaitExit(Duration.ofSeconds(60)), s.output());
        assertTrue(s.output().contains("--host no-such-host.invalid: cannot resolve the host name"), s.output());
    }

    /**
     * A worker given the dashboard's port (HTTP, silent until it gets a request line) fails at once
     * saying it is no dist scheduler, long before its --connect-timeout of 10 minutes; a bare worker
     * and a nanny both, with the code of a start no retry cures.
     */
    @Test
    void aWorkerPointedAtTheDashboardSaysItIsNoScheduler() throws Exception {
        try (dist.scheduler.SchedulerServer s = dist.scheduler.SchedulerServer.start("127.0.0.1", 0,
                dist.scheduler.SchedulerConfig.defaults(), CommConfig.DEFAULT);
             dist.dashboard.Dashboard d = dist.dashboard.Dashboard.start(s, "127.0.0.1", 0)) {
            String http = d.url().replaceFirst("^http://", "").replaceFirst("/.*$", "");
            for (String flag : List.of("--no-nanny", "--nanny")) {
                Processes.Proc w = procs.dist("worker", http, "--connect-timeout", "600", flag, "--nthreads", "1");
                assertEquals(dist.nanny.NannyMachine.CANNOT_START, w.awaitExit(Duration.ofSeconds(60)), w.output());
                assertTrue(w.output().contains("is an HTTP server, not a dist endpoint")
                        && w.output().contains("dashboard"), w.output());
            }
        }
    }

    /**
     * dask: test_nanny.py::test_worker_start_exception — a worker JVM that refuses its options stops its
     * nanny at once (exit 78) with one line, rather than after the restart limit.
     */
    @Test
    void aWorkerJvmThatRefusesItsOptionsStopsTheNannyWithOneLine() throws Exception {
        try (dist.scheduler.SchedulerServer s = dist.scheduler.SchedulerServer.start("127.0.0.1", 0,
                dist.scheduler.SchedulerConfig.defaults(), CommConfig.DEFAULT)) {
            Processes.Proc n = procs.dist("nanny", s.address(), "--worker-jvm-options", "-Xmx1z", "--nthreads", "1",
                    "--no-dashboard");
            assertEquals(dist.nanny.NannyMachine.CANNOT_START, n.awaitExit(Duration.ofSeconds(60)), n.output());
            String out = n.output();
            assertEquals(1, out.lines().filter(l -> l.contains("the worker's JVM cannot start")).count(), out);
            assertTrue(out.contains("-Xmx1z") && out.contains("--worker-jvm-options"), out);
            assertFalse(out.contains("restarting it"), out);
        }
    }

    /**
     * The command line logs one line per record (time, level, logger, message), and a nanny stopped by
     * SIGTERM says it stopped, and tells the scheduler so, rather than a closed connection.
     */
    @Test
    void theCommandLineLogsOneLinePerRecordAndASigtermStopSaysItStopped() throws Exception {
        Processes.Proc scheduler = procs.dist("scheduler", "--port", "0", "--no-dashboard");
        String line = scheduler.awaitLine(l -> l.startsWith("scheduler at: "), Duration.ofSeconds(30));
        String address = line.substring("scheduler at: ".length()).trim();
        Processes.Proc nanny = procs.dist("worker", address, "--nthreads", "1", "--no-dashboard");
        String joined = scheduler.awaitLine(l -> l.contains("worker joined:"), Duration.ofSeconds(60));
        assertTrue(joined.matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO +scheduler: worker joined: .*"
                + "1 thread, pid .*"), joined);
        nanny.awaitLine(l -> l.startsWith("registered with scheduler at: "), Duration.ofSeconds(60));
        nanny.process.toHandle().destroy(); // SIGTERM, keeping its output to read (Process.destroy closes it)
        nanny.awaitLine(l -> l.equals("nanny stopped"), Duration.ofSeconds(30));
        assertNotEquals(-1, nanny.awaitExit(Duration.ofSeconds(30)));
        String lost = scheduler.awaitLine(l -> l.contains("worker lost:"), Duration.ofSeconds(30));
        assertTrue(lost.contains("stopped: the nanny was stopped (SIGTERM") && lost.contains("running 0 tasks"), lost);
        assertFalse(scheduler.output().lines().anyMatch(l -> l.startsWith("INFO: ")), scheduler.output());

        Processes.Proc bare = procs.dist("worker", address, "--nthreads", "2", "--no-nanny", "--no-dashboard");
        bare.awaitLine(l -> l.startsWith("registered with scheduler at: "), Duration.ofSeconds(60));
        bare.process.toHandle().destroy();
        bare.awaitLine(l -> l.equals("worker stopped"), Duration.ofSeconds(30));
        assertNotEquals(-1, bare.awaitExit(Duration.ofSeconds(30)));
        String gone = scheduler.awaitLine(l -> l.contains("worker lost:"), Duration.ofSeconds(30));
        assertTrue(gone.contains("its connection closed with no reason given (the process stopped, or was stopped)"),
                gone);
    }

    /** An application's own java.util.logging configuration is left alone: the JDK's format stays. */
    @Test
    void aLoggingConfigGivenByPropertyIsLeftAlone(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path props = java.nio.file.Files.writeString(dir.resolve("logging.properties"), """
                handlers=java.util.logging.ConsoleHandler
                java.util.logging.ConsoleHandler.formatter=java.util.logging.SimpleFormatter
                java.util.logging.SimpleFormatter.format=MINE %4$s %5$s%n
                """);
        try (dist.scheduler.SchedulerServer s = dist.scheduler.SchedulerServer.start("127.0.0.1", 0,
                dist.scheduler.SchedulerConfig.defaults(), CommConfig.DEFAULT)) {
            Processes.Proc nanny = procs.javaWith(List.of("-Djava.util.logging.config.file=" + props), "dist.Main",
                    "nanny", s.address(), "--nthreads", "1", "--no-dashboard");
            String started = nanny.awaitLine(l -> l.contains("started for scheduler at"), Duration.ofSeconds(60));
            assertTrue(started.startsWith("MINE INFO nanny "), started);
        }
    }

    @Test
    void schedulerAndTwoWorkersRunTheQuickstartAndNoticeExits() throws Exception {
        Processes.Proc scheduler = procs.dist("scheduler", "--port", "0");
        String line = scheduler.awaitLine(l -> l.startsWith("scheduler at: "), Duration.ofSeconds(30));
        String address = line.substring("scheduler at: ".length()).trim();

        // a worker waits this long for a lost scheduler to come back before it stops
        Processes.Proc w1 = procs.javaWith(List.of("-Ddist.worker.reconnect-timeout=2s"), "dist.Main",
                "worker", address, "--nthreads", "1", "--name", "alice", "--no-nanny");
        Processes.Proc w2 = procs.dist("worker", address, "--nthreads", "1", "--name", "bob", "--no-nanny");
        w1.awaitLine(l -> l.startsWith("registered with scheduler at: " + address), Duration.ofSeconds(30));
        w2.awaitLine(l -> l.startsWith("registered with scheduler at: " + address), Duration.ofSeconds(30));

        try (Client client = Client.connect(address)) {
            List<Future<Integer>> a = client.map(CliTest::square, IntStream.range(0, 10).boxed().toList());
            List<Future<Integer>> b = client.map(CliTest::neg, a);
            Future<Integer> total = client.submit(CliTest::sum, Futures.all(b));
            assertEquals(-285, total.result(Duration.ofSeconds(30)));
            assertEquals(List.of(0, 1, 4, 9, 16, 25, 36, 49, 64, 81), client.gather(a));
        }

        try (Connection probe = Connection.connect(address, Role.CLIENT, CommConfig.DEFAULT, (c, m, id) -> { })) {
            assertEquals(2, workerCount(probe));
            w2.process.destroy(); // SIGTERM
            assertNotEquals(-1, w2.awaitExit(Duration.ofSeconds(30)));
            assertTrue(Processes.eventually(Duration.ofSeconds(10), () -> workerCount(probe) == 1),
                    "the scheduler should notice the worker's exit");
        }

        scheduler.process.destroy(); // SIGTERM: clean stop; its worker follows once it gives up reconnecting
        scheduler.awaitExit(Duration.ofSeconds(30));
        w1.awaitExit(Duration.ofSeconds(30));
    }

    /** A client's shutdown() stops the scheduler process itself, not only its port, and its workers. */
    @Test
    void theSchedulerProcessExitsAfterAClientShutsTheClusterDown() throws Exception {
        Processes.Proc scheduler = procs.dist("scheduler", "--port", "0", "--no-dashboard");
        String line = scheduler.awaitLine(l -> l.startsWith("scheduler at: "), Duration.ofSeconds(30));
        String address = line.substring("scheduler at: ".length()).trim();
        Processes.Proc worker = procs.dist("worker", address, "--nthreads", "1", "--no-nanny");
        worker.awaitLine(l -> l.startsWith("registered with scheduler at: "), Duration.ofSeconds(30));
        try (Client client = Client.connect(address)) {
            assertEquals(49, client.submit(CliTest::square, 7).result(Duration.ofSeconds(30)));
            client.shutdown();
        }
        assertEquals(0, scheduler.awaitExit(Duration.ofSeconds(30)), scheduler.output());
        worker.awaitExit(Duration.ofSeconds(30));
    }

    /**
     * The worker options a bare worker takes work under its nanny too (the default): resources, and
     * a fixed /metrics port that the worker the nanny starts after a SIGKILL serves again.
     */
    @Test
    void workerUnderNannyKeepsResourcesAndItsMetricsPortAcrossRestarts() throws Exception {
        Processes.Proc scheduler = procs.dist("scheduler", "--port", "0", "--no-dashboard");
        String line = scheduler.awaitLine(l -> l.startsWith("scheduler at: "), Duration.ofSeconds(30));
        String address = line.substring("scheduler at: ".length()).trim();
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        Processes.Proc nanny = procs.dist("worker", address, "--nthreads", "1", "--nprocs", "1", "--resources", "GPU=2",
                "--dashboard-port", String.valueOf(port), "--host", "127.0.0.1");
        String url = "http://127.0.0.1:" + port + "/metrics";
        nanny.awaitLine(l -> l.contains("metrics at: " + url), Duration.ofSeconds(30));

        try (Connection probe = Connection.connect(address, Role.CLIENT, CommConfig.DEFAULT, (c, m, id) -> { })) {
            assertTrue(Processes.eventually(Duration.ofSeconds(30), () -> workerCount(probe) == 1), "worker registered");
            Message.WorkerInfo first = workers(probe).get(0);
            try (Client client = Client.connect(address)) { // runs only where a GPU is offered
                assertEquals(49, client.with(dist.Options.defaults().resource("GPU", 1)).submit(CliTest::square, 7)
                        .result(Duration.ofSeconds(30)));
            }
            assertEquals(200, httpStatus(url));

            ProcessHandle.of(first.pid()).orElseThrow().destroyForcibly(); // SIGKILL the worker, not its nanny
            nanny.awaitLine(l -> l.contains("metrics at: " + url), Duration.ofSeconds(60));
            assertTrue(Processes.eventually(Duration.ofSeconds(30),
                    () -> workerCount(probe) == 1 && workers(probe).get(0).pid() != first.pid()), "worker restarted");
            assertEquals(200, httpStatus(url));
        }
        nanny.process.destroy(); // SIGTERM: the nanny stops its worker and exits
        nanny.awaitExit(Duration.ofSeconds(30));
    }

    private static int httpStatus(String url) throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).timeout(Duration.ofSeconds(10))
                .build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static List<Message.WorkerInfo> workers(Connection probe) {
        try {
            Message reply = probe.request(new Message.WorkersRequest()).get(10, TimeUnit.SECONDS);
            return ((Message.WorkersReply) reply).workers();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static int workerCount(Connection probe) {
        try {
            Message reply = probe.request(new Message.WorkersRequest()).get(10, TimeUnit.SECONDS);
            return ((Message.WorkersReply) reply).workers().size();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
