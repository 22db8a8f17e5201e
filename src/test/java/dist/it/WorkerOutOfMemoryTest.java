package dist.it;

import dist.TaskFailedException;
import dist.Client;
import dist.Future;
import dist.KilledWorkerException;
import dist.LocalCluster;
import dist.Options;
import dist.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A worker JVM whose heap runs out stops (its nanny starts a fresh one and the scheduler counts the
 * task against it); an OutOfMemoryError that says nothing about the process (made up by the task,
 * or an array larger than any JVM allows) is only the task's error.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class WorkerOutOfMemoryTest {
    static final Duration T = Duration.ofSeconds(60);

    static int exhaustTheHeap(int n) {
        List<long[]> hold = new ArrayList<>();
        while (true) {
            hold.add(new long[1 << 16]);
        }
    }

    static int madeUp(int n) {
        throw new OutOfMemoryError("the cache of task " + n + " is full");
    }

    static int tooLargeAnArray(int n) {
        return new byte[Integer.MAX_VALUE - n].length;
    }

    static int inc(int x) {
        return x + 1;
    }

    @Test
    void aWorkerWhoseHeapRunsOutStopsAndItsNannyStartsAFreshOne() throws Exception {
        try (Config.Override o = Config.set("distributed.scheduler.allowed-failures", 0);
             LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).processes(true)
                     .workerJvmArgs("-Xmx96m").output(null).start();
             Client client = cluster.client()) {
            List<Long> before = cluster.workerPids();
            Future<Integer> bad = client.submit(WorkerOutOfMemoryTest::exhaustTheHeap, 0);
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> bad.result(T));
            assertInstanceOf(KilledWorkerException.class, e.getCause(), String.valueOf(e.getCause()));
            assertTrue(Processes.eventually(Duration.ofSeconds(60), () -> cluster.workerCount() == 1
                    && !cluster.workerPids().equals(before)), "no fresh worker: " + cluster.workerPids());
            assertEquals(2, client.submit(WorkerOutOfMemoryTest::inc, 1).result(T));
        }
    }

    @Test
    void anOutOfMemoryErrorThatSaysNothingAboutTheProcessIsTheTasksError() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).processes(true)
                .workerJvmArgs("-Xmx96m").output(null).start();
             Client client = cluster.client()) {
            List<Long> before = cluster.workerPids();
            Future<Integer> made = client.with(Options.defaults().pure(false)).submit(WorkerOutOfMemoryTest::madeUp, 3);
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> made.result(T));
            assertInstanceOf(OutOfMemoryError.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("cache of task 3"), e.getCause().getMessage());

            Future<Integer> large = client.with(Options.defaults().pure(false))
                    .submit(WorkerOutOfMemoryTest::tooLargeAnArray, 0);
            TaskFailedException l = assertThrows(TaskFailedException.class, () -> large.result(T));
            assertInstanceOf(OutOfMemoryError.class, l.getCause());
            assertTrue(l.getCause().getMessage().contains("Requested array size"), l.getCause().getMessage());

            assertEquals(5, client.submit(WorkerOutOfMemoryTest::inc, 4).result(T));
            assertEquals(before, cluster.workerPids(), "the worker process changed");
        }
    }
}
