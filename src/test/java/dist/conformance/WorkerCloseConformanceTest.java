package dist.conformance;

import dist.Client;
import dist.Future;
import dist.Futures;
import dist.Options;
import dist.Wait;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Workers that close, and where workers keep their files, ported from dask's test_worker.py. Each
 * case starts its own scheduler and thread workers, as it closes them. A worker's local directory
 * holds its spill folder ({@code dist-worker-*}, made on the first spill), so the cases give workers
 * a small memory limit and results that spill.
 *
 * test_lifetime is ported in WorkerProcessConformanceTest (--lifetime is a flag of the worker command).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WorkerCloseConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    SchedulerServer scheduler;
    Client client;
    final List<WorkerServer> workers = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        scheduler = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        client = Client.connect(scheduler.address());
    }

    @AfterEach
    void stop() {
        release.countDown();
        client.close();
        workers.forEach(WorkerServer::close);
        scheduler.close();
    }

    WorkerServer worker(String name, long memoryLimit, Path localDirectory) throws IOException {
        WorkerServer w = WorkerServer.start(new WorkerServer.Options(scheduler.address(), "127.0.0.1", 0, 1, name,
                memoryLimit, 8 * 1024, CommConfig.DEFAULT), Map.of(), localDirectory);
        workers.add(w);
        return w;
    }

    static volatile CountDownLatch started = new CountDownLatch(0);
    static volatile CountDownLatch release = new CountDownLatch(0);

    static int blocking(int x) throws InterruptedException {
        started.countDown();
        release.await(30, TimeUnit.SECONDS);
        return x;
    }

    String stateOf(String key) {
        try {
            Object s = scheduler.query(st -> st.view().stateOf(key), 10, TimeUnit.SECONDS);
            return String.valueOf(s);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /**
     * dask: test_worker.py::test_close_while_executing — closing the only worker while its task runs
     * sends the task back to wait for a worker; a new worker then runs it.
     */
    @Test
    void closeWhileExecuting() throws Exception {
        started = new CountDownLatch(1);
        release = new CountDownLatch(1);
        WorkerServer a = worker("a", 0, null);
        Future<Integer> f1 = client.with(Options.defaults().key("f1")).submit(WorkerCloseConformanceTest::blocking, 7);
        assertTrue(started.await(30, TimeUnit.SECONDS), "f1 started");
        a.close();
        assertTrue(Wait.until(T, () -> Set.of("queued", "no-worker").contains(stateOf("f1"))), "f1 waits: " + stateOf("f1"));
        assertFalse(f1.isDone());
        release.countDown();
        worker("b", 0, null);
        assertEquals(7, f1.result(T));
    }

    static byte[] blob(int i) {
        byte[] b = new byte[256 * 1024];
        b[0] = (byte) i;
        return b;
    }

    /** Makes {@code w} spill: results of 256 KiB each past a 1 MiB limit. */
    void spill(WorkerServer w) throws Exception {
        List<Future<byte[]>> fs = client.with(Options.defaults().workers(w.address()).pure(false))
                .map(WorkerCloseConformanceTest::blob, IntStream.range(0, 8).boxed().toList());
        Futures.wait(fs, T);
        assertEquals(8, client.hasWhat(List.of(w.address())).get(w.address()).size());
    }

    static Set<Path> spillFolders(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Set.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("dist-worker-")).collect(Collectors.toSet());
        }
    }

    /**
     * dask: test_worker.py::test_worker_dir[Worker], test_local_directory_make_new_directory — workers given
     * a local directory (missing folders are made) keep their files in distinct folders under it, and
     * remove them when they close.
     */
    @Test
    void workerDir(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("foo").resolve("bar");
        WorkerServer a = worker("a", 1 << 20, dir);
        WorkerServer b = worker("b", 1 << 20, dir);
        assertTrue(Files.isDirectory(dir), "the local directory is made at start");
        spill(a);
        spill(b);
        Set<Path> folders = spillFolders(dir);
        assertEquals(2, folders.size(), "one folder per worker: " + folders);
        a.close();
        b.close();
        assertTrue(Wait.until(T, () -> {
            try {
                return spillFolders(dir).isEmpty();
            } catch (IOException e) {
                return false;
            }
        }), "folders removed on close");
    }

    /**
     * dask: test_worker.py::test_default_worker_dir, test_local_directory — without a local directory a
     * worker's folder goes under the system's temporary directory.
     */
    @Test
    void defaultWorkerDir() throws Exception {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Set<Path> before = spillFolders(tmp);
        WorkerServer a = worker("a", 1 << 20, null);
        spill(a);
        Set<Path> now = new java.util.HashSet<>(spillFolders(tmp));
        now.removeAll(before);
        assertFalse(now.isEmpty(), "a dist-worker-* folder under " + tmp);
    }

    /**
     * dask: test_worker.py::test_bad_local_directory — a local directory that cannot be made fails the
     * worker's start with an I/O error, and the scheduler carries on.
     */
    @Test
    void badLocalDirectory(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        IOException e = assertThrows(IOException.class, () -> worker("bad", 1 << 20, file.resolve("valid-directory")));
        assertTrue(e.getMessage().contains("valid-directory"), e.getMessage());
        assertTrue(client.ncores().isEmpty());
        worker("good", 0, null);
        assertEquals(2, client.submit(WorkerCloseConformanceTest::blocking, 2).result(T));
    }
    static final java.util.Map<String, Client> workerClients = new java.util.concurrent.ConcurrentHashMap<>();

    /** The id of the worker's own client, kept here by its id so the test can watch it. */
    static String workerClientId(int i) {
        Client c = dist.WorkerClient.get();
        workerClients.put(c.id(), c);
        return c.id();
    }

    /**
     * dask: test_worker.py::test_worker_client_closes_if_created_on_worker_one_worker,
     * test_worker_client_closes_if_created_on_worker_last_worker_alive — tasks get their worker's own
     * client (not the submitting one), the same one each time; it closes when its worker closes, and
     * the submitting client carries on. Each worker has its own (dask shares one per process, so
     * there closing the last worker closes it): closing a leaves b's open.
     */
    @Test
    void workerClientClosesWithItsWorker() throws Exception {
        WorkerServer a = worker("a", 0, null);
        WorkerServer b = worker("b", 0, null);
        Options onA = Options.defaults().workers(a.address()).pure(false);
        Options onB = Options.defaults().workers(b.address()).pure(false);
        String newId = client.with(onA).submit(WorkerCloseConformanceTest::workerClientId, 1).result(T);
        assertNotEquals(client.id(), newId);
        assertEquals(newId, client.with(onA).submit(WorkerCloseConformanceTest::workerClientId, 2).result(T));
        String bId = client.with(onB).submit(WorkerCloseConformanceTest::workerClientId, 3).result(T);
        Client onAClient = workerClients.get(newId), onBClient = workerClients.get(bId);
        assertFalse(onAClient.isClosed());
        a.close();
        assertTrue(onAClient.isClosed(), "a's client closes with a");
        assertFalse(onBClient.isClosed(), "b's client stays");
        assertEquals(bId, client.with(onB).submit(WorkerCloseConformanceTest::workerClientId, 4).result(T));
        b.close();
        assertTrue(onBClient.isClosed(), "b's client closes with b");
        assertFalse(client.isClosed());
    }

    static volatile CountDownLatch inTask = new CountDownLatch(0);
    static volatile CountDownLatch unblock = new CountDownLatch(0);

    static int blockAndRaise() throws InterruptedException {
        inTask.countDown();
        unblock.await(30, TimeUnit.SECONDS);
        return 1 / 0;
    }

    /**
     * dask: test_worker.py::test_suppress_compute_failure_for_cancelled_tasks — a task that fails after its
     * future was released is not reported: nothing is logged at warning level or above.
     */
    @Test
    void suppressComputeFailureForCancelledTasks() throws Exception {
        WorkerServer a = worker("a", 0, null);
        inTask = new CountDownLatch(1);
        unblock = new CountDownLatch(1);
        List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler h = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
                    logged.add(r.getLoggerName() + ": " + r.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        List<java.util.logging.Logger> loggers = List.of(java.util.logging.Logger.getLogger("dist.scheduler"),
                java.util.logging.Logger.getLogger("dist.worker"));
        loggers.forEach(l -> l.addHandler(h));
        try {
            Future<Integer> x = client.with(Options.defaults().key("suppress-x")).submit(WorkerCloseConformanceTest::blockAndRaise);
            assertTrue(inTask.await(30, TimeUnit.SECONDS), "x runs");
            x.release();
            assertTrue(Wait.until(T, () -> "null".equals(stateOf("suppress-x"))), "x is forgotten");
            unblock.countDown();
            assertTrue(Wait.until(T, () -> processing(a) == 0), "x ended");
            // a task after it, so the failure's report has been handled before the log is read
            assertEquals(7, client.submit(WorkerCloseConformanceTest::blocking, 7).result(T));
            assertEquals(List.of(), logged.stream().filter(l -> l.contains("suppress-x")).toList());
        } finally {
            unblock.countDown();
            loggers.forEach(l -> l.removeHandler(h));
        }
    }

    int processing(WorkerServer w) {
        try {
            return client.workersInfo().stream().filter(i -> i.address().equals(w.address()))
                    .mapToInt(dist.WorkerInfo::processing).sum();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
    /**
     * dask: test_worker.py::test_close_gracefully_no_suspicious_tasks — a worker that is closed (not one
     * that dies) while it runs a task does not count against the task: with allowed-failures 0 the task
     * runs again elsewhere instead of failing.
     */
    @Test
    void closeNoSuspiciousTasks() throws Exception {
        started = new CountDownLatch(1);
        release = new CountDownLatch(1);
        try (dist.config.Config.Override o = dist.config.Config.set("distributed.scheduler.allowed-failures", 0);
             SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
             Client c = Client.connect(s.address())) {
            WorkerServer a = WorkerServer.start(new WorkerServer.Options(s.address(), "127.0.0.1", 0, 1, "a", 0,
                    8 * 1024, CommConfig.DEFAULT), Map.of(), null);
            workers.add(a);
            Future<Integer> f = c.with(Options.defaults().workers(a.address()).allowOtherWorkers(true))
                    .submit(WorkerCloseConformanceTest::blocking, 5);
            assertTrue(started.await(30, TimeUnit.SECONDS), "f started");
            a.close();
            release.countDown();
            WorkerServer b = WorkerServer.start(new WorkerServer.Options(s.address(), "127.0.0.1", 0, 1, "b", 0,
                    8 * 1024, CommConfig.DEFAULT), Map.of(), null);
            workers.add(b);
            assertEquals(5, f.result(T));
        }
    }

    static int slowinc(int x) throws InterruptedException {
        Thread.sleep(100); // the task's work
        return x + 1;
    }

    /**
     * Closing a worker gracefully while it computes: the results it made move to the other worker
     * and are not recomputed (each story shows one placement), and it leaves the scheduler. dask's
     * Worker.close_gracefully asks the scheduler to retire the worker; a dist client asks it.
     * dask: test_worker.py::test_close_gracefully
     */
    @Test
    void closeGracefully() throws Exception {
        WorkerServer a = worker("a", 0, null);
        WorkerServer b = worker("b", 0, null);
        assertTrue(scheduler.awaitWorkers(2, 30, TimeUnit.SECONDS));
        List<Future<Integer>> fs = client.with(Options.defaults().workers(b.address()))
                .map(WorkerCloseConformanceTest::slowinc, IntStream.range(0, 40).boxed().toList());
        assertTrue(Wait.until(T, () -> fs.stream().filter(f -> "memory".equals(stateOf(f.key()))).count() >= 8));
        List<Future<Integer>> done = fs.stream().filter(f -> "memory".equals(stateOf(f.key()))).toList();
        dist.Retirement r = client.retireWorkers(List.of(b.address()));
        assertEquals(Set.of(b.address()), r.retired().keySet(), "kept: " + r.kept());
        assertTrue(b.awaitClose(30, TimeUnit.SECONDS));
        assertEquals(Set.of(a.address()), client.ncores().keySet());
        for (Future<Integer> f : done) {
            assertEquals(List.of(a.address()), client.whoHas(List.of(f)).get(f.key()));
            long runs = client.story(f.key()).stream()
                    .filter(e -> e.where().equals("scheduler") && e.event().endsWith("-> processing")).count();
            assertEquals(1, runs, f.key() + " was not recomputed");
            assertEquals(f.result(T), fs.indexOf(f) + 1);
        }
    }
}
