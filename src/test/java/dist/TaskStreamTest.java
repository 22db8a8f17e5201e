package dist;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Task streams read from real workers of a local cluster. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TaskStreamTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client client;

    static int inc(int x) {
        return x + 1;
    }

    static int add(int x, int y) {
        return x + y;
    }

    static int[] big(int n) {
        return new int[n];
    }

    static int size(int[] a, int[] b) {
        return a.length + b.length;
    }

    static List<String> addresses() {
        return client.workersInfo().stream().map(WorkerInfo::address).sorted().toList();
    }

    @BeforeAll
    static void start() {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(2).start();
        client = cluster.client();
    }

    @AfterAll
    static void stop() {
        client.close();
        cluster.close();
    }

    /**
     * dask: test_client.py::test_get_task_stream — tasks run inside the block are in the stream, each
     * with its worker and a start not after its stop; tasks run before it are not.
     */
    @Test
    void holdsTheTasksOfItsBlock() {
        client.submit(TaskStreamTest::inc, 100).result(T);
        List<Future<Integer>> fs;
        try (TaskStream ts = client.taskStream()) {
            fs = client.map(TaskStreamTest::inc, List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
            fs.forEach(f -> f.result(T));
            ts.close();
            Set<String> keys = new HashSet<>();
            for (TaskStream.Task t : ts.tasks()) {
                keys.add(t.key());
                assertTrue(addresses().contains(t.worker()), t + " ran on a worker of the cluster");
                assertFalse(t.start().isAfter(t.stop()), t.toString());
                assertFalse(t.erred());
                assertEquals("inc", t.group());
            }
            assertEquals(fs.stream().map(Future::key).collect(java.util.stream.Collectors.toSet()), keys);
        }
    }

    /**
     * dask: test_client.py::test_get_task_stream — each record names the thread that ran it: here the
     * worker's slot, a number below the worker's thread count.
     */
    @Test
    void namesTheSlotThatRanEachTask() {
        try (TaskStream ts = client.taskStream()) {
            client.map(TaskStreamTest::inc, List.of(21, 22, 23, 24, 25, 26, 27, 28)).forEach(f -> f.result(T));
            ts.close();
            assertEquals(8, ts.tasks().size());
            for (TaskStream.Task t : ts.tasks()) {
                assertTrue(t.thread() >= 0 && t.thread() < 2, t + " names a slot of a two-thread worker");
            }
        }
    }

    /** dask: test_client.py::test_get_task_stream_save — a closed stream keeps its records and no longer grows. */
    @Test
    void aClosedStreamNoLongerGrows() {
        TaskStream ts = client.taskStream();
        client.submit(TaskStreamTest::add, 1, 2).result(T);
        ts.close();
        assertTrue(ts.isClosed());
        List<TaskStream.Task> before = ts.tasks();
        assertEquals(1, before.size(), before.toString());
        client.submit(TaskStreamTest::add, 3, 4).result(T);
        assertEquals(before, ts.tasks());
    }

    /** An open stream shows what ran so far; the recent history holds tasks of the last minute. */
    @Test
    void readsWhileOpenAndTheRecentHistory() throws InterruptedException {
        try (TaskStream ts = client.taskStream()) {
            Future<Integer> f = client.submit(TaskStreamTest::add, 10, 20);
            f.result(T);
            assertTrue(Wait.until(T, () -> ts.tasks().stream().anyMatch(t -> t.key().equals(f.key()))));
            TaskStream recent = client.taskStream(Duration.ofMinutes(5));
            assertTrue(recent.isClosed());
            assertTrue(recent.tasks().stream().anyMatch(t -> t.key().equals(f.key())), recent.tasks().toString());
        }
    }

    /**
     * A task whose inputs sit on two workers makes one fetch the other's: the stream shows that transfer,
     * by whom, from whom and how many bytes.
     */
    @Test
    void showsTransfersBetweenWorkers() throws InterruptedException {
        List<String> w = addresses();
        try (TaskStream ts = client.taskStream()) {
            Future<int[]> a = client.with(Options.defaults().workers(w.get(0)).pure(false)).submit(TaskStreamTest::big, 100_000);
            Future<int[]> b = client.with(Options.defaults().workers(w.get(1)).pure(false)).submit(TaskStreamTest::big, 100_000);
            Future<Integer> sum = client.with(Options.defaults().workers(w.get(0)).pure(false))
                    .submit(TaskStreamTest::size, a, b);
            assertEquals(200_000, sum.result(T));
            // workers report their fetches about once a second
            assertTrue(Wait.until(T, () -> !ts.transfers().isEmpty()), "a transfer is reported");
            TaskStream.Transfer t = ts.transfers().get(0);
            assertEquals(w.get(0), t.worker());
            assertEquals(w.get(1), t.from());
            assertTrue(t.bytes() >= 100_000, t.toString());
            assertFalse(t.start().isAfter(t.stop()));
        }
    }
}
