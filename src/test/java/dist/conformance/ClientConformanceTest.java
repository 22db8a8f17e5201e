package dist.conformance;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.LocalClusters;
import dist.Options;
import dist.TaskFailedException;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Client behaviour ported from dask's distributed/tests/test_client.py, one cluster of thread
 * workers for the class. Each test names the dask test it follows and asserts what that test does.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client client;

    static int add(int x, int y) {
        return x + y;
    }

    static int inc(int x) {
        return x + 1;
    }

    static double div(int x, int y) {
        if (y == 0) {
            throw new ArithmeticException("division by zero");
        }
        return (double) x / y;
    }

    /** As dask's {@code g}: imports the uploaded module and calls its {@code f}, here through the task's loader. */
    static int callMyFile() throws Exception {
        Class<?> c = Class.forName("uploaded.MyFile", true, Thread.currentThread().getContextClassLoader());
        return (Integer) c.getMethod("f").invoke(null);
    }

    private static Path myFileJar(Path dir, int value) throws Exception {
        return JarBuilder.jar(dir, "myfile-" + value, "uploaded.MyFile", """
                package uploaded;
                public class MyFile {
                    public static int f() { return %d; }
                    public static dist.Fn0<Integer> fn() { return MyFile::f; }
                }
                """.formatted(value));
    }

    private static String schedulerState(String key) {
        try {
            String st = LocalClusters.scheduler(cluster).query(v -> v.view().stateOf(key), 10, TimeUnit.SECONDS);
            return String.valueOf(st);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(2).output(null).start();
        client = cluster.client();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** dask: test_client.py::test_map_different_lengths — {@code len(c.map(add, [1, 2], [1, 2, 3])) == 2}. */
    @Test
    void mapDifferentLengths() {
        assertEquals(2, client.map(ClientConformanceTest::add, List.of(1, 2), List.of(1, 2, 3)).size());
    }

    /**
     * dask: test_client.py::test_map — {@code L4 = c.map(add, range(3), range(4))} gathers to
     * {@code list(map(add, range(3), range(4)))}: the lists are zipped, the extra element unused.
     */
    @Test
    void mapZipsListsOfDifferentLengths() throws Exception {
        List<Future<Integer>> l4 = client.map(ClientConformanceTest::add, List.of(0, 1, 2), List.of(0, 1, 2, 3));
        assertEquals(List.of(0, 2, 4), client.gather((Object) l4, T));
    }

    /**
     * dask: test_client.py::test_upload_file (and test_upload_file_refresh_delayed) — for value in
     * [123, 456], upload a myfile whose {@code f()} returns value, then a task calling {@code f()}
     * (submitted with pure=False) returns that value: the second upload replaces the first. (dask also
     * checks the file lands in each server's local directory; dist keeps jars in memory.)
     */
    @Test
    void uploadFile(@TempDir Path dir) throws Exception {
        Options impure = Options.defaults().pure(false);
        for (int value : new int[]{123, 456}) {
            client.uploadJar(myFileJar(dir, value));
            for (int i = 0; i < 4; i++) { // several tasks, so both workers are likely to run one
                assertEquals(value, client.with(impure).submit(ClientConformanceTest::callMyFile).result(T));
            }
        }
        // uploading the first version again makes it current again, on running and joining workers
        client.uploadJar(myFileJar(dir, 123));
        assertEquals(123, client.with(impure).submit(ClientConformanceTest::callMyFile).result(T));
        try (WorkerServer late = WorkerServer.start(WorkerServer.Options.of(LocalClusters.scheduler(cluster).address(), 1))) {
            assertTrue(LocalClusters.scheduler(cluster).awaitWorkers(3, 30, TimeUnit.SECONDS));
            Future<Integer> there = client.with(impure.workers(late.address())).submit(ClientConformanceTest::callMyFile);
            assertEquals(123, there.result(T));
        }
    }

    /** dask: test_client.py::test_map_empty — {@code c.map(inc, [], pure=False)} is empty and gathers to []. */
    @Test
    void mapEmpty() throws Exception {
        List<Future<Integer>> l1 = client.with(Options.defaults().pure(false)).map(ClientConformanceTest::inc, List.<Integer>of());
        assertEquals(0, l1.size());
        assertEquals(List.of(), client.gather((Object) l1, T));
    }

    /**
     * dask: test_client.py::test_map_naming — two maps of inc over the same inputs get the same keys;
     * with pure=False four equal inputs get four different keys.
     */
    @Test
    void mapNaming() {
        List<Integer> r = List.of(0, 1, 2, 3, 4);
        List<String> k1 = client.map(ClientConformanceTest::inc, r).stream().map(Future::key).toList();
        List<String> k2 = client.map(ClientConformanceTest::inc, r).stream().map(Future::key).toList();
        assertEquals(k1, k2);
        List<Integer> ones = List.of(1, 1, 1, 1);
        assertEquals(1, client.map(ClientConformanceTest::inc, ones).stream().map(Future::key).distinct().count());
        assertEquals(4, client.with(Options.defaults().pure(false)).map(ClientConformanceTest::inc, ones)
                .stream().map(Future::key).distinct().count());
    }

    /** dask: test_client.py::test_submit_naming — inc(1) twice shares one key; pure=False gets another. */
    @Test
    void submitNaming() {
        Future<Integer> a = client.submit(ClientConformanceTest::inc, 1);
        Future<Integer> b = client.submit(ClientConformanceTest::inc, 1);
        assertEquals(a.key(), b.key());
        Future<Integer> c = client.with(Options.defaults().pure(false)).submit(ClientConformanceTest::inc, 1);
        assertNotEquals(a.key(), c.key());
    }

    /**
     * dask: test_client.py::test_exceptions and test_Future_exception — div(1, 2) is 0.5; div(1, 0)
     * raises ZeroDivisionError (here ArithmeticException, as the cause) and exception() returns it;
     * div(10, 2) afterwards still computes 5; exception() of a success is None.
     */
    @Test
    void exceptions() throws Exception {
        assertEquals(0.5, client.submit(ClientConformanceTest::div, 1, 2).result(T));
        Future<Double> x = client.submit(ClientConformanceTest::div, 1, 0);
        TaskFailedException e = assertThrows(TaskFailedException.class,
                () -> x.result(T));
        assertInstanceOf(ArithmeticException.class, e.getCause());
        assertInstanceOf(ArithmeticException.class, x.exception(T));
        assertEquals(5.0, client.submit(ClientConformanceTest::div, 10, 2).result(T));
        assertNull(client.submit(ClientConformanceTest::div, 1, 1).exception(T));
    }

    /**
     * dask: test_client.py::test_upload_file_refresh_delayed — for value in [123, 456], upload a
     * myfile, import its {@code f} on the client too, and compute {@code delayed(f)()}: the result
     * is that value each time. dask's delayed is impure by default (a new key per call); dist's
     * Delayed keys are hashes of the call, equal for both versions, so the first result is let go of
     * (and forgotten by the scheduler) before the second upload.
     */
    @Test
    @SuppressWarnings("unchecked")
    void uploadFileRefreshDelayed(@TempDir Path dir) throws Exception {
        for (int value : new int[]{123, 456}) {
            Path jar = myFileJar(dir, value);
            client.uploadJar(jar);
            try (java.net.URLClassLoader local = new java.net.URLClassLoader(new java.net.URL[]{jar.toUri().toURL()},
                    getClass().getClassLoader())) {
                dist.Fn0<Integer> f = (dist.Fn0<Integer>) Class.forName("uploaded.MyFile", true, local)
                        .getMethod("fn").invoke(null);
                Future<Integer> bb = client.compute(dist.Delayed.of(f));
                assertEquals(List.of(value), client.gather((Object) List.of(bb), T));
                bb.release();
                String key = bb.key();
                assertTrue(dist.Wait.until(T, () -> schedulerState(key).equals("null")), key + " is still known");
            }
        }
    }
}
