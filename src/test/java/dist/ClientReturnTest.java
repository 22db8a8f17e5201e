package dist;

import dist.client.PayloadCodec;
import dist.client.Transport;
import dist.protocol.Message;
import dist.protocol.TaskCall;
import dist.protocol.TaskSpec;
import dist.serial.Serializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiPredicate;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What the client keeps to send again to a scheduler that restarts, how it takes up links that end
 * while it re-sends, and what it does with a refusal the scheduler sends one way.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClientReturnTest {
    static final Duration T = Duration.ofSeconds(20);

    static int inc(int x) {
        return x + 1;
    }

    static final CountDownLatch ENCODING = new CountDownLatch(1);
    static final CountDownLatch GO_ON = new CountDownLatch(1);

    /** An argument whose encoding waits for the test: a submission held between its open check and its key. */
    record Gate(int v) {
        @Override
        public int v() {
            ENCODING.countDown();
            try {
                GO_ON.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return v;
        }
    }

    static int open(Gate g) {
        return g.v();
    }

    /** A scheduler link per connect, all recording into one list; what happens on a send is up to the test. */
    static final class Links implements Transport.Connector {
        final List<Message> sent = new CopyOnWriteArrayList<>();
        final AtomicInteger connects = new AtomicInteger();
        volatile Transport.Inbox inbox;
        /** Called with the link's number (1 for the first) and each one-way message; true: the link ends there. */
        volatile BiPredicate<Integer, Message> endsOn = (n, m) -> false;
        volatile Function<Message, Message> answers = m -> new Message.ErrorReply("unexpected " + m);
        /** True: every connect from now on is refused, as by a scheduler that does not come back. */
        volatile boolean refuse;

        @Override
        public Transport connect(String address, Transport.Inbox in) throws IOException {
            int n = connects.incrementAndGet();
            if (refuse) {
                throw new java.net.ConnectException("connection refused (link " + n + ")");
            }
            inbox = in;
            return new Transport() {
                @Override
                public void send(Message message) {
                    sent.add(message);
                    if (endsOn.test(n, message)) {
                        // as a reader thread that found the socket closed: what is sent after is lost silently
                        in.onClose(new IOException("link " + n + " ended"));
                    }
                }

                @Override
                public CompletableFuture<Message> request(Message message, Duration timeout) {
                    sent.add(message);
                    return CompletableFuture.completedFuture(switch (message) {
                        case Message.RegisterClient r -> new Message.Ack();
                        default -> answers.apply(message);
                    });
                }

                @Override
                public void close() {
                }
            };
        }

        List<Message.UpdateGraph> updates() {
            return sent.stream().filter(m -> m instanceof Message.UpdateGraph).map(m -> (Message.UpdateGraph) m).toList();
        }
    }

    private final Links links = new Links();
    private Client client;

    private Client client(Duration reconnect) throws IOException {
        client = new Client("sched:1", links, links, PayloadCodec.of(Serializer.defaults()),
                getClass().getClassLoader(), Duration.ofSeconds(5), reconnect);
        return client;
    }

    @AfterEach
    void close() {
        if (client != null) {
            client.close();
        }
    }

    private static Graph chain() {
        return new Graph().value("x", 1)
                .task("y", ClientReturnTest::inc, Graph.key("x"))
                .task("z", ClientReturnTest::inc, Graph.key("y"));
    }

    @Test
    void aGraphsRecipesAreKeptWhileItsOutputIsPendingAndDroppedOnceItExists() throws Exception {
        Client c = client(Duration.ZERO);
        Future<Integer> z = c.compute(chain(), "z");
        assertEquals(3, c.core().recipeCount(), "the output and the intermediates it needs");
        links.inbox.onMessage(new Message.KeyInMemory("z", List.of("w:1"), 4, null));
        assertEquals(0, c.core().recipeCount(), "a result that exists keeps no recipe");

        List<Future<Integer>> fs = c.map(ClientReturnTest::inc, List.of(1, 2));
        assertEquals(2, c.core().recipeCount());
        links.inbox.onMessage(new Message.KeyInMemory(fs.get(0).key(), List.of("w:1"), 4, null));
        assertEquals(1, c.core().recipeCount());
        fs.get(1).release();
        assertEquals(0, c.core().recipeCount(), "a released future keeps no recipe");
        assertEquals(Future.State.SUCCESS, z.state());
    }

    @Test
    void aReturningSchedulerGetsTheGraphAgainAndTheKeysWithoutRecipeAsData() throws Exception {
        Client c = client(Duration.ofSeconds(30));
        // held as DataOps holds a dataset's keys: asked for with no recipe, as data the scheduler has
        Future<Integer> scattered = c.core().holdKey("data-1");
        c.core().sendToScheduler(new Message.UpdateGraph(c.id(), List.of(), List.of("data-1")), List.of(scattered));
        Future<Integer> z = c.compute(new Graph().value("x", scattered)
                .task("y", ClientReturnTest::inc, Graph.key("x"))
                .task("z", ClientReturnTest::inc, Graph.key("y")), "z");
        int before = links.updates().size();
        links.inbox.onClose(new IOException("scheduler killed"));
        assertTrue(Wait.until(T, () -> links.connects.get() == 2 && links.updates().size() > before));
        Message.UpdateGraph again = links.updates().get(before);
        List<String> order = again.tasks().stream().map(TaskSpec::key).toList();
        assertEquals(List.of("data-1", "x", "y", "z"), order, "inputs first, the data key as data");
        assertNull(again.tasks().get(0).run(), "a key without recipe goes as data");
        assertTrue(again.wanted().containsAll(List.of("data-1", "z")));
        // what no future holds was wanted only to arrive in order, and is let go after
        assertTrue(Wait.until(T, () -> links.sent.stream().anyMatch(m -> m instanceof Message.ReleaseKeys r
                && r.keys().containsAll(List.of("x", "y")) && !r.keys().contains("z"))));
        links.inbox.onMessage(new Message.KeyInMemory("z", List.of("w:1"), 4, null));
        assertEquals(Future.State.SUCCESS, z.state());
    }

    @Test
    void aLinkThatEndsWhileTheClientResendsIsTakenUpAgain() throws Exception {
        Client c = client(Duration.ofSeconds(30));
        Future<Integer> z = c.compute(chain(), "z");
        // the second link ends as the graph goes out on it, while the client still re-sends
        links.endsOn = (n, m) -> n == 2 && m instanceof Message.UpdateGraph;
        links.inbox.onClose(new IOException("scheduler killed"));
        assertTrue(Wait.until(T, () -> links.connects.get() >= 3), "the client stayed on a link that ended");
        assertTrue(Wait.until(T, () -> links.updates().stream().filter(u -> u.wanted().contains("z")).count() >= 3));
        links.inbox.onMessage(new Message.KeyInMemory("z", List.of("w:1"), 4, null));
        assertEquals(Future.State.SUCCESS, z.state());
    }

    /** dask's test_reconnect_timeout: past the reconnect timeout, pending futures fail instead of waiting. */
    @Test
    void aSchedulerThatDoesNotComeBackWithinTheReconnectTimeoutFailsPendingFutures() throws Exception {
        Client c = client(Duration.ofSeconds(1));
        Future<Integer> z = c.compute(chain(), "z");
        links.refuse = true;
        links.inbox.onClose(new IOException("scheduler killed"));
        SchedulerUnavailableException e = assertThrows(SchedulerUnavailableException.class, () -> z.result(T));
        assertTrue(e.getMessage().contains("connect a new client"), e.getMessage());
        assertTrue(links.connects.get() >= 3, "tried again with back-off: " + links.connects.get() + " connects");
        assertEquals(Future.State.FAILED, z.state());
    }

    @Test
    void aSchedulerThatDropsTheClientOnEveryResendFailsPendingFuturesInsteadOfLooping() throws Exception {
        Client c = client(Duration.ofSeconds(30));
        Future<Integer> z = c.compute(chain(), "z");
        links.endsOn = (n, m) -> n >= 2 && m instanceof Message.UpdateGraph;
        links.inbox.onClose(new IOException("scheduler killed"));
        SchedulerUnavailableException e = assertThrows(SchedulerUnavailableException.class, () -> z.result(T));
        assertTrue(e.getMessage().contains("dropped this client"), e.getMessage());
        assertEquals(Future.State.FAILED, z.state());
    }

    @Test
    void aOneWayRefusalFailsThePendingFuturesTheSchedulerDoesNotKnowWithItsReason() throws Exception {
        Client c = client(Duration.ZERO);
        Future<Integer> known = c.submit(ClientReturnTest::inc, 5);
        Future<Integer> z = c.compute(chain(), "z");
        links.answers = m -> m instanceof Message.TaskStatusRequest r
                ? new Message.TaskStatusReply(r.keys().contains(known.key()) ? Map.of(known.key(), "processing") : Map.of(), Map.of())
                : new Message.ErrorReply("unexpected " + m);
        links.inbox.onMessage(new Message.ErrorReply("the graph has a cycle: y -> z -> y"));
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> z.result(T));
        assertTrue(e.getMessage().contains("cycle"), e.getMessage());
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertEquals(Future.State.RUNNING, known.state(), "a key the scheduler knows waits on");
        assertEquals(1, c.core().recipeCount(), "only the known key's recipe is left");
    }

    @Test
    void anUpdateTheRealSchedulerRefusesFailsItsFuturesWithTheSchedulersReason() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).output(null).start();
             Client c = cluster.client()) {
            // an update as a client that does not check might send it: one task without a key
            Fn1<Integer, Integer> fn = ClientReturnTest::inc;
            byte[] run = c.core().encodeCall(new TaskCall(fn, new ArrayList<>(List.of(1))), o -> o);
            List<TaskSpec> specs = new ArrayList<>();
            specs.add(new TaskSpec("fine-1", run, List.of(), 0, null));
            specs.add(new TaskSpec(null, run, List.of(), 1, null));
            Future<Integer> f = c.core().<Integer>submitSpecs(specs, List.of("fine-1")).get(0);
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> f.result(T));
            assertTrue(e.getMessage().contains("has no key"), e.getMessage());
            // the client carries on
            assertEquals(8, c.submit(ClientReturnTest::inc, 7).result(T));
        }
    }

    @Test
    void aSubmissionThatRacesCloseEndsCancelledInsteadOfPending() throws Exception {
        Client c = client(Duration.ZERO);
        CompletableFuture<Future<Integer>> made = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            try {
                made.complete(c.submit(ClientReturnTest::open, new Gate(1)));
            } catch (Throwable t) {
                made.completeExceptionally(t);
            }
        });
        assertTrue(ENCODING.await(T.toSeconds(), TimeUnit.SECONDS));
        c.close(); // its sweep of pending keys runs while the submission is past its open check
        GO_ON.countDown();
        // this link takes sends after close, as one being closed may: the future comes back
        Future<Integer> f = made.get(T.toSeconds(), TimeUnit.SECONDS);
        assertThrows(TaskCancelledException.class, () -> f.result(T));
    }
}
