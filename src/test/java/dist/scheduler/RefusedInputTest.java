package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.ErrorReply;
import dist.protocol.Message.KeyErred;
import dist.protocol.Message.UpdateGraph;
import dist.protocol.TaskOptions;
import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Input the scheduler refuses: a graph with a cycle, bad task options, malformed worker messages.
 * A refused update changes nothing and fails the futures it would have fed, naming why; every
 * refusal is logged with the message type and the peer; the state stays valid (the harness checks
 * it after every event).
 */
class RefusedInputTest {
    private static final String W = "10.0.0.1:9000";
    /** Held strongly: java.util.logging forgets a logger nobody references, and its handlers with it. */
    private static final Logger SCHEDULER_LOG = Logger.getLogger("dist.scheduler");

    private static Harness oneWorker() {
        Harness h = new Harness();
        h.register(W, "w", 1);
        return h;
    }

    private static List<KeyErred> erred(List<Outgoing> out, String client) {
        List<KeyErred> l = new ArrayList<>();
        for (Outgoing o : out) {
            if (o.to().equals(client) && o.message() instanceof KeyErred e) {
                l.add(e);
            }
        }
        return l;
    }

    private static boolean sentAny(List<Outgoing> out, Class<? extends Message> type) {
        return out.stream().anyMatch(o -> type.isInstance(o.message()));
    }

    @Test
    void aCycleIsRefusedNamingAKeyOfItAndNothingOfTheUpdateIsApplied() {
        Harness h = oneWorker();
        // sent as a raw message: no client-side check ran
        List<Outgoing> out = h.submit("c1", List.of(h.task("free"), h.task("a", "b"), h.task("b", "c"),
                h.task("c", "a"), h.task("tail", "a")), "free", "tail");
        assertEquals(0, h.s.view().taskCount(), "a refused update left tasks behind");
        assertFalse(sentAny(out, Message.ComputeTask.class), "a task of a refused update was sent to a worker");
        List<KeyErred> e = erred(out, "c1");
        assertEquals(List.of("free", "tail"), e.stream().map(KeyErred::key).toList());
        for (KeyErred k : e) {
            assertTrue(List.of("a", "b", "c").contains(k.causeKey()), "cause " + k.causeKey());
            assertTrue(k.summary().contains("cycle") && k.summary().contains("a -> b -> c -> a")
                    || k.summary().contains("b -> c -> a -> b") || k.summary().contains("c -> a -> b -> c"), k.summary());
        }
        assertTrue(out.stream().anyMatch(o -> o.to().equals("c1") && o.message() instanceof ErrorReply r
                && r.message().contains("cycle")), out.toString());
    }

    @Test
    void aTaskThatDependsOnItselfIsACycleOfOne() {
        Harness h = oneWorker();
        List<Outgoing> out = h.submit("c1", List.of(h.task("me", "me")), "me");
        assertEquals(0, h.s.view().taskCount());
        KeyErred e = erred(out, "c1").get(0);
        assertEquals("me", e.causeKey());
        assertTrue(e.summary().contains("me -> me"), e.summary());
    }

    @Test
    void theSameGraphWithoutItsCycleRuns() {
        Harness h = oneWorker();
        List<Outgoing> out = h.submit("c1", List.of(h.task("a"), h.task("b", "a"), h.task("c", "b")), "c");
        assertTrue(erred(out, "c1").isEmpty(), out.toString());
        assertEquals(3, h.s.view().taskCount());
        assertEquals("processing", h.s.view().stateOf("a"));
    }

    @Test
    void longChainsAreCheckedWithoutOverflowingTheStack() {
        Harness h = oneWorker();
        int n = 200_000;
        List<TaskSpec> chain = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            chain.add(i == 0 ? h.task("k-0", "k-" + (n - 1)) : h.task("k-" + i, "k-" + (i - 1)));
        }
        List<Outgoing> out = h.submit("c1", chain, "k-" + (n - 1));
        assertEquals(0, h.s.view().taskCount());
        assertTrue(erred(out, "c1").get(0).summary().contains("cycle"));

        chain.set(0, h.task("k-0"));
        out = h.submit("c1", chain, "k-" + (n - 1));
        assertTrue(erred(out, "c1").isEmpty());
        assertEquals(n, h.s.view().taskCount());
    }

    @Test
    void aRefusedUpdateLeavesTheClientsEarlierFuturesAlone() {
        Harness h = oneWorker();
        h.submit("c1", List.of(h.task("x")), "x");
        List<Outgoing> out = h.submit("c1", List.of(h.task("y", "z"), h.task("z", "y")), "x", "y");
        assertEquals(List.of("y"), erred(out, "c1").stream().map(KeyErred::key).toList());
        assertEquals("processing", h.s.view().stateOf("x"));
        assertTrue(erred(h.finish(W, "x", 8), "c1").isEmpty());
        assertEquals("memory", h.s.view().stateOf("x"));
    }

    @Test
    void badResourcesAreRefusedBeforeAnyTaskOfTheUpdateExists() {
        Harness h = oneWorker();
        TaskOptions nan = new TaskOptions(List.of(), false, Map.of("GPU", Double.NaN), 0);
        List<Outgoing> out = h.submit("c1", List.of(h.task("ok"), h.task("gpu", nan, "ok")), "ok", "gpu");
        assertEquals(0, h.s.view().taskCount(), "the first task of the refused update was kept");
        List<KeyErred> e = erred(out, "c1");
        assertEquals(List.of("ok", "gpu"), e.stream().map(KeyErred::key).toList());
        assertTrue(e.get(0).summary().contains("GPU=NaN"), e.get(0).summary());
        assertEquals("gpu", e.get(0).causeKey());
    }

    @Test
    void aFailingOneWayHandlerLogsTheMessageTypeAndThePeerAndLeavesAValidState() {
        Harness h = oneWorker();
        h.s.logEvents(true);
        List<LogRecord> records = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                synchronized (records) {
                    records.add(r);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        SCHEDULER_LOG.addHandler(capture);
        try {
            h.submit("c1", List.of(h.task("x")), "x");
            // one-way (request id 0), malformed: no list of keys
            h.worker(W, new Message.TasksStarted(null));
            h.client("c1", new UpdateGraph("c1", List.of(h.task("p", "q"), h.task("q", "p")), List.of("p")));
            assertEquals("processing", h.s.view().stateOf("x"));
            assertEquals(List.of(), erred(h.finish(W, "x", 8), "c1"));
        } finally {
            SCHEDULER_LOG.removeHandler(capture);
        }
        List<String> lines;
        synchronized (records) {
            lines = records.stream().map(LogRecord::getMessage).toList();
        }
        assertTrue(lines.stream().anyMatch(l -> l.contains("TasksStarted") && l.contains(W)), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.contains("UpdateGraph") && l.contains("c1") && l.contains("cycle")),
                lines.toString());
    }

    @Test
    void oneMistakeRepeatedIsLoggedOncePerIntervalNotOncePerMessage() {
        Harness h = oneWorker();
        h.s.logEvents(true);
        List<String> lines = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                synchronized (lines) {
                    lines.add(r.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        SCHEDULER_LOG.addHandler(capture);
        try {
            for (int i = 0; i < 1000; i++) {
                h.worker(W, new Message.TasksQueued(null));
            }
            h.now += FailureLog.INTERVAL_NANOS;
            h.worker(W, new Message.TasksQueued(null));
        } finally {
            SCHEDULER_LOG.removeHandler(capture);
        }
        List<String> refused;
        synchronized (lines) {
            refused = lines.stream().filter(l -> l.contains("TasksQueued")).toList();
        }
        assertEquals(2, refused.size(), refused.toString());
        assertTrue(refused.get(1).contains("999 more"), refused.get(1));
    }
}
