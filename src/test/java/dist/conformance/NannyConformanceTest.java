package dist.conformance;

import dist.TaskFailedException;
import dist.DistTimeoutException;
import dist.Client;
import dist.Future;
import dist.KilledWorkerException;
import dist.LocalCluster;
import dist.Options;
import dist.Wait;
import dist.config.Config;
import dist.comm.CommConfig;
import dist.it.Processes;
import dist.nanny.Nanny;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.protocol.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Nannies, ported from dask's test_nanny.py: the {@code nanny} command (and the {@code worker}
 * command, which runs one by default) as real processes, and LocalCluster with nannies. Each case
 * starts its own scheduler and nannies and kills every process left (nannies and the workers they
 * started) when it ends, passed or failed. test_nanny_process_failure is ported in
 * dist.nanny.NannyMachineTest (a worker that ran is started again at once), and seen from a client
 * in WorkerProcessConformanceTest.baseExceptionInTask.
 * <p>Not applicable:
 * <ul>
 * <li>test_run → the nanny's own run RPC; Client.run reaches workers.</li>
 * <li>test_nanny_worker_class, test_nanny_alt_worker_class, test_nanny_closed_by_keyboard_interrupt,
 *     test_worker_start_exception_while_killing → a Python Worker subclass given as worker_class.</li>
 * <li>test_num_fds → dask runs nannies inside the test process; dist's descriptors are checked with a
 *     worker in WorkerConformanceTest.workerFds.</li>
 * <li>test_throttle_outgoing_transfers → sets a worker's internal transfer counters and reads its log.</li>
 * <li>test_mp_process_worker_no_daemon, test_mp_pool_worker_no_daemon, test_no_unnecessary_imports_on_worker,
 *     test_malloc_trim_threshold, test_default_client_does_not_propagate_to_subprocess → Python
 *     multiprocessing, module imports, glibc's malloc and dask.compute's default scheduler.</li>
 * <li>test_close_joins → dask's close waits as long as a worker plugin's teardown blocks; a dist worker
 *     waits for its plugins' teardowns 10 s at most, so closing never hangs on a plugin.</li>
 * <li>test_unwriteable_dask_worker_space → the shared dask-scratch-space folder; a dist worker makes a
 *     fresh dist-worker-* folder of its own (WorkerCloseConformanceTest).</li>
 * </ul>
 * <p>Gap:
 * <ul>
 * </ul>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NannyConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    final Processes procs = new Processes();
    final List<Process> own = new CopyOnWriteArrayList<>();

    @AfterEach
    void cleanup() {
        for (Process p : own) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : own) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        procs.close();
    }

    String scheduler() throws Exception {
        Processes.Proc s = procs.dist("scheduler", "--no-dashboard", "--port", "0");
        return s.awaitLine(l -> l.startsWith("scheduler at: "), T).substring("scheduler at: ".length()).trim();
    }

    /** {@code dist.Main args} with {@code env} added to this process's environment; output dropped. */
    Process distWithEnv(Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), "dist.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(env);
        Process p = pb.start();
        own.add(p);
        return p;
    }

    static Map<String, dist.WorkerInfo> workers(Client c) {
        try {
            Map<String, dist.WorkerInfo> m = new HashMap<>();
            c.workersInfo().forEach(w -> m.put(w.address(), w));
            return m;
        } catch (Exception e) {
            return Map.of();
        }
    }

    /** The one registered worker's pid, once it is a process started by {@code nanny}. */
    static boolean onlyWorkerIsChildOf(Client c, Processes.Proc nanny) {
        Map<String, dist.WorkerInfo> ws = workers(c);
        if (ws.size() != 1) {
            return false;
        }
        long pid = ws.values().iterator().next().pid();
        return nanny.process.descendants().anyMatch(p -> p.pid() == pid);
    }

    /**
     * dask: test_nanny.py::test_scheduler_file — a nanny started with --scheduler-file joins the
     * scheduler that wrote the file: the scheduler's only worker is the nanny's.
     */
    @Test
    void schedulerFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = dir.resolve("scheduler.json");
        Processes.Proc s = procs.dist("scheduler", "--no-dashboard", "--port", "0", "--scheduler-file", file.toString());
        Processes.Proc n = procs.dist("nanny", "--scheduler-file", file.toString(), "--nthreads", "1");
        String address = s.awaitLine(l -> l.startsWith("scheduler at: "), T).substring("scheduler at: ".length()).trim();
        try (Client c = Client.connectSchedulerFile(file)) {
            assertEquals(address, c.address());
            assertTrue(Wait.until(T, () -> onlyWorkerIsChildOf(c, n)), "the nanny's worker joined: " + workers(c));
        }
    }

    /**
     * dask: test_nanny.py::test_scheduler_address_config — a nanny given no address reaches the
     * scheduler named by distributed.scheduler-address, and its worker joins it.
     */
    @Test
    void schedulerAddressConfig() throws Exception {
        String address = scheduler();
        Processes.Proc n = procs.javaWith(List.of("-D" + Config.propertyName("distributed.scheduler-address") + "="
                + address), "dist.Main", "nanny", "--nthreads", "1");
        String line = n.awaitLine(l -> l.contains(" for scheduler at: "), T);
        assertEquals(address, line.substring(line.indexOf(" for scheduler at: ") + " for scheduler at: ".length()).trim());
        try (Client c = Client.connect(address)) {
            assertTrue(Wait.until(T, () -> onlyWorkerIsChildOf(c, n)), "the nanny's worker joined: " + workers(c));
        }
    }

    static Map<String, String> namesByAddress(Client c) {
        Map<String, String> m = new HashMap<>();
        workers(c).values().forEach(w -> m.put(w.address(), w.name()));
        return m;
    }

    /**
     * dask: test_nanny.py::test_environment_variable — each nanny's worker sees the environment its
     * nanny was started with.
     */
    @Test
    void environmentVariable() throws Exception {
        String address = scheduler();
        distWithEnv(Map.of("FOO", "123"), "nanny", address, "--nthreads", "1", "--name", "a");
        distWithEnv(Map.of("FOO", "456"), "nanny", address, "--nthreads", "1", "--name", "b");
        try (Client c = Client.connect(address)) {
            assertTrue(Wait.until(T, () -> workers(c).size() == 2), "two workers");
            Map<String, String> names = namesByAddress(c);
            Map<String, String> results = c.run(() -> System.getenv("FOO"));
            Map<String, String> byName = new HashMap<>();
            results.forEach((addr, v) -> byName.put(names.get(addr), v));
            assertEquals(Map.of("a", "123", "b", "456"), byName);
        }
    }

    /** As {@link #distWithEnv(Map, String...)}, with {@code jvm} options before the main class. */
    Process distWithEnv(Map<String, String> env, List<String> jvm, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(), "-Xmx256m"));
        cmd.addAll(jvm);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dist.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(env);
        Process p = pb.start();
        own.add(p);
        return p;
    }

    static SchedulerServer inProcessScheduler() throws IOException {
        return SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
    }

    static Nanny.Options nannyOptions(String scheduler, String name) {
        return new Nanny.Options(scheduler, List.of("--nthreads", "1", "--name", name, "--no-dashboard"), 0, List.of(),
                null, "");
    }

    static String foo() {
        return System.getenv("FOO");
    }

    static Map<String, String> environment() {
        return new HashMap<>(System.getenv());
    }

    /**
     * dask: test_nanny.py::test_environment_variable_by_config — distributed.nanny.environ must be a map;
     * a worker's variable comes from its nanny's options first, then from the nanny's own environment,
     * then from the config.
     */
    @Test
    void environmentVariableByConfig() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Config.set(Config.NANNY_ENVIRON, "456"));
        assertTrue(e.getMessage().contains("is a map"), e.getMessage());
        assertNull(System.getenv("FOO"), "this test's own process has no FOO");
        List<String> config = List.of("-Ddist.nanny.environ.FOO=456");
        try (SchedulerServer s = inProcessScheduler();
             Config.Override o = Config.set(Config.NANNY_ENVIRON, Map.of("FOO", 456))) {
            distWithEnv(Map.of("FOO", "BAR"), config, "nanny", s.address(), "--nthreads", "1", "--name", "a",
                    "--no-dashboard", "--env", "FOO=123");
            distWithEnv(Map.of("FOO", "BAR"), config, "nanny", s.address(), "--nthreads", "1", "--name", "x",
                    "--no-dashboard");
            try (Nanny b = Nanny.start(nannyOptions(s.address(), "b")); Client c = Client.connect(s.address())) {
                assertTrue(Wait.until(T, () -> workers(c).size() == 3), "three workers");
                Map<String, String> names = namesByAddress(c);
                Map<String, String> byName = new HashMap<>();
                c.run(NannyConformanceTest::foo).forEach((addr, v) -> byName.put(names.get(addr), v));
                assertEquals(Map.of("a", "123", "b", "456", "x", "BAR"), byName);
                assertEquals(Map.of("FOO", "456"), b.env());
            }
        }
    }

    /**
     * dask: test_nanny.py::test_environment_variable_config — the nanny's own variables go over the
     * config's (dask's D; here PATH, which this process has), and the options' over both.
     */
    @Test
    void environmentVariableConfig() throws Exception {
        String path = System.getenv("PATH");
        assertNotNull(path);
        try (SchedulerServer s = inProcessScheduler();
             Config.Override o = Config.set(Config.NANNY_ENVIRON, Map.of("A", 1, "B", 2, "PATH", 4));
             Nanny n = Nanny.start(nannyOptions(s.address(), "n").withEnv(Map.of("B", "3", "C", "4")));
             Client c = Client.connect(s.address())) {
            String w = n.awaitWorker(T);
            assertNotNull(w, "a worker registered");
            Map<String, String> env = c.run(NannyConformanceTest::environment, List.of(w)).get(w);
            assertEquals("1", env.get("A"));
            assertEquals("3", env.get("B"));
            assertEquals("4", env.get("C"));
            assertEquals(path, env.get("PATH"));
        }
    }

    /**
     * dask: test_nanny.py::test_environment_variable_pre_post_spawn, test_environment_variable_overlay —
     * the worker has both pre-spawn-environ and environ variables, which stay out of this process; an
     * overlay changes entries one by one and takes some out, and closing it brings them back.
     */
    @Test
    void environmentVariablePrePostSpawnAndOverlay() throws Exception {
        String pre = Config.NANNY_PRE_SPAWN_ENVIRON + ".", post = Config.NANNY_ENVIRON + ".";
        try (SchedulerServer s = inProcessScheduler();
             Config.Override base = Config.set(Config.NANNY_PRE_SPAWN_ENVIRON, Map.of("PRE-SPAWN", 1));
             Config.Override base2 = Config.set(Config.NANNY_ENVIRON, Map.of("POST-SPAWN", 2));
             Config.Override p1 = Config.set(pre + "PRE1", 1);
             Config.Override p2 = Config.set(pre + "PRE2", 2);
             Config.Override p3 = Config.set(pre + "PRE3", 3);
             Config.Override q1 = Config.set(post + "POST1", 4);
             Config.Override q2 = Config.set(post + "POST2", 5);
             Config.Override q3 = Config.set(post + "POST3", 6);
             Client c = Client.connect(s.address())) {
            Map<String, String> envAfter;
            try (Config.Override o1 = Config.set(pre + "PRE2", 7);
                 Config.Override o2 = Config.unset(pre + "PRE3");
                 Config.Override o3 = Config.set(post + "POST2", 8);
                 Config.Override o4 = Config.unset(post + "POST3");
                 Nanny n = Nanny.start(nannyOptions(s.address(), "n"))) {
                assertEquals(Map.of("PRE-SPAWN", "1", "POST-SPAWN", "2", "PRE1", "1", "PRE2", "7", "POST1", "4",
                        "POST2", "8"), n.env());
                String w = n.awaitWorker(T);
                assertNotNull(w, "a worker registered");
                Map<String, String> env = c.run(NannyConformanceTest::environment, List.of(w)).get(w);
                assertEquals("1", env.get("PRE-SPAWN"));
                assertEquals("2", env.get("POST-SPAWN"));
                assertEquals("1", env.get("PRE1"));
                assertEquals("7", env.get("PRE2"));
                assertFalse(env.containsKey("PRE3"), env.toString());
                assertEquals("4", env.get("POST1"));
                assertEquals("8", env.get("POST2"));
                assertFalse(env.containsKey("POST3"), env.toString());
            }
            assertNull(System.getenv("PRE-SPAWN"));
            assertNull(System.getenv("POST-SPAWN"));
            assertEquals(Map.of("PRE-SPAWN", "1", "PRE1", "1", "PRE2", "2", "PRE3", "3"),
                    Config.getMap(Config.NANNY_PRE_SPAWN_ENVIRON));
            assertEquals(Map.of("POST-SPAWN", "2", "POST1", "4", "POST2", "5", "POST3", "6"),
                    Config.getMap(Config.NANNY_ENVIRON));
        }
    }

    static List<String> configOf() {
        return List.of(Config.get("distributed.scheduler.allowed-failures"),
                Config.get("distributed.worker.reconnect-timeout"));
    }

    /**
     * dask: test_nanny.py::test_config, test_config_param_overlays — configuration given to a nanny reaches
     * its worker: the nanny's own settings, overlaid by those given for the worker (JVM options).
     */
    @Test
    void config() throws Exception {
        String address = scheduler();
        Processes.Proc n = procs.javaWith(List.of("-Ddist.scheduler.allowed-failures=5",
                        "-Ddist.worker.reconnect-timeout=3s"), "dist.Main", "nanny", address, "--nthreads", "1",
                "--worker-jvm-options", "-Ddist.worker.reconnect-timeout=7s");
        try (Client c = Client.connect(address)) {
            assertTrue(Wait.until(T, () -> workers(c).size() == 1), "joined: " + n.output());
            List<String> cfg = c.submit(NannyConformanceTest::configOf).result(T);
            assertEquals("5", cfg.get(0));
            assertEquals("7s", cfg.get(1));
        }
    }

    /**
     * dask: test_nanny.py::test_worker_inherits_temp_config — a key set in code before a cluster starts
     * reaches the workers its nannies start.
     */
    @Test
    void workerInheritsTempConfig() throws Exception {
        try (Config.Override o = Config.set("distributed.scheduler.allowed-failures", 123);
             LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).processes(true)
                     .nannies(true).output(null).start();
             Client c = cluster.client()) {
            assertEquals("123", c.submit(NannyConformanceTest::configOf).result(T).get(0));
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /**
     * dask: test_nanny.py::test_nanny_death_timeout — a nanny whose scheduler never answers gives up after
     * its connect timeout and fails, saying where it looked.
     */
    @Test
    void nannyDeathTimeout() throws Exception {
        String address = "127.0.0.1:" + freePort();
        Processes.Proc n = procs.dist("nanny", address, "--nthreads", "1", "--connect-timeout", "1");
        assertNotEquals(0, n.awaitExit(T), n.output());
        assertTrue(n.output().contains(address), n.output());
    }

    /** Ends this JVM with exit code 0 just after answering: a worker that stops by itself. */
    static String exitCleanly() {
        Thread.ofPlatform().start(() -> System.exit(0));
        return "bye";
    }

    /**
     * dask: test_nanny.py::test_nanny_closes_cleanly_if_worker_is_terminated — a worker process that
     * stops by itself with exit code 0 is not started again: its nanny closes cleanly (exit code 0).
     */
    @Test
    void nannyClosesCleanlyIfWorkerIsTerminated() throws Exception {
        String address = scheduler();
        Processes.Proc n = procs.dist("nanny", address, "--nthreads", "1");
        try (Client c = Client.connect(address)) {
            assertTrue(Wait.until(T, () -> workers(c).size() == 1), "joined");
            long pid = workers(c).values().iterator().next().pid();
            ProcessHandle worker = ProcessHandle.of(pid).orElseThrow();
            try {
                c.run(NannyConformanceTest::exitCleanly);
            } catch (dist.DistException e) {
                // the worker may end before its answer leaves
            }
            assertTrue(Wait.until(T, () -> !worker.isAlive()), "the worker process ended");
            assertEquals(0, n.awaitExit(T), n.output());
            assertTrue(n.output().contains("closed by itself (exit code 0)"), n.output());
            assertTrue(Wait.until(T, () -> workers(c).isEmpty()), "the scheduler lost the worker");
        }
    }

    /**
     * dask: test_nanny.py::test_nanny_closes_cleanly — a nanny asked to stop (SIGTERM) stops its worker
     * process before it exits.
     */
    @Test
    void nannyClosesCleanly() throws Exception {
        String address = scheduler();
        Processes.Proc n = procs.dist("nanny", address, "--nthreads", "1");
        try (Client c = Client.connect(address)) {
            assertTrue(Wait.until(T, () -> workers(c).size() == 1), "joined");
            long pid = workers(c).values().iterator().next().pid();
            ProcessHandle worker = ProcessHandle.of(pid).orElseThrow();
            n.process.destroy();
            n.awaitExit(T);
            assertTrue(Wait.until(T, () -> !worker.isAlive()), "the worker process ended");
            assertTrue(Wait.until(T, () -> workers(c).isEmpty()), "the scheduler lost the worker");
        }
    }

    /**
     * dask: test_nanny.py::test_worker_start_exception, test_failure_during_worker_initialization,
     * test_worker_start_exception_after_process_exit — a worker that cannot start (here its local
     * directory cannot be made) makes its nanny fail with the worker's reason, without restarting it.
     */
    @Test
    void workerStartException(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        String address = scheduler();
        java.nio.file.Path file = java.nio.file.Files.writeString(tmp.resolve("a-file"), "x");
        Processes.Proc n = procs.dist("nanny", address, "--nthreads", "1",
                "--local-directory", file.resolve("broken").toString());
        assertEquals(78, n.awaitExit(T), n.output());
        assertTrue(n.output().contains("cannot use local directory"), n.output());
        assertEquals(1, n.output().lines().filter(l -> l.startsWith("worker: cannot start:")).count(), n.output());
        assertFalse(n.output().contains("restarting"), n.output());
    }

    static long random() {
        return ThreadLocalRandom.current().nextLong();
    }

    /**
     * dask: test_nanny.py::test_random_seed, test_nanny_restart, test_repeated_restarts — two nanny workers
     * draw different random numbers; a restart cancels scattered data and leaves both workers running
     * fresh processes, three times over.
     */
    @Test
    void randomSeedAndRestarts() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true)
                .nannies(true).output(null).start(); Client c = cluster.client()) {
            assertTrue(cluster.awaitWorkers(2, 30, TimeUnit.SECONDS));
            List<String> ws = List.copyOf(c.ncores().keySet());
            Future<Long> x = c.with(Options.defaults().workers(ws.get(0)).pure(false)).submit(NannyConformanceTest::random);
            Future<Long> y = c.with(Options.defaults().workers(ws.get(1)).pure(false)).submit(NannyConformanceTest::random);
            assertNotEquals(x.key(), y.key());
            assertNotEquals(x.result(T), y.result(T));

            Future<Integer> scattered = c.scatter(List.of(123)).get(0);
            assertEquals(1, c.submit(() -> 1).result(T));
            for (int i = 0; i < 3; i++) {
                List<Long> before = cluster.workerPids();
                c.restart();
                assertTrue(Wait.until(T, () -> workers(c).size() == 2
                        && workers(c).values().stream().noneMatch(w -> before.contains(w.pid()))),
                        "two fresh workers: " + workers(c).values() + " before " + before);
                if (i == 0) {
                    assertTrue(scattered.isCancelled(), String.valueOf(scattered.state()));
                }
                assertEquals(1, c.with(Options.defaults().pure(false)).submit(() -> 1).result(T));
            }
        }
    }

    static int hog(int mb) throws InterruptedException {
        List<byte[]> hold = new ArrayList<>();
        for (int i = 0; i < mb; i += 16) {
            byte[] b = new byte[16 << 20];
            java.util.Arrays.fill(b, (byte) 1);
            hold.add(b);
        }
        // the nanny kills the process well before this ends
        new java.util.concurrent.CountDownLatch(1).await(60, TimeUnit.SECONDS);
        return hold.size();
    }

    /**
     * dask: test_nanny.py::test_restart_memory — a worker past its memory limit is stopped by its nanny:
     * the task fails with KilledWorkerException saying so, and a fresh worker joins.
     */
    @Test
    void restartMemory() throws Exception {
        try (Config.Override o = Config.set("distributed.scheduler.allowed-failures", 0);
             LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).processes(true)
                     .nannies(true).memoryLimit(200L << 20).workerJvmArgs("-Xmx600m").output(null).start();
             Client c = cluster.client()) {
            assertTrue(cluster.awaitWorkers(1, 30, TimeUnit.SECONDS));
            long pid = c.workersInfo().get(0).pid();
            Future<Integer> f = c.submit(NannyConformanceTest::hog, 400);
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> f.result(T));
            assertInstanceOf(KilledWorkerException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("memory limit"), e.getCause().getMessage());
            assertTrue(Wait.until(T, () -> workers(c).values().stream().anyMatch(w -> w.pid() != pid)), "a fresh worker");
        }
    }
    static byte[] blob(int i) {
        byte[] b = new byte[256 * 1024];
        b[0] = (byte) i;
        return b;
    }

    /**
     * dask: test_nanny.py::test_local_directory, test_worker.py::test_worker_dir[Nanny] — the workers of two
     * nannies given one local directory keep their files in distinct folders under it.
     */
    @Test
    void localDirectory(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        String address = scheduler();
        java.nio.file.Path dir = tmp.resolve("scratch");
        for (String name : List.of("a", "b")) {
            // results spill past 1% of 400 MB, far below what the nanny's own limit watches
            procs.javaWith(List.of("-Ddist.worker.memory.target=0.01"), "dist.Main", "nanny", address, "--nthreads", "1",
                    "--name", name, "--memory-limit", "400MB", "--local-directory", dir.toString());
        }
        try (Client c = Client.connect(address)) {
            assertTrue(Wait.until(T, () -> workers(c).size() == 2), "two workers");
            for (String w : workers(c).keySet()) {
                List<Future<byte[]>> fs = c.with(Options.defaults().workers(w).pure(false))
                        .map(NannyConformanceTest::blob, java.util.stream.IntStream.range(0, 32).boxed().toList());
                dist.Futures.wait(fs, T);
            }
            try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.list(dir)) {
                List<String> folders = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("dist-worker-")).toList();
                assertEquals(2, folders.size(), folders.toString());
            }
        }
    }
    /**
     * dask: test_nanny.py::test_nanny_port_range — the workers of nannies given a worker port range listen
     * on its ports in turn; a nanny whose worker finds no free port there fails without restarting it.
     * (dask's nanny port range has no counterpart: a nanny listens on no port.)
     */
    @Test
    void nannyPortRange() throws Exception {
        String address = scheduler();
        int p = WorkerProcessConformanceTest.twoFreePorts();
        String range = p + ":" + (p + 1);
        try (Client c = Client.connect(address)) {
            procs.dist("nanny", address, "--nthreads", "1", "--port", range);
            assertTrue(Wait.until(T, () -> workers(c).size() == 1), "first joined");
            procs.dist("nanny", address, "--nthreads", "1", "--port", range);
            assertTrue(Wait.until(T, () -> workers(c).size() == 2), "second joined");
            assertEquals(java.util.Set.of(p, p + 1), workers(c).keySet().stream()
                    .map(WorkerProcessConformanceTest::portOf).collect(java.util.stream.Collectors.toSet()));
            Processes.Proc third = procs.dist("nanny", address, "--nthreads", "1", "--port", range);
            assertEquals(78, third.awaitExit(T), third.output());
            assertTrue(third.output().contains("no free port in " + range), third.output());
            assertFalse(third.output().contains("restarting"), third.output());
        }
    }
    /**
     * dask: test_nanny.py::test_nanny_restart_timeout — a restart that runs out of time says so, and still
     * leaves scattered data cancelled and a cluster that runs tasks.
     */
    @Test
    void nannyRestartTimeout() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).processes(true)
                .nannies(true).output(null).start(); Client c = cluster.client()) {
            Future<Integer> x = c.scatter(List.of(123)).get(0);
            try (Config.Override o = Config.set("distributed.client.restart-timeout", "1ms")) {
                DistTimeoutException e = assertThrows(DistTimeoutException.class, c::restart);
                assertTrue(e.getMessage().contains("restart-timeout"), e.getMessage());
            }
            assertTrue(x.isCancelled(), String.valueOf(x.state()));
            assertEquals(1, c.with(Options.defaults().pure(false)).submit(() -> 1).result(T));
        }
    }
    /**
     * dask: test_nanny.py::test_lifetime (with lifetime_restart) — a nanny's worker closes at the end of its
     * lifetime and a fresh one takes its place, again and again: the scheduler sees three worker processes
     * in turn.
     */
    @Test
    void lifetime() throws Exception {
        String address = scheduler();
        procs.dist("nanny", address, "--nthreads", "1", "--lifetime", "1s");
        try (Client c = Client.connect(address)) {
            java.util.Set<Long> pids = new java.util.HashSet<>();
            assertTrue(Wait.until(Duration.ofSeconds(60), () -> {
                workers(c).values().forEach(w -> pids.add(w.pid()));
                return pids.size() >= 3;
            }), "workers seen: " + pids);
        }
    }
    /** dask: test_nanny.py::test_str — a nanny's text names its worker's address and threads. */
    @Test
    void str() throws Exception {
        try (dist.scheduler.SchedulerServer s = dist.scheduler.SchedulerServer.start("127.0.0.1", 0,
                dist.scheduler.SchedulerConfig.defaults(), dist.comm.CommConfig.DEFAULT);
             dist.nanny.Nanny n = dist.nanny.Nanny.start(new dist.nanny.Nanny.Options(s.address(),
                     List.of("--nthreads", "2", "--no-dashboard"), 0, List.of(), null, ""))) {
            String worker = n.awaitWorker(T);
            assertNotNull(worker, "a worker registered");
            assertTrue(n.toString().contains(worker), n.toString());
            assertTrue(n.toString().contains("--nthreads, 2"), n.toString());
        }
    }
    /**
     * dask: test_nanny.py::test_nanny_restart_timeout_stress — many restarts at once (here eight threads
     * call Client.restart together; each returns or says it ran out of time) leave scattered data
     * cancelled, one worker, and a cluster that runs tasks. dask's random timeouts per call have no
     * counterpart: the restart timeout is one setting.
     */
    @Test
    void nannyRestartTimeoutStress() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).processes(true)
                .nannies(true).output(null).start(); Client c = cluster.client()) {
            Future<Integer> x = c.scatter(List.of(123)).get(0);
            List<java.util.concurrent.CompletableFuture<Object>> restarts = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                restarts.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        c.restart();
                        return "restarted";
                    } catch (Exception e) {
                        return e;
                    }
                }));
            }
            for (var r : restarts) {
                Object outcome = r.get(60, TimeUnit.SECONDS);
                assertTrue(outcome.equals("restarted") || outcome instanceof java.util.concurrent.TimeoutException,
                        String.valueOf(outcome));
            }
            assertTrue(x.isCancelled(), String.valueOf(x.state()));
            assertEquals(1, c.with(Options.defaults().pure(false)).submit(() -> 1).result(T));
            assertTrue(Wait.until(T, () -> workers(c).size() == 1), "one worker: " + workers(c).keySet());
        }
    }

    // ------------------------------------------------------------------ nanny plugins

    static String envAbc() {
        return String.valueOf(System.getenv("ABC"));
    }

    /** The nanny ids whose setup of plugin {@code name} left a file in {@code dir}. */
    static List<String> setUpIn(java.nio.file.Path dir, String name) {
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(dir)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(f -> f.startsWith(name + ".") && f.endsWith(".setup")).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    Processes.Proc nanny(String scheduler, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("nanny", scheduler, "--nthreads", "1", "--host", "127.0.0.1",
                "--no-dashboard"));
        args.addAll(List.of(extra));
        return procs.dist(args.toArray(String[]::new));
    }

    /**
     * dask: test_nanny.py::test_environ_plugin — the Environ plugin sets a variable of every nannied
     * worker: the nanny restarts its worker with it, and a nanny started later starts its worker with
     * it; tasks read it with System.getenv.
     */
    @Test
    void environPlugin() throws Exception {
        try (PluginProbes.Cluster pc = PluginProbes.Cluster.start(1, true)) {
            assertEquals(List.of("null"), List.copyOf(pc.client.run(NannyConformanceTest::envAbc).values()));
            pc.client.registerPlugin(new dist.Environ(Map.of("ABC", "123")));
            assertTrue(Wait.until(T, () -> {
                try {
                    return List.of("123").equals(List.copyOf(pc.client.run(NannyConformanceTest::envAbc).values()));
                } catch (RuntimeException e) {
                    return false; // the worker is being restarted
                }
            }), "the restarted worker has the variable");
            assertEquals("123", pc.client.submit(NannyConformanceTest::envAbc).result(T));
            nanny(pc.cluster.schedulerAddress());
            assertTrue(Wait.until(T, () -> {
                try {
                    Map<String, String> env = pc.client.run(NannyConformanceTest::envAbc);
                    return env.size() == 2 && Set.copyOf(env.values()).equals(Set.of("123"));
                } catch (RuntimeException e) {
                    return false;
                }
            }), "the later nanny's worker has the variable too");
        }
    }

    /**
     * dask: test_nanny.py::test_nanny_plugin_simple — a nanny plugin is set up in the nannies there
     * are before the registration returns, and in a nanny that starts later.
     */
    @Test
    void nannyPluginSimple(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        try (PluginProbes.Cluster pc = PluginProbes.Cluster.start(1, true)) {
            pc.client.registerPlugin(new PluginProbes.NannyRecorder(dir.toString(), "foo", false));
            List<String> first = setUpIn(dir, "foo");
            assertEquals(1, first.size(), first.toString());
            Processes.Proc later = nanny(pc.cluster.schedulerAddress());
            assertTrue(Wait.until(T, () -> setUpIn(dir, "foo").size() == 2), setUpIn(dir, "foo").toString());
            assertTrue(Wait.until(T, () -> pc.addresses().size() == 2), "the later nanny's worker joins");
            // a nanny that stops tears its plugins down
            String id = setUpIn(dir, "foo").stream().filter(f -> !first.contains(f)).findFirst().orElseThrow()
                    .replace(".setup", ".teardown");
            later.process.destroy();
            assertEquals("done", PluginProbes.await(dir.resolve(id)));
        }
    }

    /**
     * dask: test_nanny.py::test_nanny_plugin_register_during_start_success — a plugin registered while
     * a nanny is starting is set up there (before its worker starts, or after with a restart when
     * asked), the registration succeeds and the nanny's worker joins and runs tasks.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void nannyPluginRegisterDuringStartSuccess(boolean restart, @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        try (PluginProbes.Cluster pc = PluginProbes.Cluster.start(0, true)) {
            nanny(pc.cluster.schedulerAddress());
            pc.client.registerPlugin(new PluginProbes.NannyRecorder(dir.toString(), "foo", restart));
            assertTrue(Wait.until(T, () -> setUpIn(dir, "foo").size() == 1), setUpIn(dir, "foo").toString());
            assertTrue(Wait.until(T, () -> pc.addresses().size() == 1), "the nanny's worker joins");
            assertEquals(3, pc.client.submit(NannyConformanceTest::inc, 2).result(T));
        }
    }

    static int inc(int x) {
        return x + 1;
    }

    /**
     * dask: test_nanny.py::test_nanny_plugin_register_during_start_failure — a plugin registered while
     * a nanny starts a worker that cannot start (its port is taken) returns: the nanny that stops is
     * not waited for, and the nanny stops as it would have.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void nannyPluginRegisterDuringStartFailure(boolean restart, @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
             PluginProbes.Cluster pc = PluginProbes.Cluster.start(0, true)) {
            Processes.Proc n = nanny(pc.cluster.schedulerAddress(), "--port", String.valueOf(taken.getLocalPort()));
            pc.client.registerPlugin(new PluginProbes.NannyRecorder(dir.toString(), "foo", restart));
            assertEquals(dist.nanny.NannyMachine.CANNOT_START, n.awaitExit(Duration.ofSeconds(90)), n.output());
            assertEquals(List.of(), pc.addresses());
        }
    }

    /** Marks that its setup began, then blocks (bounded) as dask's nanny blocked in instantiate. */
    public static class BlockingSetup implements dist.NannyPlugin {
        final String dir;
        final boolean restart;

        public BlockingSetup(String dir, boolean restart) {
            this.dir = dir;
            this.restart = restart;
        }

        @Override
        public boolean restart() {
            return restart;
        }

        @Override
        public void setup(dist.nanny.NannyContext nanny) throws Exception {
            PluginProbes.write(java.nio.file.Path.of(dir, "blocking.started"), nanny.id(), false);
            new java.util.concurrent.CountDownLatch(1).await(60, TimeUnit.SECONDS);
        }
    }

    /**
     * dask: test_nanny.py::test_nanny_plugin_register_nanny_killed — a nanny killed while it runs a
     * plugin's setup is not waited for: the registration returns once its link is gone.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void nannyPluginRegisterNannyKilled(boolean restart, @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        try (PluginProbes.Cluster pc = PluginProbes.Cluster.start(0, true)) {
            Processes.Proc n = nanny(pc.cluster.schedulerAddress());
            assertTrue(Wait.until(T, () -> pc.addresses().size() == 1), "the nanny's worker joins");
            java.util.concurrent.CompletableFuture<Void> register = java.util.concurrent.CompletableFuture.runAsync(
                    () -> pc.client.registerPlugin(new BlockingSetup(dir.toString(), restart)));
            assertNotNull(PluginProbes.await(dir.resolve("blocking.started")), "the setup began");
            assertFalse(register.isDone(), "the registration waits for the setup");
            n.process.descendants().forEach(ProcessHandle::destroyForcibly);
            n.process.destroyForcibly();
            register.get(T.toSeconds(), TimeUnit.SECONDS); // returns, without an error
        }
    }

    /**
     * A nanny plugin whose class is on no nanny's class path (compiled here, loaded by a loader of
     * this process only) still sets up: the nanny fetches its class from the registering client
     * through the scheduler, as a worker fetches a task's.
     */
    @Test
    void aNannyPluginsClassComesFromItsClient(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path jar = JarBuilder.jar(dir, "nannyplugin", "shipped.Marker", """
                package shipped;
                public class Marker implements dist.NannyPlugin {
                    private final String file;
                    public Marker(String file) { this.file = file; }
                    @Override public void setup(dist.nanny.NannyContext nanny) throws Exception {
                        java.nio.file.Files.writeString(java.nio.file.Path.of(file), nanny.id());
                    }
                }
                """);
        try (java.net.URLClassLoader loader = new java.net.URLClassLoader(new java.net.URL[]{jar.toUri().toURL()},
                getClass().getClassLoader());
             PluginProbes.Cluster pc = PluginProbes.Cluster.start(1, true)) {
            java.nio.file.Path marker = dir.resolve("marker");
            dist.NannyPlugin plugin = (dist.NannyPlugin) loader.loadClass("shipped.Marker").getConstructor(String.class)
                    .newInstance(marker.toString());
            pc.client.registerPlugin(plugin);
            assertTrue(java.nio.file.Files.exists(marker), "the nanny ran the setup before the registration returned");
            assertTrue(java.nio.file.Files.readString(marker).startsWith("nanny-"));
        }
    }
}
