package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.ErrorReply;
import dist.protocol.Message.Ping;

import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;

import org.junit.jupiter.api.Test;

import static dist.scheduler.TaskState.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The task state machine as one table keyed by (from, to), as dask's {@code _transitions_table}:
 * a pair missing from it is an error naming the key, both states and the event that asked, and the
 * recommendations that no longer apply are dropped by the loop's rules, not by silent defaults.
 */
class TransitionTableTest {

    /** On a client's Ping, recommends what {@code action} decides, as any extension may. */
    private static Harness withRecommender(BiConsumer<SchedulerContext, String> action) {
        Harness h = new Harness();
        h.s.register(new SchedulerExtension() {
            SchedulerContext core;

            @Override
            public void start(SchedulerContext core) {
                this.core = core;
            }

            @Override
            public Set<Class<? extends Message>> clientMessages() {
                return Set.of(Ping.class);
            }

            @Override
            public void onClient(String clientId, Message message, long requestId) {
                action.accept(core, clientId);
            }
        });
        return h;
    }

    @Test
    void aPairMissingFromTheTableFailsNamingKeyStatesAndEvent() {
        // as dask's Scheduler._transition raises on a (start, finish) pair missing from _transitions_table
        Harness h = withRecommender((core, c) -> core.recommend(core.task("x"), NO_WORKER));
        h.register("w1", "w1", 1);
        h.submit("c1", List.of(h.task("x")), "x");
        assertEquals("processing", h.s.view().stateOf("x"));
        ImpossibleTransition e = assertThrows(ImpossibleTransition.class,
                () -> h.event(new SchedulerEvent.FromClient("c1", new Ping(1), 3)));
        assertEquals("x", e.key);
        assertEquals("processing", e.from);
        assertEquals("no-worker", e.to);
        assertEquals("Ping from c1", e.event);
        assertTrue(e.getMessage().contains("x: processing -> no-worker"), e.getMessage());
        assertTrue(e.getMessage().contains("Ping from c1"), e.getMessage());
    }

    @Test
    void outsideTestsTheSenderHearsOfItAndTheSchedulerCarriesOn() {
        Harness h = withRecommender((core, c) -> core.recommend(core.task("x"), NO_WORKER));
        h.s.failFast(false);
        h.register("w1", "w1", 1);
        h.submit("c1", List.of(h.task("x")), "x");
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c1", new Ping(1), 3));
        assertEquals(1, out.size());
        ErrorReply r = assertInstanceOf(ErrorReply.class, out.get(0).message());
        assertTrue(r.message().contains("impossible transition of x: processing -> no-worker"), r.message());
        assertTrue(r.message().contains("asked by Ping from c1"), r.message());
        assertEquals("processing", h.s.view().stateOf("x"));
        h.finish("w1", "x", 8);
        assertEquals("memory", h.s.view().stateOf("x"));
    }

    @Test
    void recommendationsThatNoLongerApplyAreDroppedByRule() {
        // x is wanted: a release no longer applies; already in memory: waiting and processing do not either
        Harness h = withRecommender((core, c) -> {
            TaskState x = core.task("x");
            core.recommend(x, RELEASED);
            core.recommend(x, FORGOTTEN);
            core.recommend(x, WAITING);
            core.recommend(x, PROCESSING);
        });
        h.register("w1", "w1", 1);
        h.submit("c1", List.of(h.task("x")), "x");
        h.finish("w1", "x", 8);
        h.event(new SchedulerEvent.FromClient("c1", new Ping(1), 3));
        assertEquals("memory", h.s.view().stateOf("x"));
    }

    @Test
    void theTableHasTheEdgesOfTheTaskLifecycleAndNoOthers() {
        byte[] all = {RELEASED, WAITING, NO_WORKER, PROCESSING, MEMORY, ERRED, FORGOTTEN, QUEUED};
        for (byte to : all) {
            assertFalse(SchedulerState.hasEdge(FORGOTTEN, to), "out of forgotten to " + name(to));
            assertFalse(SchedulerState.hasEdge(to, to), "a self edge at " + name(to));
        }
        for (byte to : all) {
            assertEquals(to == RELEASED, SchedulerState.hasEdge(MEMORY, to), "memory to " + name(to));
            assertEquals(to == RELEASED, SchedulerState.hasEdge(ERRED, to), "erred to " + name(to));
            assertEquals(to == RELEASED, SchedulerState.hasEdge(to, FORGOTTEN), "into forgotten from " + name(to));
        }
        for (byte from : new byte[]{RELEASED, WAITING, NO_WORKER, PROCESSING, QUEUED}) {
            assertTrue(SchedulerState.hasEdge(from, ERRED), name(from) + " to erred");
            assertTrue(SchedulerState.hasEdge(from, MEMORY), name(from) + " to memory");
        }
    }
}
