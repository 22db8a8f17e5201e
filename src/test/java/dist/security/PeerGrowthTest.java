package dist.security;

import dist.Client;
import dist.Fn0;
import dist.LocalCluster;
import dist.Wait;
import dist.comm.Connection;
import dist.comm.Handler;
import dist.protocol.Message;
import dist.protocol.Role;
import dist.protocol.TaskOptions;
import dist.protocol.TaskSpec;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** What one peer can make a scheduler or worker keep or start is bounded: names, reports, threads. */
@Timeout(120)
class PeerGrowthTest {

    static final Duration T = Duration.ofSeconds(30);

    private static SchedulerServer scheduler() throws Exception {
        return SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), SecNet.QUICK);
    }

    private static int tasks(SchedulerServer s) throws Exception {
        return s.query(st -> st.view().taskCount(), 10, TimeUnit.SECONDS);
    }

    @Test
    void aConnectionKeepsOneNameAndLeavesNothingBehindWhenItCloses() throws Exception {
        try (SchedulerServer s = scheduler()) {
            try (Connection c = Connection.connect(s.address(), Role.CLIENT, SecNet.QUICK, SecNet.echo())) {
                assertEquals(new Message.Ack(), c.request(new Message.RegisterClient("c1")).get(10, TimeUnit.SECONDS));
                c.send(new Message.UpdateGraph("c1", List.of(new TaskSpec("t1", new byte[] {1}, List.of(), 0,
                        TaskOptions.DEFAULT)), List.of("t1")));
                assertTrue(Wait.until(T, () -> tasksQuietly(s) == 1));
                // the same name again is fine; another name is refused and changes nothing
                assertEquals(new Message.Ack(), c.request(new Message.RegisterClient("c1")).get(10, TimeUnit.SECONDS));
                Message m = c.request(new Message.RegisterClient("c2")).get(10, TimeUnit.SECONDS);
                assertInstanceOf(Message.ErrorReply.class, m);
                assertTrue(((Message.ErrorReply) m).message().contains("already registered as c1"), m.toString());
                for (int i = 0; i < 10_000; i++) {
                    c.send(new Message.RegisterClient("many-" + i));
                }
                assertEquals(new Message.Ack(), c.request(new Message.RegisterClient("c1")).get(10, TimeUnit.SECONDS));
            }
            // the client c1 went with its connection, and with it the task only it wanted
            assertTrue(Wait.until(T, () -> tasksQuietly(s) == 0), "tasks left: " + tasks(s));
        }
    }

    private static int tasksQuietly(SchedulerServer s) {
        try {
            return tasks(s);
        } catch (Exception e) {
            return -1;
        }
    }

    private static Message.WorkerStats stats(List<String> peers) {
        List<Long> times = Collections.nCopies(peers.size(), 1L);
        return new Message.WorkerStats(5, 1000, Collections.nCopies(5000, 1L), 1, 0.1, 10, peers, times, times, times);
    }

    @Test
    void onlyRegisteredWorkersReportAndWhatTheySendIsCutToSize() throws Exception {
        try (SchedulerServer s = scheduler();
             Connection w = Connection.connect(s.address(), Role.WORKER, SecNet.QUICK, SecNet.echo())) {
            w.send(stats(List.of("a:1")));
            // any answer to a later request: the report before it was handled
            assertNotNull(w.request(new Message.Ping(2)).get(10, TimeUnit.SECONDS));
            assertTrue(s.reports().latest().isEmpty(), "an unregistered connection left a report: "
                    + s.reports().latest().keySet());

            Message accepted = w.request(new Message.RegisterWorker("127.0.0.1:1", "w", 1, 1L << 30, 1, Map.of()))
                    .get(10, TimeUnit.SECONDS);
            assertInstanceOf(Message.WorkerAccepted.class, accepted);
            String longName = "p".repeat(100_000);
            List<String> peers = new ArrayList<>(Collections.nCopies(30_000, "b:2"));
            peers.set(peers.size() - 1, longName);
            w.send(stats(peers));
            assertTrue(Wait.until(T, () -> s.reports().latest().containsKey("127.0.0.1:1")));
            Message.WorkerStats kept = s.reports().latest().get("127.0.0.1:1");
            assertEquals(List.of(), kept.peers(), "the per-transfer lists are kept once, in the ring");
            assertTrue(kept.transferBuckets().size() <= Message.WorkerStats.TRANSFER_BUCKETS.size() + 1);
            var transfers = s.reports().transfersSince(0, 100_000);
            assertEquals(20_000, transfers.size(), "the ring holds what fits");
            assertTrue(transfers.get(transfers.size() - 1).peer().length() <= 256);
        }
    }

    @Test
    void storiesAreGatheredAFewAtATimeAndTheRestRefused() throws Exception {
        // a worker that never answers a story: each story the scheduler gathers waits for it
        Handler silent = (c, m, id) -> { };
        try (SchedulerServer s = scheduler();
             Connection w = Connection.connect(s.address(), Role.WORKER, SecNet.QUICK, silent);
             Connection c = Connection.connect(s.address(), Role.CLIENT, SecNet.QUICK, SecNet.echo())) {
            assertInstanceOf(Message.WorkerAccepted.class, w.request(new Message.RegisterWorker("127.0.0.1:2", "w", 1,
                    1L << 30, 1, Map.of())).get(10, TimeUnit.SECONDS));
            assertEquals(new Message.Ack(), c.request(new Message.RegisterClient("c")).get(10, TimeUnit.SECONDS));
            List<CompletableFuture<Message>> asked = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                asked.add(c.request(new Message.StoryRequest("k" + i)));
            }
            int refused = 0;
            int told = 0;
            for (CompletableFuture<Message> f : asked) {
                Message m = f.get(T.toSeconds(), TimeUnit.SECONDS);
                if (m instanceof Message.ErrorReply e && e.message().contains("already gathering")) {
                    refused++;
                } else if (m instanceof Message.StoryReply) {
                    told++;
                } else {
                    fail("unexpected answer " + m);
                }
            }
            assertTrue(refused > 0, told + " stories told at once, none refused");
            assertTrue(told >= 8, told + " stories told");
        }
    }

    static final AtomicInteger STARTED = new AtomicInteger();
    static final CountDownLatch RELEASE = new CountDownLatch(1);

    static int blockUntilReleased() throws InterruptedException {
        STARTED.incrementAndGet(); // the worker of a threads cluster shares this JVM's statics
        return RELEASE.await(60, TimeUnit.SECONDS) ? 1 : 0;
    }

    @Test
    void aWorkerRunsABoundedNumberOfCallsAtOnceAndRefusesTheRest() throws Exception {
        int calls = 80;
        ExecutorService pool = Executors.newFixedThreadPool(calls);
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).output(null).start();
             Client client = cluster.client()) {
            AtomicInteger refused = new AtomicInteger();
            List<java.util.concurrent.Future<Map<String, Integer>>> runs = new ArrayList<>();
            for (int i = 0; i < calls; i++) {
                runs.add(pool.submit(() -> {
                    try {
                        return client.run((Fn0<Integer>) PeerGrowthTest::blockUntilReleased);
                    } catch (dist.DistException e) {
                        if (String.valueOf(e.getMessage()).contains("already serves")) {
                            refused.incrementAndGet();
                        }
                        throw e;
                    }
                }));
            }
            Wait.until(T, () -> STARTED.get() + refused.get() >= calls);
            RELEASE.countDown();
            int ran = 0;
            for (var f : runs) {
                try {
                    ran += f.get(T.toSeconds(), TimeUnit.SECONDS).size();
                } catch (ExecutionException e) {
                    assertTrue(String.valueOf(e.getCause().getMessage()).contains("already serves 64 RunFunction"),
                            String.valueOf(e.getCause()));
                }
            }
            assertEquals(64, STARTED.get(), "calls that ran at once");
            assertEquals(calls - 64, refused.get());
            assertEquals(64, ran);
        } finally {
            RELEASE.countDown();
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
    }
}
