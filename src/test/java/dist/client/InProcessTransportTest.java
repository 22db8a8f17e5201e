package dist.client;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.LocalClusters;
import dist.Wait;
import dist.comm.CommConfig;
import dist.comm.ConnectionClosedException;
import dist.protocol.Message;
import dist.protocol.TaskSpec;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.scheduler.SchedulerState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A local cluster's own client reaches its scheduler without a socket: what it must keep of a connection. */
@Timeout(120)
class InProcessTransportTest {

    // tasks run on thread workers in this JVM: each test's task waits on a gate of its own
    static final CountDownLatch RELEASE_GATE = new CountDownLatch(1);
    static final CountDownLatch CLOSE_GATE = new CountDownLatch(1);

    static int afterReleaseGate(int x) throws InterruptedException {
        RELEASE_GATE.await(60, TimeUnit.SECONDS);
        return x;
    }

    static int afterCloseGate(int x) throws InterruptedException {
        CLOSE_GATE.await(60, TimeUnit.SECONDS);
        return x;
    }

    @Test
    void closingALocalClientReleasesItsTasksOnTheScheduler() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).output(null).start()) {
            Client client = cluster.client();
            Future<Integer> first = client.submit((Integer x) -> x + 1, 2);
            assertEquals(3, first.result(Duration.ofSeconds(30)));
            client.submit(InProcessTransportTest::afterReleaseGate, 1); // holds the only worker thread
            client.submit((Integer x) -> x + 10, 3);
            assertTrue(Wait.until(Duration.ofSeconds(30), () -> taskCount(cluster) == 3),
                    "the scheduler holds " + taskCount(cluster) + " tasks, not 3");
            client.close();
            assertTrue(Wait.until(Duration.ofSeconds(30), () -> taskCount(cluster) == 0),
                    "the scheduler still holds " + taskCount(cluster) + " tasks of a closed client");
            RELEASE_GATE.countDown();
        }
    }

    @Test
    void aClientThatFailsOnAMessageLeavesTheSchedulerAndOtherClientsWorking() throws Exception {
        SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        java.util.List<Message> toFailing = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.List<Message> toOther = new java.util.concurrent.CopyOnWriteArrayList<>();
        Transport.Inbox failing = new Transport.Inbox() {
            @Override
            public void onMessage(Message message) { // runs on the scheduler's thread that sends
                toFailing.add(message);
                throw new IllegalStateException("a client that cannot take " + message);
            }

            @Override
            public void onClose(Throwable cause) {
            }
        };
        Transport.Inbox other = new Transport.Inbox() {
            @Override
            public void onMessage(Message message) {
                toOther.add(message);
            }

            @Override
            public void onClose(Throwable cause) {
            }
        };
        try {
            Transport a = InProcessTransport.to(s).connect(s.address(), failing);
            Transport b = InProcessTransport.to(s).connect(s.address(), other);
            a.request(new Message.RegisterClient("c-1"), Duration.ofSeconds(10)).get(20, TimeUnit.SECONDS);
            b.request(new Message.RegisterClient("c-2"), Duration.ofSeconds(10)).get(20, TimeUnit.SECONDS);
            // both want k (no worker: it waits); a forced cancel tells both, the failing client first
            a.send(new Message.UpdateGraph("c-1", List.of(new TaskSpec("k", new byte[] {1}, List.of(), 0, null)),
                    List.of("k")));
            assertTrue(Wait.until(Duration.ofSeconds(30), () -> taskCount(s) == 1), "the task never arrived");
            b.send(new Message.UpdateGraph("c-2", List.of(new TaskSpec("k", new byte[] {1}, List.of(), 0, null)),
                    List.of("k")));
            assertInstanceOf(Message.WorkersReply.class, // b's update is handled before this answer
                    b.request(new Message.WorkersRequest(), Duration.ofSeconds(10)).get(20, TimeUnit.SECONDS));
            a.send(new Message.CancelKeys("c-1", List.of("k"), true));
            assertTrue(Wait.until(Duration.ofSeconds(30), () -> toFailing.stream()
                    .anyMatch(m -> m instanceof Message.KeyCancelled)), "the cancel never reached the failing client");
            assertTrue(Wait.until(Duration.ofSeconds(30), () -> toOther.stream()
                    .anyMatch(m -> m instanceof Message.KeyCancelled)), "the other client never heard of the cancel");
            assertInstanceOf(Message.WorkersReply.class,
                    a.request(new Message.WorkersRequest(), Duration.ofSeconds(10)).get(20, TimeUnit.SECONDS));
            a.close();
            b.close();
        } finally {
            s.close();
        }
    }

    @Test
    void aLinkClosedWithoutAGoodbyeIsAClientGone() throws Exception {
        SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        try {
            Transport t = InProcessTransport.to(s).connect(s.address(), Transport.Inbox.IGNORE);
            t.request(new Message.RegisterClient("c-1"), Duration.ofSeconds(10)).get(20, TimeUnit.SECONDS);
            // no worker: the task waits, held for c-1 (the scheduler never decodes the run bytes)
            t.send(new Message.UpdateGraph("c-1", List.of(new TaskSpec("k", new byte[] {1}, List.of(), 0, null)),
                    List.of("k")));
            assertTrue(Wait.until(Duration.ofSeconds(30), () -> taskCount(s) == 1), "the task never arrived");
            t.close();
            assertTrue(Wait.until(Duration.ofSeconds(30), () -> taskCount(s) == 0),
                    "the scheduler still holds " + taskCount(s) + " tasks of a client whose link closed");
        } finally {
            s.close();
        }
    }

    @Test
    void aClosedSchedulerFailsALocalClientsPendingFutures() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).output(null).start();
             Client client = cluster.client()) {
            Future<Integer> f = client.submit(InProcessTransportTest::afterCloseGate, 1);
            LocalClusters.scheduler(cluster).close();
            Throwable t = f.exception(Duration.ofSeconds(30));
            assertNotNull(t, "the future of a task on a closed scheduler did not fail");
            assertTrue(String.valueOf(t.getMessage()).contains("scheduler"), t.toString());
            CLOSE_GATE.countDown();
        }
    }

    @Test
    void aRequestNotAnsweredInTimeFailsWithATimeoutThatNamesItAndClosedLinksSaySo() throws Exception {
        SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        String address = s.address();
        AtomicReference<String> closedOn = new AtomicReference<>();
        Transport.Inbox inbox = new Transport.Inbox() {
            @Override
            public void onMessage(Message message) {
            }

            @Override
            public void onClose(Throwable cause) {
                closedOn.set(Thread.currentThread().getName() + (cause == null ? "" : " " + cause));
            }
        };
        try {
            Transport t = InProcessTransport.to(s).connect(address, inbox);
            assertInstanceOf(Message.Ack.class, t.request(new Message.RegisterClient("c-1"), Duration.ofSeconds(10))
                    .get(20, TimeUnit.SECONDS));

            // hold the state's owner in a query, so nothing the client asks of the state can be answered
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread holder = Thread.ofVirtual().start(() -> {
                try {
                    s.query(st -> {
                        entered.countDown();
                        try {
                            release.await(60, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        return null;
                    }, 90, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertTrue(entered.await(30, TimeUnit.SECONDS), "the query never ran");
            ExecutionException late = assertThrows(ExecutionException.class,
                    () -> t.request(new Message.WorkersRequest(), Duration.ofMillis(100)).get(30, TimeUnit.SECONDS));
            assertInstanceOf(TimeoutException.class, late.getCause());
            assertTrue(late.getCause().getMessage().contains("WorkersRequest"), late.getCause().getMessage());
            release.countDown();
            holder.join(Duration.ofSeconds(30));
            assertNotNull(t.request(new Message.WorkersRequest(), Duration.ofSeconds(10)).get(20, TimeUnit.SECONDS));

            t.close();
            assertThrows(ConnectionClosedException.class, () -> t.send(new Message.WorkersRequest()));
            ExecutionException afterClose = assertThrows(ExecutionException.class,
                    () -> t.request(new Message.WorkersRequest(), Duration.ofSeconds(10)).get(20, TimeUnit.SECONDS));
            assertInstanceOf(ConnectionClosedException.class, afterClose.getCause());
            // told once, cleanly, on a thread of its own
            assertTrue(Wait.until(Duration.ofSeconds(10), () -> closedOn.get() != null), "onClose never ran");
            assertEquals("dist-local-close", closedOn.get());
        } finally {
            s.close();
        }
        IOException closed = assertThrows(IOException.class,
                () -> InProcessTransport.to(s).connect(address, Transport.Inbox.IGNORE));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
    }

    private static int taskCount(LocalCluster cluster) {
        return taskCount(LocalClusters.scheduler(cluster));
    }

    private static int taskCount(SchedulerServer s) {
        try {
            return s.query(st -> st.view().taskCount(), 10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return -1;
        }
    }
}
