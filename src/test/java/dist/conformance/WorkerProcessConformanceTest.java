package dist.conformance;

import dist.TaskFailedException;
import dist.Client;
import dist.Future;
import dist.KilledWorkerException;
import dist.LocalCluster;
import dist.Wait;
import dist.config.Config;
import dist.it.Processes;
import dist.protocol.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The {@code worker} command as a real process, ported from dask's test_worker.py (dask starts
 * Worker objects in the test process; here each is a JVM started as a user would, with the
 * command line). Each case starts its own scheduler and workers and kills whatever is left when it
 * ends, passed or failed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WorkerProcessConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    final Processes procs = new Processes();

    @AfterEach
    void cleanup() {
        procs.close();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Starts a scheduler process with {@code args}; returns its address. */
    String scheduler(String... args) throws Exception {
        List<String> all = new java.util.ArrayList<>(List.of("scheduler", "--no-dashboard"));
        all.addAll(List.of(args));
        if (!all.contains("--port")) {
            all.addAll(List.of("--port", "0"));
        }
        Processes.Proc s = procs.dist(all.toArray(String[]::new));
        return s.awaitLine(l -> l.startsWith("scheduler at: "), T).substring("scheduler at: ".length()).trim();
    }

    static String workersOrError(Client c) {
        try {
            return c.workersInfo().toString();
        } catch (Exception e) {
            return e.toString();
        }
    }

    static Map<String, dist.WorkerInfo> workers(Client c) {
        try {
            Map<String, dist.WorkerInfo> m = new java.util.HashMap<>();
            c.workersInfo().forEach(w -> m.put(w.address(), w));
            return m;
        } catch (Exception e) {
            return Map.of();
        }
    }

    /**
     * dask: test_worker.py::test_worker_nthreads, test_start_services, test_identity — a worker started
     * without --nthreads runs one thread per core; its name and memory limit reach the scheduler; its
     * /metrics page serves on the port asked.
     */
    @Test
    void workerOptions() throws Exception {
        String address = scheduler();
        int port = freePort();
        Processes.Proc w = procs.dist("worker", address, "--no-nanny", "--name", "alice", "--memory-limit", "2GB",
                "--dashboard-port", String.valueOf(port));
        w.awaitLine(l -> l.contains("metrics at: http://127.0.0.1:" + port + "/metrics"), T);
        try (Client c = Client.connect(address)) {
            assertTrue(Wait.until(T, () -> workers(c).size() == 1), "registered");
            dist.WorkerInfo info = workers(c).values().iterator().next();
            assertEquals(Runtime.getRuntime().availableProcessors(), info.nthreads());
            assertEquals("alice", info.name());
            assertEquals(2_000_000_000L, info.memoryLimit());
            assertEquals(w.pid(), info.pid());
        }
    }

    /**
     * dask: test_worker.py::test_scheduler_file — a worker started with --scheduler-file joins the
     * scheduler that writes the file: that worker is the scheduler's only one. Started first, the
     * worker waits for the file; the scheduler removes it when shut down.
     */
    @Test
    void schedulerFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("scheduler.json");
        Processes.Proc w = procs.dist("worker", "--scheduler-file", file.toString(), "--no-nanny", "--nthreads", "1");
        String address = scheduler("--scheduler-file", file.toString());
        String workerAddress = w.awaitLine(l -> l.startsWith("worker at: "), T).substring("worker at: ".length()).trim();
        try (Client c = Client.connectSchedulerFile(file)) {
            assertEquals(address, c.address());
            assertTrue(Wait.until(T, () -> workers(c).keySet().equals(java.util.Set.of(workerAddress))),
                    "the worker joined: " + workers(c).keySet());
            c.shutdown();
        }
        assertTrue(Wait.until(T, () -> !Files.exists(file)), "the scheduler removed its file");
    }

    /**
     * dask: test_worker.py::test_scheduler_address_config — a worker given no address joins the
     * scheduler named by distributed.scheduler-address.
     */
    @Test
    void schedulerAddressConfig() throws Exception {
        String address = scheduler();
        Processes.Proc w = procs.javaWith(List.of("-D" + Config.propertyName("distributed.scheduler-address") + "="
                + address), "dist.Main", "worker", "--no-nanny", "--nthreads", "1");
        String line = w.awaitLine(l -> l.startsWith("registered with scheduler at: "), T);
        assertEquals(address, line.substring("registered with scheduler at: ".length()).trim());
        try (Client c = Client.connect(address)) {
            assertTrue(Wait.until(T, () -> workers(c).size() == 1), "registered");
            assertEquals(w.pid(), workers(c).values().iterator().next().pid());
        }
    }

    /**
     * dask: test_worker.py::test_worker_waits_for_scheduler, test_nanny.py::test_wait_for_scheduler — a
     * worker and a nanny started before their scheduler wait for it, without errors or restarts, and
     * join it once it is up.
     */
    @Test
    void waitsForScheduler() throws Exception {
        int port = freePort();
        String address = "127.0.0.1:" + port;
        Processes.Proc bare = procs.dist("worker", address, "--no-nanny", "--nthreads", "1", "--connect-timeout", "60");
        Processes.Proc nanny = procs.dist("nanny", address, "--nthreads", "1", "--connect-timeout", "60");
        assertTrue(bare.process.isAlive() && nanny.process.isAlive());
        scheduler("--port", String.valueOf(port));
        try (Client c = Client.connect(address)) {
            assertTrue(Wait.until(T, () -> workers(c).size() == 2), "both joined: " + workers(c).keySet());
        }
        String log = nanny.output().toLowerCase();
        assertFalse(log.contains("error"), log);
        assertFalse(log.contains("restart"), log);
    }

    /**
     * dask: test_worker.py::test_close_on_disconnect, test_nanny.py::test_close_on_disconnect,
     * test_nanny.py::test_no_hang_when_scheduler_closes — when the cluster is shut down, a bare worker,
     * a nanny and its worker all end.
     */
    @Test
    void closeOnDisconnect() throws Exception {
        String address = scheduler();
        Processes.Proc bare = procs.dist("worker", address, "--no-nanny", "--nthreads", "1");
        Processes.Proc nanny = procs.dist("nanny", address, "--nthreads", "1");
        try (Client c = Client.connect(address)) {
            assertTrue(Wait.until(T, () -> workers(c).size() == 2), "both joined");
            long nannysWorker = workers(c).values().stream().mapToLong(dist.WorkerInfo::pid)
                    .filter(p -> p != bare.pid()).findFirst().orElseThrow();
            c.shutdown();
            bare.awaitExit(T);
            assertEquals(0, nanny.awaitExit(T), nanny.output());
            assertFalse(nanny.output().contains("restarting"), nanny.output());
            ProcessHandle.of(nannysWorker).ifPresent(p -> assertTrue(
                    p.onExit().completeOnTimeout(p, 30, TimeUnit.SECONDS).join().isAlive() == false,
                    "the nanny's worker ended"));
        }
    }

    /**
     * dask: test_nanny.py::test_scheduler_crash_doesnt_restart — a scheduler that dies does not make the
     * nanny start its worker again: the same worker process waits for it and rejoins the scheduler that
     * comes back on its address (dask's worker closes instead).
     */
    @Test
    void schedulerCrashDoesntRestart() throws Exception {
        int port = freePort();
        String address = "127.0.0.1:" + port;
        Processes.Proc s1 = procs.dist("scheduler", "--no-dashboard", "--port", String.valueOf(port));
        s1.awaitLine(l -> l.startsWith("scheduler at: "), T);
        Processes.Proc nanny = procs.dist("nanny", address, "--nthreads", "1");
        long pid;
        try (Client c = Client.connect(address)) {
            assertTrue(Wait.until(T, () -> workers(c).size() == 1), "joined");
            pid = workers(c).values().iterator().next().pid();
        }
        s1.process.destroyForcibly();
        s1.awaitExit(T);
        Processes.Proc s2 = procs.dist("scheduler", "--no-dashboard", "--port", String.valueOf(port));
        s2.awaitLine(l -> l.startsWith("scheduler at: "), T);
        try (Client c = Client.connect(address)) {
            // on failure, all that tells where it stopped: both sides' output, the worker's and this JVM's threads
            assertTrue(Wait.until(T, () -> workers(c).size() == 1), () -> "rejoined; nanny said:\n" + nanny.output()
                    + "\nthe new scheduler said:\n" + s2.output() + "\nthe client sees workers: " + workersOrError(c)
                    + "\nthe worker's threads:\n" + Processes.threadDump(pid, 30_000)
                    + "\nthis JVM's threads:\n" + Processes.threadDump(ProcessHandle.current().pid(), 30_000));
            assertEquals(pid, workers(c).values().iterator().next().pid(), "the same worker process");
        }
        assertTrue(nanny.process.isAlive());
        assertFalse(nanny.output().toLowerCase().contains("restart"), nanny.output());
    }

    static boolean loopback2() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.2"))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * dask: test_worker.py::test_host_address, test_nanny.py::test_worker_uses_same_host_as_nanny,
     * test_worker.py::test_worker_listens_on_same_interface_by_default — a worker listens where --host
     * says, a nanny's worker where the nanny's --host says, and a worker without --host on the
     * scheduler's interface.
     */
    @Test
    void hostAddress() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(loopback2(), "needs 127.0.0.2 to be this machine");
        String address = scheduler("--host", "127.0.0.1");
        procs.dist("worker", address, "--no-nanny", "--nthreads", "1", "--host", "127.0.0.2", "--name", "w2");
        procs.dist("nanny", address, "--nthreads", "1", "--host", "127.0.0.3", "--name", "n3");
        procs.dist("worker", address, "--no-nanny", "--nthreads", "1", "--name", "plain");
        try (Client c = Client.connect(address)) {
            assertTrue(Wait.until(T, () -> workers(c).size() == 3), "three joined: " + workers(c).keySet());
            Map<String, String> byName = new java.util.HashMap<>();
            workers(c).values().forEach(i -> byName.put(i.name(), i.address()));
            assertTrue(byName.get("w2").startsWith("127.0.0.2:"), byName.toString());
            assertTrue(byName.get("n3").startsWith("127.0.0.3:"), byName.toString());
            assertTrue(byName.get("plain").startsWith("127.0.0.1:"), byName.toString());
        }
    }

    /**
     * dask: test_worker.py::test_bad_local_directory — a worker whose local directory cannot be made does
     * not start, says why, and exits with the code that tells a nanny not to try again.
     */
    @Test
    void badLocalDirectory(@TempDir Path tmp) throws Exception {
        String address = scheduler();
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        Processes.Proc w = procs.dist("worker", address, "--no-nanny", "--nthreads", "1",
                "--local-directory", file.resolve("valid-directory").toString());
        assertEquals(78, w.awaitExit(T), w.output());
        assertTrue(w.output().contains("cannot use local directory"), w.output());
    }

    static int halt(int code) {
        Runtime.getRuntime().halt(code);
        return code;
    }

    /** An Error a task throws, as dask's BaseException raised in a task. */
    static final class MyError extends Error {
        MyError(String message) {
            super(message);
        }
    }

    static int raiseError() {
        throw new MyError("this is a MyError");
    }

    /**
     * dask: test_worker.py::test_base_exception_in_task — under a nanny, with allowed-failures 0: a task
     * that throws an Error fails with that Error, and the worker carries on; a task that ends its
     * worker's process (dask's SystemExit) fails with KilledWorkerException, and the nanny starts a
     * new worker.
     */
    @Test
    void baseExceptionInTask() throws Exception {
        try (Config.Override o = Config.set("distributed.scheduler.allowed-failures", 0);
             LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).processes(true)
                     .nannies(true).output(null).start();
             Client c = cluster.client()) {
            assertTrue(cluster.awaitWorkers(1, 30, TimeUnit.SECONDS));
            Future<Integer> e = c.submit(WorkerProcessConformanceTest::raiseError);
            TaskFailedException error = assertThrows(TaskFailedException.class, () -> e.result(T));
            assertInstanceOf(MyError.class, error.getCause());
            assertTrue(error.getCause().getMessage().contains("this is a MyError"));
            long pid = c.workersInfo().get(0).pid();

            Future<Integer> f = c.submit(WorkerProcessConformanceTest::halt, 3);
            TaskFailedException killed = assertThrows(TaskFailedException.class, () -> f.result(T));
            assertInstanceOf(KilledWorkerException.class, killed.getCause());
            assertTrue(killed.getCause().getMessage().contains("exit code 3"), killed.getCause().getMessage());
            assertTrue(Wait.until(T, () -> workers(c).values().stream().anyMatch(i -> i.pid() != pid)),
                    "the nanny started a new worker");
            assertEquals(2, c.submit(WorkerConformanceTest::inc, 1).result(T));
        }
    }

    static int div(int x, int y) {
        return x / y;
    }

    /**
     * dask: test_worker.py::test_log_exception_on_failed_task — a failed task is logged with its error
     * type (dist logs it where the task's state is decided, on the scheduler).
     */
    @Test
    void logExceptionOnFailedTask() throws Exception {
        Processes.Proc s = procs.dist("scheduler", "--no-dashboard", "--port", "0");
        String address = s.awaitLine(l -> l.startsWith("scheduler at: "), T).substring("scheduler at: ".length()).trim();
        procs.dist("worker", address, "--no-nanny", "--nthreads", "1");
        try (Client c = Client.connect(address)) {
            Future<Integer> f = c.submit(WorkerProcessConformanceTest::div, 1, 0);
            assertThrows(TaskFailedException.class, () -> f.result(T));
            s.awaitLine(l -> l.contains(f.key()) && l.contains("ArithmeticException"), T);
        }
    }
    /**
     * A port P with P and P + 1 free on 127.0.0.1, below the usual ephemeral range (32768 up), where the
     * neighbours of a port the system hands out are often taken by outgoing connections.
     */
    static int twoFreePorts() throws IOException {
        for (int i = 0; i < 500; i++) {
            int p = 20_000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(10_000);
            try (ServerSocket first = new ServerSocket(p, 1, InetAddress.getLoopbackAddress());
                 ServerSocket next = new ServerSocket(p + 1, 1, InetAddress.getLoopbackAddress())) {
                return p;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IOException("no two adjacent free ports");
    }

    static int portOf(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }

    /**
     * dask: test_worker.py::test_worker_port_range — workers given a port range take its first free port,
     * then the next; one more finds none and does not start, saying so.
     */
    @Test
    void workerPortRange() throws Exception {
        String address = scheduler();
        int p = twoFreePorts();
        String range = p + ":" + (p + 1);
        try (Client c = Client.connect(address)) {
            procs.dist("worker", address, "--no-nanny", "--nthreads", "1", "--port", range, "--name", "w1");
            assertTrue(Wait.until(T, () -> workers(c).size() == 1), "w1 joined");
            procs.dist("worker", address, "--no-nanny", "--nthreads", "1", "--port", range, "--name", "w2");
            assertTrue(Wait.until(T, () -> workers(c).size() == 2), "w2 joined");
            Map<String, Integer> ports = new java.util.HashMap<>();
            workers(c).values().forEach(i -> ports.put(i.name(), portOf(i.address())));
            assertEquals(Map.of("w1", p, "w2", p + 1), ports);
            Processes.Proc w3 = procs.dist("worker", address, "--no-nanny", "--nthreads", "1", "--port", range);
            assertEquals(78, w3.awaitExit(T), w3.output());
            assertTrue(w3.output().contains("no free port in " + range), w3.output());
        }
    }
    /**
     * dask: test_worker.py::test_lifetime_stagger — workers given a lifetime of 10 s staggered by 2 s each
     * close after a lifetime within a second of 10 s, and two of them rarely the same (so a few are started
     * until two differ).
     */
    @Test
    void lifetimeStagger() throws Exception {
        String address = scheduler();
        java.util.Set<Long> lifetimes = new java.util.HashSet<>();
        for (int i = 0; i < 4 && lifetimes.size() < 2; i++) {
            Processes.Proc w = procs.dist("worker", address, "--no-nanny", "--nthreads", "1", "--lifetime", "10s",
                    "--lifetime-stagger", "2s");
            String line = w.awaitLine(l -> l.startsWith("closing after its lifetime: "), T);
            long ms = Long.parseLong(line.replaceAll("\\D", ""));
            assertTrue(ms >= 9_000 && ms <= 11_000, line);
            lifetimes.add(ms);
        }
        assertEquals(2, lifetimes.size(), lifetimes.toString());
    }
    /**
     * A worker process whose --lifetime ends closes gracefully: the values it holds move to the other
     * worker before it goes, so futures of scattered data (which nothing could recompute) still read.
     * dask: test_worker.py::test_lifetime
     */
    @Test
    void lifetime() throws Exception {
        String address = scheduler();
        procs.dist("worker", address, "--no-nanny", "--nthreads", "1", "--name", "a");
        try (Client c = Client.connect(address)) {
            assertTrue(Wait.until(T, () -> workers(c).size() == 1), "a joined");
            Processes.Proc b = procs.dist("worker", address, "--no-nanny", "--nthreads", "1", "--name", "b",
                    "--lifetime", "2s");
            assertTrue(Wait.until(T, () -> workers(c).size() == 2), "b joined");
            String bAddress = workers(c).values().stream().filter(w -> w.name().equals("b")).findFirst().orElseThrow().address();
            String aAddress = workers(c).values().stream().filter(w -> w.name().equals("a")).findFirst().orElseThrow().address();
            Map<String, Future<Integer>> xs = c.scatter(Map.of("x1", 1, "x2", 2, "x3", 3), List.of(bAddress), false);
            b.awaitLine(l -> l.contains("closing gracefully: its lifetime"), T);
            assertEquals(0, b.awaitExit(T), b.output());
            assertEquals(java.util.Set.of(aAddress), workers(c).keySet());
            for (Map.Entry<String, Future<Integer>> e : xs.entrySet()) {
                assertEquals(List.of(aAddress), c.whoHas(List.of(e.getValue())).get(e.getKey()));
                assertEquals(Integer.parseInt(e.getKey().substring(1)), e.getValue().result(T));
            }
        }
    }

    /**
     * dask: test_worker.py::test_memory_limit_auto — with --memory-limit auto a worker's limit is the
     * machine's memory times its share of the cores: more threads, a larger limit, up to all of it.
     */
    @Test
    void memoryLimitAuto() throws Exception {
        String address = scheduler();
        for (int n : new int[]{1, 2, 100, 200}) {
            procs.dist("worker", address, "--no-nanny", "--nthreads", String.valueOf(n), "--memory-limit", "auto",
                    "--name", "t" + n);
        }
        try (Client c = Client.connect(address)) {
            assertTrue(Wait.until(T, () -> workers(c).size() == 4), "four joined");
            Map<String, Long> limits = new java.util.HashMap<>();
            workers(c).values().forEach(i -> limits.put(i.name(), i.memoryLimit()));
            assertTrue(limits.values().stream().allMatch(l -> l > 0), limits.toString());
            if (Runtime.getRuntime().availableProcessors() > 1) {
                assertTrue(limits.get("t1") < limits.get("t2"), limits.toString());
            }
            assertEquals(limits.get("t100"), limits.get("t200"), limits.toString());
        }
    }
    /** The name of the network interface whose IPv4 address is 127.0.0.1, or null. */
    static String loopbackInterface() throws IOException {
        for (java.net.NetworkInterface ni : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
            if (ni.inetAddresses().anyMatch(a -> a.getHostAddress().equals("127.0.0.1"))) {
                return ni.getName();
            }
        }
        return null;
    }

    /**
     * dask: test_worker.py::test_interface_async[Worker], test_interface_async[Nanny] — a scheduler, a worker
     * and a nanny's worker given the loopback interface by name listen on 127.0.0.1.
     */
    @Test
    void interfaceAsync() throws Exception {
        String lo = loopbackInterface();
        org.junit.jupiter.api.Assumptions.assumeTrue(lo != null, "no interface has 127.0.0.1");
        String address = scheduler("--interface", lo);
        assertTrue(address.startsWith("127.0.0.1:"), address);
        procs.dist("worker", address, "--no-nanny", "--nthreads", "1", "--interface", lo);
        procs.dist("nanny", address, "--nthreads", "1", "--interface", lo);
        try (Client c = Client.connect(address)) {
            assertTrue(Wait.until(T, () -> workers(c).size() == 2), "two joined");
            assertTrue(workers(c).keySet().stream().allMatch(w -> w.startsWith("127.0.0.1:")), workers(c).keySet().toString());
        }
        Processes.Proc bad = procs.dist("worker", address, "--no-nanny", "--interface", "no-such-interface0");
        assertEquals(2, bad.awaitExit(T), bad.output());
        assertTrue(bad.output().contains("no such network interface"), bad.output());
    }
}
