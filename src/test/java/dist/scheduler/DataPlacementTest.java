package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.*;
import dist.protocol.TaskOptions;
import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Work stealing, resources, no-worker status, data placement queries and datasets, at the state-machine level. */
class DataPlacementTest {
    static final String A = "10.0.0.1:9000", B = "10.0.0.2:9000", C = "10.0.0.3:9000";

    static List<Message> to(List<Outgoing> out, String dest) {
        List<Message> l = new ArrayList<>();
        for (Outgoing o : out) {
            if (o.to().equals(dest)) {
                if (o.message() instanceof Batch b) {
                    l.addAll(b.messages());
                } else {
                    l.add(o.message());
                }
            }
        }
        return l;
    }

    static <T> List<T> of(List<Message> ms, Class<T> type) {
        return ms.stream().filter(type::isInstance).map(type::cast).toList();
    }

    static Message reply(Harness h, String client, Message request) {
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient(client, request, 42));
        for (Outgoing o : out) {
            if (o.replyTo() == 42) {
                return o.message();
            }
        }
        fail("no reply to " + request + " in " + out);
        return null;
    }

    // ---------------------------------------------------------------- work stealing

    @Test
    void aBurstOnOneWorkerSpreadsToANewlyArrivedOne() {
        Harness h = new Harness();
        h.s.setQueuing(false); // stealing on its own: every task is sent to a worker at once
        h.register(A, "a", 1);
        List<TaskSpec> burst = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            burst.add(h.task("burst-" + i));
            keys.add("burst-" + i);
        }
        h.submit("c", burst, keys.toArray(String[]::new));
        for (String k : keys) {
            assertEquals(A, h.s.view().processingOn(k));
        }
        h.register(B, "b", 1);
        List<StealRequest> steals = of(to(h.event(new SchedulerEvent.Tick()), A), StealRequest.class);
        assertEquals(500, steals.size(), "half of the backlog is asked for");
        // the first tasks run on A already: the latest ones are taken
        assertEquals("burst-999", steals.get(0).key());
        List<ComputeTask> moved = new ArrayList<>();
        for (StealRequest r : steals) {
            moved.addAll(of(to(h.worker(A, new StealResponse(r.key(), true)), B), ComputeTask.class));
        }
        assertEquals(500, moved.size());
        int onB = 0;
        for (String k : keys) {
            onB += B.equals(h.s.view().processingOn(k)) ? 1 : 0;
        }
        assertEquals(500, onB);
        assertTrue(of(to(h.event(new SchedulerEvent.Tick()), A), StealRequest.class).isEmpty(), "balanced now");
    }

    /** As dask's stealing.py balance(): thieves come from the idle workers, never from saturated ones. */
    @Test
    void workersThatAreAllSaturatedStealNothingFromEachOther() {
        Harness h = new Harness();
        h.s.setQueuing(false);
        h.register(A, "a", 1);
        List<TaskSpec> burst = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            burst.add(h.task("burst-" + i));
        }
        h.submit("c", burst, "burst-0", "burst-1", "burst-2", "burst-3", "burst-4", "burst-5");
        h.register(B, "b", 1);
        h.submit("c", List.of(h.task("late-0"), h.task("late-1")), "late-0", "late-1"); // B now holds two
        assertEquals(B, h.s.view().processingOn("late-0"));
        assertEquals(B, h.s.view().processingOn("late-1"));
        // A holds six and B two, both more than their one thread: neither is a thief
        assertTrue(of(to(h.event(new SchedulerEvent.Tick()), A), StealRequest.class).isEmpty());
    }

    @Test
    void aRefusedStealLeavesTheTaskWhereItRuns() {
        Harness h = new Harness();
        h.s.setQueuing(false); // stealing on its own: every task is sent to a worker at once
        h.register(A, "a", 1);
        h.submit("c", List.of(h.task("t-1"), h.task("t-2"), h.task("t-3")), "t-1", "t-2", "t-3");
        h.register(B, "b", 1);
        List<StealRequest> steals = of(to(h.event(new SchedulerEvent.Tick()), A), StealRequest.class);
        assertFalse(steals.isEmpty());
        for (StealRequest r : steals) {
            assertTrue(to(h.worker(A, new StealResponse(r.key(), false)), B).isEmpty());
            assertEquals(A, h.s.view().processingOn(r.key()));
        }
        // finishing normally still works
        h.finish(A, "t-3", 8);
        assertEquals("memory", h.s.view().stateOf("t-3"));
    }

    @Test
    void restrictedTasksStayPut() {
        Harness h = new Harness();
        h.s.setQueuing(false); // stealing on its own: every task is sent to a worker at once
        h.register(A, "a", 1);
        TaskOptions onA = new TaskOptions(List.of("a"), false, Map.of(), 0);
        h.submit("c", List.of(h.task("r-1", onA), h.task("r-2", onA), h.task("r-3", onA)), "r-1", "r-2", "r-3");
        h.register(B, "b", 1);
        assertTrue(of(to(h.event(new SchedulerEvent.Tick()), A), StealRequest.class).isEmpty());
    }

    @Test
    void tasksWithLargeInputsElsewhereAreNotStolen() {
        Harness h = new Harness();
        h.s.setQueuing(false); // stealing on its own: every task is sent to a worker at once
        h.register(A, "a", 1);
        h.submit("c", List.of(h.task("big")), "big");
        h.finish(A, "big", 1_000_000_000L); // 1 GB: 10 s to move at 100 MB/s, a task takes 0.5 s
        h.submit("c", List.of(h.task("use-1", "big"), h.task("use-2", "big"), h.task("use-3", "big")),
                "use-1", "use-2", "use-3");
        h.register(B, "b", 1);
        assertTrue(of(to(h.event(new SchedulerEvent.Tick()), A), StealRequest.class).isEmpty());
    }

    @Test
    void theThiefDyingBeforeTheAnswerPlacesTheTaskAfresh() {
        Harness h = new Harness();
        h.s.setQueuing(false); // stealing on its own: every task is sent to a worker at once
        h.register(A, "a", 1);
        h.submit("c", List.of(h.task("t-1"), h.task("t-2"), h.task("t-3"), h.task("t-4")), "t-1", "t-2", "t-3", "t-4");
        h.register(B, "b", 1);
        List<StealRequest> steals = of(to(h.event(new SchedulerEvent.Tick()), A), StealRequest.class);
        assertFalse(steals.isEmpty());
        h.gone(B);
        String k = steals.get(0).key();
        List<Outgoing> out = h.worker(A, new StealResponse(k, true));
        assertEquals(A, h.s.view().processingOn(k), "given back, and sent again to the only worker left");
        assertEquals(1, of(to(out, A), ComputeTask.class).size());
    }

    @Test
    void aFinishedStolenTaskIsSettledNormally() {
        Harness h = new Harness();
        h.s.setQueuing(false); // stealing on its own: every task is sent to a worker at once
        h.register(A, "a", 1);
        h.submit("c", List.of(h.task("t-1"), h.task("t-2"), h.task("t-3")), "t-1", "t-2", "t-3");
        h.register(B, "b", 1);
        List<StealRequest> steals = of(to(h.event(new SchedulerEvent.Tick()), A), StealRequest.class);
        String k = steals.get(0).key();
        h.finish(A, k, 8); // it started before the request arrived
        assertTrue(h.worker(A, new StealResponse(k, false)).isEmpty());
        assertEquals("memory", h.s.view().stateOf(k));
    }

    // ---------------------------------------------------------------- resources

    static TaskOptions gpu(double n) {
        return new TaskOptions(List.of(), false, Map.of("GPU", n), 0);
    }

    @Test
    void aTaskNeedingAGpuRunsOnlyWhereOneIsFree() {
        Harness h = new Harness();
        h.s.setQueuing(false); // stealing on its own: every task is sent to a worker at once
        h.register(A, "a", 4);
        h.register(B, "b", 4);
        h.worker(B, new WorkerResources(Map.of("GPU", 2.0)));
        h.submit("c", List.of(h.task("g-1", gpu(1)), h.task("g-2", gpu(1)), h.task("g-3", gpu(1))),
                "g-1", "g-2", "g-3");
        assertEquals(B, h.s.view().processingOn("g-1"));
        assertEquals(B, h.s.view().processingOn("g-2"));
        assertEquals("no-worker", h.s.view().stateOf("g-3"), "both GPUs are in use");
        TaskStatusReply st = (TaskStatusReply) reply(h, "c", new TaskStatusRequest(List.of("g-3", "g-1")));
        assertEquals("no-worker", st.states().get("g-3"));
        assertEquals("processing", st.states().get("g-1"));
        assertTrue(st.reasons().get("g-3").contains("in use"), st.reasons().toString());
        List<Outgoing> out = h.finish(B, "g-1", 8);
        assertEquals(B, h.s.view().processingOn("g-3"), "a GPU was freed");
        assertEquals(1, of(to(out, B), ComputeTask.class).size());
    }

    @Test
    void aTaskNeedingAResourceNobodyOffersWaitsUntilAWorkerOffersIt() {
        Harness h = new Harness();
        h.s.setQueuing(false); // stealing on its own: every task is sent to a worker at once
        h.register(A, "a", 4);
        h.submit("c", List.of(h.task("g-1", gpu(1))), "g-1");
        assertEquals("no-worker", h.s.view().stateOf("g-1"));
        TaskStatusReply st = (TaskStatusReply) reply(h, "c", new TaskStatusRequest(List.of("g-1")));
        assertTrue(st.reasons().get("g-1").contains("no worker offers"), st.reasons().toString());
        h.register(B, "b", 1);
        assertEquals("no-worker", h.s.view().stateOf("g-1"));
        h.worker(B, new WorkerResources(Map.of("GPU", 1.0)));
        assertEquals(B, h.s.view().processingOn("g-1"));
    }

    @Test
    void badResourcesAreRefusedWithAClearError() {
        Harness h = new Harness();
        h.s.setQueuing(false); // stealing on its own: every task is sent to a worker at once
        h.register(A, "a", 1);
        List<Outgoing> out = h.event(new SchedulerEvent.FromWorker(A, new WorkerResources(Map.of("GPU", -1.0)), 9));
        assertInstanceOf(ErrorReply.class, out.get(0).message());
        assertTrue(((ErrorReply) out.get(0).message()).message().contains("GPU"));
    }

    @Test
    void stealingRespectsResources() {
        Harness h = new Harness();
        h.s.setQueuing(false); // stealing on its own: every task is sent to a worker at once
        h.register(A, "a", 1);
        h.worker(A, new WorkerResources(Map.of("GPU", 5.0)));
        h.submit("c", List.of(h.task("g-1", gpu(1)), h.task("g-2", gpu(1)), h.task("g-3", gpu(1))),
                "g-1", "g-2", "g-3");
        h.register(B, "b", 1); // no GPU
        assertTrue(of(to(h.event(new SchedulerEvent.Tick()), A), StealRequest.class).isEmpty());
    }

    // ---------------------------------------------------------------- no-worker status

    @Test
    void noWorkerStatusNamesTheRestriction() {
        Harness h = new Harness();
        h.s.setQueuing(false); // stealing on its own: every task is sent to a worker at once
        h.register(A, "a", 1);
        h.submit("c", List.of(h.task("t", new TaskOptions(List.of("dave"), false, Map.of(), 0))), "t");
        TaskStatusReply st = (TaskStatusReply) reply(h, "c", new TaskStatusRequest(List.of("t", "unknown")));
        assertEquals(Map.of("t", "no-worker"), st.states());
        assertTrue(st.reasons().get("t").contains("dave"));
        h.register(B, "dave", 1);
        assertEquals(B, h.s.view().processingOn("t"));
    }

    // ---------------------------------------------------------------- data placement queries

    @Test
    void hasWhatNbytesAndDropReplicas() {
        Harness h = new Harness();
        h.s.setQueuing(false); // stealing on its own: every task is sent to a worker at once
        h.register(A, "a", 1);
        h.register(B, "b", 1);
        h.submit("c", List.of(new TaskSpec("x-1", null, List.of(), 0, null)), "x-1");
        h.worker(A, new AddKeys(Map.of("x-1", 100L)));
        h.worker(B, new AddKeys(Map.of("x-1", 100L)));
        assertEquals(Map.of(A, List.of("x-1"), B, List.of("x-1")),
                ((HasWhatReply) reply(h, "c", new HasWhatRequest(List.of()))).hasWhat());
        assertEquals(Map.of(B, List.of("x-1")),
                ((HasWhatReply) reply(h, "c", new HasWhatRequest(List.of("b")))).hasWhat());
        assertEquals(Map.of("x-1", 100L), ((NbytesReply) reply(h, "c", new NbytesRequest(List.of()))).nbytes());
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c", new DropReplicas(Map.of("x-1", List.of(A, B))), 7));
        assertEquals(List.of(B), h.s.view().whoHas(List.of("x-1")).get("x-1"), "the last copy stays");
        assertTrue(out.contains(Outgoing.send(A, new FreeKeys(List.of("x-1")))));
    }

    // ---------------------------------------------------------------- datasets

    @Test
    void aPublishedDatasetKeepsItsKeysAfterItsClientLeaves() {
        Harness h = new Harness();
        h.s.setQueuing(false); // stealing on its own: every task is sent to a worker at once
        h.register(A, "a", 1);
        h.submit("c", List.of(h.task("d-1")), "d-1");
        h.finish(A, "d-1", 10);
        byte[] shape = {1, 2, 3};
        assertInstanceOf(Ack.class, reply(h, "c", new PublishDataset("mine", List.of("d-1"), shape, false)));
        assertInstanceOf(ErrorReply.class, reply(h, "c", new PublishDataset("mine", List.of("d-1"), shape, false)));
        h.event(new SchedulerEvent.ClientGone("c"));
        assertEquals("memory", h.s.view().stateOf("d-1"));
        DatasetReply d = (DatasetReply) reply(h, "c2", new GetDataset("mine"));
        assertEquals(List.of("d-1"), d.keys());
        assertArrayEquals(shape, d.shape());
        assertEquals(List.of("mine"), ((DatasetNames) reply(h, "c2", new ListDatasets())).names());
        assertInstanceOf(Ack.class, reply(h, "c2", new UnpublishDataset("mine")));
        assertNull(h.s.view().stateOf("d-1"), "nobody wants it any more");
        ErrorReply e = (ErrorReply) reply(h, "c2", new GetDataset("mine"));
        assertTrue(e.message().contains("no dataset named 'mine'"));
    }

    @Test
    void publishingAnUnknownKeyIsRefused() {
        Harness h = new Harness();
        h.s.setQueuing(false); // stealing on its own: every task is sent to a worker at once
        ErrorReply e = (ErrorReply) reply(h, "c", new PublishDataset("x", List.of("nope"), new byte[0], false));
        assertTrue(e.message().contains("nope"));
        assertEquals(List.of(), h.s.view().datasetNames());
    }
}
