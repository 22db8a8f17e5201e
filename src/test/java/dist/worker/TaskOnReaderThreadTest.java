package dist.worker;

import dist.Client;
import dist.Fn0;
import dist.Future;
import dist.LocalCluster;
import dist.Options;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** A task sent to an idle worker runs on the thread that read its request, without holding the worker up. */
@Timeout(120)
class TaskOnReaderThreadTest {
    static final Duration T = Duration.ofSeconds(30);
    static final CountDownLatch STARTED = new CountDownLatch(1);
    static final CountDownLatch RELEASE = new CountDownLatch(1);

    static String threadName() {
        return Thread.currentThread().getName() + (Thread.currentThread().isInterrupted() ? " (interrupted)" : "");
    }

    static String interruptSelf() {
        Thread.currentThread().interrupt();
        return Thread.currentThread().getName();
    }

    static String blockUntilReleased() throws InterruptedException {
        STARTED.countDown(); // workers of a threads cluster share this JVM's statics
        return RELEASE.await(60, TimeUnit.SECONDS) ? threadName() : "not released";
    }

    static int interruptAndInc(int x) {
        Thread.currentThread().interrupt();
        return x + 1;
    }

    static int inc(int x) {
        return x + 1;
    }

    @Test
    void aTaskOnAnIdleWorkerRunsWhereItsRequestWasRead() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).output(null).start();
             Client client = cluster.client()) {
            String name = client.with(Options.defaults().pure(false)).submit((Fn0<String>) TaskOnReaderThreadTest::threadName)
                    .result(T);
            assertTrue(name.startsWith("dist-read"), "ran on " + name);
        }
    }

    @Test
    void aLongTaskOnTheReaderLeavesTheWorkersOtherThreadFree() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(2).output(null).start();
             Client client = cluster.client()) {
            Future<String> blocked = client.submit((Fn0<String>) TaskOnReaderThreadTest::blockUntilReleased);
            assertTrue(STARTED.await(30, TimeUnit.SECONDS));
            // the blocked task holds the reader; the next request is read by the standby and runs on a slot
            assertEquals(2, client.submit(TaskOnReaderThreadTest::inc, 1).result(T));
            assertFalse(blocked.isDone());
            RELEASE.countDown();
            assertTrue(blocked.result(T).startsWith("dist-read"), "the blocked task ran on the reader");
            assertEquals(4, client.submit(TaskOnReaderThreadTest::inc, 3).result(T));
        }
    }

    @Test
    void aTaskThatInterruptsItselfLeavesItsThreadWorking() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).output(null).start();
             Client client = cluster.client()) {
            // tasks alternate between interrupting themselves and reporting on their thread: a reader
            // thread left interrupted would show it here (or close the connection on its next write)
            // (a slot thread takes a task while an earlier one's reader has not stood by again yet)
            List<String> threads = new java.util.ArrayList<>();
            for (int i = 0; i < 10; i++) {
                threads.add(client.with(Options.defaults().pure(false))
                        .submit((Fn0<String>) TaskOnReaderThreadTest::interruptSelf).result(T));
                String probe = client.with(Options.defaults().pure(false))
                        .submit((Fn0<String>) TaskOnReaderThreadTest::threadName).result(T);
                assertFalse(probe.endsWith("(interrupted)"), probe);
                threads.add(probe);
            }
            assertTrue(threads.stream().anyMatch(n -> n.startsWith("dist-read")), "ran on " + threads);
            // queued behind each other, these run on the slot thread, which must survive each interrupt
            List<Future<Integer>> many = client.with(Options.defaults().pure(false))
                    .map(TaskOnReaderThreadTest::interruptAndInc, List.of(1, 2, 3, 4, 5, 6));
            assertEquals(List.of(2, 3, 4, 5, 6, 7), client.gather(many, T));
            assertEquals(9, client.submit(TaskOnReaderThreadTest::inc, 8).result(T));
        }
    }
}
