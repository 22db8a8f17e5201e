package dist.scheduler;

import dist.config.Config;
import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.ErrorReply;
import dist.protocol.Message.EventClear;
import dist.protocol.Message.EventSet;
import dist.protocol.Message.EventWait;
import dist.protocol.Message.GetTopicEvents;
import dist.protocol.Message.LogEvent;
import dist.protocol.Message.QueueDrain;
import dist.protocol.Message.QueuePut;
import dist.protocol.Message.QueueSizeRequest;
import dist.protocol.Message.QueueTake;
import dist.protocol.Message.SharedCancelWait;
import dist.protocol.Message.SharedCount;
import dist.protocol.Message.SharedFlag;
import dist.protocol.Message.SharedTimedOut;
import dist.protocol.Message.SharedValue;
import dist.protocol.Message.SharedValues;
import dist.protocol.Message.SubscribeTopic;
import dist.protocol.Message.TopicEvent;
import dist.protocol.Message.TopicEvents;
import dist.protocol.Message.VariableDelete;
import dist.protocol.Message.VariableGet;
import dist.protocol.Message.VariableSet;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The queue, event, variable and topic extensions as pure state machines: events in, replies out,
 * time a value. Every event also runs the scheduler's invariants (with the extensions' own).
 */
class SharedStateExtensionsTest {
    static final String A = "10.0.0.1:9000";
    static final long MS = 1_000_000L;

    private static byte[] b(int v) {
        return new byte[]{(byte) v};
    }

    /** The reply to request {@code id} in {@code out}, or null. */
    private static Message replyTo(List<Outgoing> out, long id) {
        for (Outgoing o : out) {
            if (o.replyTo() == id) {
                return o.message();
            }
        }
        return null;
    }

    private static List<Outgoing> ask(Harness h, String client, Message m, long id) {
        return h.event(new SchedulerEvent.FromClient(client, m, id));
    }

    private static List<Outgoing> tick(Harness h, long advanceMillis) {
        h.now += advanceMillis * MS;
        return h.event(new SchedulerEvent.Tick());
    }

    // ------------------------------------------------------------------ queues

    /** dask: test_queues.py::test_queue_with_data — a waiting take is answered by the next put, in order. */
    @Test
    void aPutGoesToTheOldestWaitingTake() {
        Harness h = new Harness();
        assertNull(replyTo(ask(h, "c1", new QueueTake("q", 0, 5_000, 1), 11), 11), "it waits");
        assertNull(replyTo(ask(h, "c2", new QueueTake("q", 0, 5_000, 2), 12), 12));
        List<Outgoing> out = ask(h, "c3", new QueuePut("q", 0, b(7), List.of(), 5_000, 3), 13);
        assertInstanceOf(Ack.class, replyTo(out, 13));
        assertArrayEquals(b(7), ((SharedValue) replyTo(out, 11)).value(), "the oldest take gets it");
        assertNull(replyTo(out, 12));
        assertEquals(0, h.s.extension(QueueExtension.class).size("q"), "handed over, not queued");
        assertInstanceOf(SharedTimedOut.class, replyTo(tick(h, 5_000), 12), "the other ends at its deadline");
        assertEquals(0, h.s.extension(QueueExtension.class).queueCount(), "an idle empty queue is forgotten");
    }

    /** dask: test_queues.py::test_timeout — a full queue's put waits; it ends at its deadline, or enters when a take makes room. */
    @Test
    void aFullQueuesPutWaitsForRoom() {
        Harness h = new Harness();
        assertInstanceOf(Ack.class, replyTo(ask(h, "c", new QueuePut("q", 1, b(1), List.of(), 0, 1), 1), 1));
        assertInstanceOf(SharedTimedOut.class, replyTo(ask(h, "c", new QueuePut("q", 1, b(2), List.of(), 0, 2), 2), 2),
                "no wait asked: refused at once");
        assertNull(replyTo(ask(h, "c", new QueuePut("q", 1, b(3), List.of(), 300, 3), 3), 3));
        assertTrue(tick(h, 200).isEmpty(), "before its deadline nothing happens");
        assertInstanceOf(SharedTimedOut.class, replyTo(tick(h, 100), 3));
        assertNull(replyTo(ask(h, "c", new QueuePut("q", 1, b(4), List.of(), 1_000, 4), 4), 4));
        List<Outgoing> out = ask(h, "d", new QueueTake("q", 1, 0, 5), 5);
        assertArrayEquals(b(1), ((SharedValue) replyTo(out, 5)).value());
        assertInstanceOf(Ack.class, replyTo(out, 4), "the waiting put went in");
        assertEquals(1, ((SharedCount) replyTo(ask(h, "d", new QueueSizeRequest("q"), 6), 6)).count());
        assertEquals(List.of(4), ((SharedValues) replyTo(ask(h, "d", new QueueDrain("q", 0), 7), 7)).values()
                .stream().map(v -> (int) v.value()[0]).toList());
    }

    /** dask: test_queues.py::test_hold_futures, test_queues.py::test_same_futures — queued keys stay while queued, then belong to the taker. */
    @Test
    void queuedFuturesStayUntilTakenThenBelongToTheTaker() {
        Harness h = new Harness();
        h.s.setQueuing(false);
        h.register(A, "a", 1);
        h.submit("c1", List.of(h.task("d-1")), "d-1");
        h.finish(A, "d-1", 10);
        for (int i = 0; i < 2; i++) {
            assertInstanceOf(Ack.class, replyTo(ask(h, "c1", new QueuePut("q", 0, b(i), List.of("d-1"), 0, i), 1), 1));
        }
        h.event(new SchedulerEvent.ClientGone("c1"));
        assertEquals("memory", h.s.view().stateOf("d-1"), "the queue keeps it");
        ask(h, "c2", new QueueTake("q", 0, 0, 9), 2);
        h.event(new SchedulerEvent.ClientGone("c2"));
        assertEquals("memory", h.s.view().stateOf("d-1"), "one item still names it");
        SharedValue v = (SharedValue) replyTo(ask(h, "c3", new QueueTake("q", 0, 0, 9), 3), 3);
        assertEquals(List.of("d-1"), v.keys());
        assertEquals("memory", h.s.view().stateOf("d-1"), "the taker holds it now");
        h.event(new SchedulerEvent.ClientGone("c3"));
        assertNull(h.s.view().stateOf("d-1"), "nobody holds it any more");
        ErrorReply e = (ErrorReply) replyTo(ask(h, "c", new QueuePut("q", 0, b(0), List.of("nope"), 0, 1), 4), 4);
        assertTrue(e.message().contains("nope"), e.message());
    }

    /** A client that left or stopped waiting is not handed an item: the next put stays queued. */
    @Test
    void goneOrCancelledTakersAreSkipped() {
        Harness h = new Harness();
        ask(h, "gone", new QueueTake("q", 0, 10_000, 1), 1);
        ask(h, "c", new QueueTake("q", 0, 10_000, 2), 2);
        h.event(new SchedulerEvent.ClientGone("gone"));
        h.event(new SchedulerEvent.FromClient("c", new SharedCancelWait("q", 2), 0));
        List<Outgoing> out = ask(h, "p", new QueuePut("q", 0, b(1), List.of(), 0, 3), 3);
        assertEquals(1, out.size(), "only the put's ack: " + out);
        assertEquals(1, h.s.extension(QueueExtension.class).size("q"));
    }

    /** Every list a peer can fill is bounded: waiters per queue, items per queue, queues. */
    @Test
    void boundsRefuse() {
        try (Config.Override w = Config.set("distributed.scheduler.shared-max-waiters", 2);
             Config.Override i = Config.set("distributed.scheduler.queue-max-items", 3);
             Config.Override n = Config.set("distributed.scheduler.shared-max-names", 2)) {
            Harness h = new Harness();
            ask(h, "c", new QueueTake("q", 0, 10_000, 1), 1);
            ask(h, "c", new QueueTake("q", 0, 10_000, 2), 2);
            ErrorReply e = (ErrorReply) replyTo(ask(h, "c", new QueueTake("q", 0, 10_000, 3), 3), 3);
            assertTrue(e.message().contains("shared-max-waiters"), e.message());
            for (int k = 0; k < 2; k++) {
                ask(h, "c", new QueuePut("q", 0, b(k), List.of(), 0, 9), 9); // to the two takers
            }
            for (int k = 0; k < 3; k++) {
                assertInstanceOf(Ack.class, replyTo(ask(h, "c", new QueuePut("q", 0, b(k), List.of(), 0, 9), 4), 4));
            }
            assertInstanceOf(SharedTimedOut.class, replyTo(ask(h, "c", new QueuePut("q", 0, b(9), List.of(), 0, 9), 5), 5),
                    "an unbounded queue stops at queue-max-items");
            e = (ErrorReply) replyTo(ask(h, "c", new QueuePut("big", 4, b(9), List.of(), 0, 9), 6), 6);
            assertTrue(e.message().contains("queue-max-items"), e.message());
            ask(h, "c", new QueuePut("q2", 0, b(1), List.of(), 0, 9), 7);
            e = (ErrorReply) replyTo(ask(h, "c", new QueuePut("q3", 0, b(1), List.of(), 0, 9), 8), 8);
            assertTrue(e.message().contains("shared-max-names"), e.message());
        }
    }

    /** Random puts, takes, waits, deadlines and departures: nothing is handed twice or lost, and the invariants hold throughout. */
    @Test
    void randomHistoriesConserveItems() {
        for (long seed = 0; seed < 20; seed++) {
            Random r = new Random(seed);
            Harness h = new Harness();
            Set<Integer> acked = new HashSet<>();
            List<Integer> pendingPuts = new ArrayList<>();
            Set<Integer> taken = new HashSet<>();
            ArrayDeque<Long> openTakes = new ArrayDeque<>();
            java.util.Map<Long, Integer> putIds = new java.util.HashMap<>();
            long id = 1;
            int next = 0;
            for (int step = 0; step < 300; step++) {
                List<Outgoing> out;
                int op = r.nextInt(10);
                String client = "c" + r.nextInt(3);
                if (op < 4) {
                    int item = next++;
                    putIds.put(id, item);
                    pendingPuts.add(item);
                    out = ask(h, client, new QueuePut("q", 5, new byte[]{(byte) item, (byte) (item >> 8)}, List.of(),
                            r.nextBoolean() ? 0 : 50, id), id);
                } else if (op < 8) {
                    openTakes.add(id);
                    out = ask(h, client, new QueueTake("q", 5, r.nextBoolean() ? 0 : 50, id), id);
                } else if (op < 9) {
                    out = tick(h, 20);
                } else {
                    out = h.event(new SchedulerEvent.ClientGone(client)); // its waits end unanswered
                }
                id++;
                for (Outgoing o : out) {
                    if (o.message() instanceof Ack && putIds.containsKey(o.replyTo())) {
                        acked.add(putIds.get(o.replyTo()));
                    } else if (o.message() instanceof SharedValue v) {
                        int item = (v.value()[0] & 0xff) | ((v.value()[1] & 0xff) << 8);
                        assertTrue(taken.add(item), "seed " + seed + ": item " + item + " handed twice");
                    }
                }
            }
            int queued = h.s.extension(QueueExtension.class).size("q");
            for (Integer t : taken) {
                assertTrue(acked.contains(t), "seed " + seed + ": item " + t + " taken but its put was never acknowledged");
            }
            assertEquals(acked.size(), taken.size() + queued, "seed " + seed + ": acknowledged puts are taken or queued");
        }
    }

    /** A cluster restart forgets every task: queued items and variable values holding futures go, plain ones stay. */
    @Test
    void aClusterRestartDropsWhatHoldsForgottenFutures() {
        Harness h = new Harness();
        h.s.setQueuing(false);
        h.register(A, "a", 1);
        h.submit("c", List.of(h.task("d-1")), "d-1");
        h.finish(A, "d-1", 10);
        ask(h, "c", new QueuePut("q", 0, b(1), List.of("d-1"), 0, 1), 1);
        ask(h, "c", new QueuePut("q", 0, b(2), List.of(), 0, 2), 2);
        ask(h, "c", new VariableSet("with", b(3), List.of("d-1")), 3);
        ask(h, "c", new VariableSet("plain", b(4), List.of()), 4);
        ask(h, "c", new Message.RestartCluster("c"), 5);
        assertNull(h.s.view().stateOf("d-1"));
        SharedValue left = (SharedValue) replyTo(ask(h, "c", new QueueTake("q", 0, 0, 6), 6), 6);
        assertArrayEquals(b(2), left.value());
        assertEquals(0, h.s.extension(QueueExtension.class).size("q"));
        assertInstanceOf(SharedTimedOut.class, replyTo(ask(h, "c", new VariableGet("with", 0), 7), 7));
        assertArrayEquals(b(4), ((SharedValue) replyTo(ask(h, "c", new VariableGet("plain", 0), 8), 8)).value());
        h.submit("c", List.of(h.task("d-1")), "d-1"); // the same key again: nothing stale holds it
        h.finish(A, "d-1", 10);
        h.event(new SchedulerEvent.ClientGone("c"));
        assertNull(h.s.view().stateOf("d-1"));
    }

    // ------------------------------------------------------------------ events

    /** dask: test_events.py::test_timeout, test_events.py::test_default_event — a wait ends true on set, false at its deadline; a clear idle event is forgotten. */
    @Test
    void eventWaitsAndDeadlines() {
        Harness h = new Harness();
        assertFalse(((SharedFlag) replyTo(ask(h, "c", new EventWait("e", 0), 1), 1)).value());
        assertNull(replyTo(ask(h, "c", new EventWait("e", 100), 2), 2));
        assertNull(replyTo(ask(h, "c", new EventWait("e", 1_000), 3), 3));
        assertFalse(((SharedFlag) replyTo(tick(h, 100), 2)).value());
        List<Outgoing> out = ask(h, "d", new EventSet("e"), 4);
        assertTrue(((SharedFlag) replyTo(out, 3)).value());
        assertInstanceOf(Ack.class, replyTo(out, 4));
        assertTrue(((SharedFlag) replyTo(ask(h, "c", new EventWait("e", 100), 5), 5)).value());
        ask(h, "d", new EventClear("e"), 6);
        assertEquals(0, h.s.extension(EventExtension.class).eventCount(), "dask: no events left once cleared");
        ask(h, "gone", new EventWait("e", 1_000), 7);
        h.event(new SchedulerEvent.ClientGone("gone"));
        assertEquals(0, h.s.extension(EventExtension.class).eventCount());
    }

    // ------------------------------------------------------------------ variables

    /** dask: test_variable.py::test_variable, test_variable.py::test_timeout_get — a get waits for a set; the value keeps its keys until deleted. */
    @Test
    void variableWaitsAndKeepsKeys() {
        Harness h = new Harness();
        h.s.setQueuing(false);
        h.register(A, "a", 1);
        h.submit("c1", List.of(h.task("d-1"), h.task("d-2")), "d-1", "d-2");
        h.finish(A, "d-1", 10);
        h.finish(A, "d-2", 10);
        assertNull(replyTo(ask(h, "c2", new VariableGet("v", 1_000), 1), 1));
        assertInstanceOf(SharedTimedOut.class, replyTo(ask(h, "c2", new VariableGet("w", 0), 2), 2));
        List<Outgoing> out = ask(h, "c1", new VariableSet("v", b(1), List.of("d-1")), 3);
        assertEquals(List.of("d-1"), ((SharedValue) replyTo(out, 1)).keys());
        h.event(new SchedulerEvent.ClientGone("c1"));
        h.event(new SchedulerEvent.ClientGone("c2"));
        assertEquals("memory", h.s.view().stateOf("d-1"), "the variable keeps it");
        assertNull(h.s.view().stateOf("d-2"), "nothing keeps it");
        ask(h, "c3", new VariableDelete("v"), 4);
        assertNull(h.s.view().stateOf("d-1"));
        assertEquals(0, h.s.extension(VariableExtension.class).variableCount());
        assertInstanceOf(Ack.class, replyTo(ask(h, "c3", new VariableDelete("never"), 5), 5), "deleting nothing is quiet");
    }

    // ------------------------------------------------------------------ topics

    /** dask: test_client.py::test_log_event — events go to subscribers and are kept, the oldest dropped past events-log-length. */
    @Test
    void topicsForwardAndKeepRecentEvents() {
        try (Config.Override o = Config.set("distributed.scheduler.events-log-length", 2)) {
            Harness h = new Harness();
            ask(h, "sub", new SubscribeTopic("t", true), 1);
            List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c", new LogEvent("t", 5, b(1)), 0));
            assertEquals(1, out.size(), out.toString());
            assertEquals("sub", out.get(0).to());
            TopicEvent sent = (TopicEvent) out.get(0).message();
            assertEquals(5, sent.epochMillis());
            assertArrayEquals(b(1), sent.message());
            h.event(new SchedulerEvent.FromClient("c", new LogEvent("t", 6, b(2)), 0));
            h.event(new SchedulerEvent.ClientGone("sub"));
            out = h.event(new SchedulerEvent.FromClient("c", new LogEvent("t", 7, b(3)), 0));
            assertTrue(out.isEmpty(), "no subscriber left: " + out);
            List<TopicEvent> kept = ((TopicEvents) replyTo(ask(h, "c", new GetTopicEvents("t"), 2), 2)).events();
            assertEquals(List.of(6L, 7L), kept.stream().map(TopicEvent::epochMillis).toList());
        }
    }
}
