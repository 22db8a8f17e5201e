package dist.scheduler;

import dist.protocol.Message.AcquireData;
import dist.protocol.Message.AddKeys;
import dist.protocol.Message.CloseWorker;
import dist.protocol.Message.ComputeTask;
import dist.protocol.Message.RetireReply;
import dist.protocol.Message.RetireRequest;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Graceful retirement on the bare state machine (invariants checked after every event): the
 * worker is closing gracefully and gets nothing new, its only copy is asked of the other worker,
 * and it is closed only once that copy is listed; with nowhere to go, it runs again and the answer
 * says why. dask: test_active_memory_manager.py::test_RetireWorker_amm_on_off,
 * test_RetireWorker_no_recipients (the same cases on real workers are in SchedulerRetireConformanceTest).
 */
class RetireStateTest {
    static final String A = "10.0.4.1:9000", B = "10.0.4.2:9000";

    static <T> T find(List<Outgoing> out, String to, Class<T> type) {
        for (Outgoing o : out) {
            if (o.to().equals(to) && type.isInstance(o.message())) {
                return type.cast(o.message());
            }
        }
        return null;
    }

    @Test
    void aWorkerClosesOnlyOnceItsOnlyCopyIsListedElsewhere() {
        Harness h = new Harness();
        h.register(A, "a", 1);
        h.register(B, "b", 1);
        h.submit("c", List.of(h.task("x")), "x");
        String on = h.s.view().processingOn("x");
        String other = on.equals(A) ? B : A;
        h.finish(on, "x", 8);

        List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c", new RetireRequest(List.of(on), 0, 10_000), 7));
        assertEquals("closing_gracefully", h.s.view().workerStatus(on));
        assertEquals(Map.of("x", List.of(on)), find(out, other, AcquireData.class).sources());
        assertNull(find(out, "c", RetireReply.class), "no answer before the copy is listed");

        out = h.submit("c", List.of(h.task("y")), "y");
        assertNull(find(out, on, ComputeTask.class), "nothing new goes to a closing worker");
        assertNotNull(find(out, other, ComputeTask.class));

        h.worker(other, new AddKeys(Map.of("x", 8L)));
        out = h.event(new SchedulerEvent.Tick());
        assertNotNull(find(out, on, CloseWorker.class));
        RetireReply r = find(out, "c", RetireReply.class);
        assertEquals(List.of(on), r.retired().stream().map(i -> i.address()).toList());
        assertEquals(Map.of(), r.kept());
        assertEquals(Map.of("x", List.of(other)), h.s.view().whoHas(List.of("x")));
        assertEquals("memory", h.s.view().stateOf("x"), "nothing is recomputed");
    }

    @Test
    void aWorkerWithNowhereToPutItsDataStaysAndRunsAgain() {
        Harness h = new Harness();
        h.register(A, "a", 1);
        h.submit("c", List.of(h.task("x")), "x");
        h.finish(A, "x", 8);
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c", new RetireRequest(List.of(A), 0, 10_000), 7));
        RetireReply r = find(out, "c", RetireReply.class);
        assertEquals(List.of(), r.retired());
        assertTrue(r.kept().get(A).contains("no other running worker"), r.kept().toString());
        assertEquals("running", h.s.view().workerStatus(A));
        assertNull(find(out, A, CloseWorker.class));
    }

    @Test
    void aRetirementPastItsDeadlineKeepsTheWorker() {
        Harness h = new Harness();
        h.register(A, "a", 1);
        h.register(B, "b", 1);
        h.submit("c", List.of(h.task("x")), "x");
        String on = h.s.view().processingOn("x");
        h.finish(on, "x", 8);
        h.event(new SchedulerEvent.FromClient("c", new RetireRequest(List.of(on), 0, 1_000), 7));
        h.now += 2_000_000_000L; // the copy never came
        List<Outgoing> out = h.event(new SchedulerEvent.Tick());
        RetireReply r = find(out, "c", RetireReply.class);
        assertTrue(r.kept().get(on).contains("deadline"), r.kept().toString());
        assertEquals("running", h.s.view().workerStatus(on));
    }
}
