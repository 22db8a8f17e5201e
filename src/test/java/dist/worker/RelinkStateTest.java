package dist.worker;

import dist.protocol.Message;
import dist.protocol.Message.ComputeTask;
import dist.worker.WorkerEvent.Compute;
import dist.worker.WorkerEvent.DataAdded;
import dist.worker.WorkerEvent.ExecuteDone;
import dist.worker.WorkerEvent.FetchDone;
import dist.worker.WorkerEvent.Free;
import dist.worker.WorkerEvent.Relinked;
import dist.worker.WorkerEvent.Seceded;
import dist.worker.WorkerInstruction.DropData;
import dist.worker.WorkerInstruction.Execute;
import dist.worker.WorkerInstruction.Fetch;
import dist.worker.WorkerInstruction.SendToScheduler;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A worker that registers again resets what the scheduler forgot, and keeps what still runs. */
class RelinkStateTest {
    private static final String SELF = "10.0.0.1:9000";
    private static final String PEER = "10.0.0.2:9000";
    private long now;
    private final WorkerMachine ws = new WorkerMachine(SELF, 1, WorkerConfig.defaults());

    private List<WorkerInstruction> on(WorkerEvent e) {
        return ws.handle(e, now++);
    }

    private static ComputeTask task(String key, Map<String, List<String>> whoHas) {
        return new ComputeTask(key, key.getBytes(), whoHas, Map.of(), 0, null, true);
    }

    private static ComputeTask task(String key) {
        return task(key, Map.of());
    }

    private static List<String> executed(List<WorkerInstruction> out) {
        return out.stream().filter(i -> i instanceof Execute).map(i -> ((Execute) i).key()).toList();
    }

    private static List<Message> sent(List<WorkerInstruction> out) {
        return out.stream().filter(i -> i instanceof SendToScheduler).map(i -> ((SendToScheduler) i).message()).toList();
    }

    @Test
    void anExecutionNothingRunsAnyMoreIsResetSoTheTaskSentAgainRuns() {
        assertEquals(List.of("a"), executed(on(new Compute(task("a")))));
        // its thread is gone (nothing reports it): the shell says nothing runs it
        on(new Relinked(Set.of()));
        assertNull(ws.stateOf("a"));
        assertEquals(0, ws.executingCount());
        assertEquals(List.of("a"), executed(on(new Compute(task("a")))), "the task sent again did not run");
    }

    @Test
    void anExecutionStillRunningIsKeptAndReportsOnTheNewLink() {
        assertEquals(List.of("a"), executed(on(new Compute(task("a")))));
        on(new Relinked(Set.of("a")));
        assertEquals("executing", ws.stateOf("a"));
        // sent again: it is running already, so it is not started twice
        List<WorkerInstruction> again = on(new Compute(task("a")));
        assertEquals(List.of(), executed(again));
        assertEquals(List.of(new Message.TasksStarted(List.of("a"))), sent(again));
        List<WorkerInstruction> done = on(new ExecuteDone("a", 4, "Long", 0, 1, null));
        assertEquals(List.of(new Message.TaskFinished("a", 4, "Long", 0, 1, null)), sent(done));
    }

    @Test
    void queuedTasksAndTheInputsGatheredForThemAreDropped() {
        assertEquals(List.of("a"), executed(on(new Compute(task("a")))));
        on(new Compute(task("b")));                                   // ready, behind a
        List<WorkerInstruction> c = on(new Compute(task("c", Map.of("x", List.of(PEER))))); // x in flight
        assertEquals(List.of(new Fetch(PEER, List.of("x"))), c.stream().filter(i -> i instanceof Fetch).toList());
        on(new Compute(task("d", Map.of("y", List.of()))));           // y: no holder known
        assertEquals("ready", ws.stateOf("b"));

        assertEquals(List.of(), on(new Relinked(Set.of("a"))));
        assertNull(ws.stateOf("b"));
        assertNull(ws.stateOf("c"));
        assertNull(ws.stateOf("d"));
        assertNull(ws.stateOf("y"));
        assertEquals(0, ws.readyCount());
        assertEquals("flight", ws.stateOf("x"));
        // the transfer under way ends as usual; nothing wants its data now
        assertEquals(List.of(new DropData("x")), on(new FetchDone(PEER, Map.of("x", 3L), List.of())));
        assertEquals(0, ws.fetchesInFlight());
        // a finishes: b does not start, it was forgotten
        List<WorkerInstruction> done = on(new ExecuteDone("a", 4, "Long", 0, 1, null));
        assertEquals(List.of(), executed(done));
        assertEquals(Map.of("a", 4L), ws.heldKeys());
    }

    @Test
    void dataFreedWhileAQueuedTaskNeededItGoesWithThatTask() {
        on(new DataAdded(Map.of("m", 5L)));
        assertEquals(List.of("a"), executed(on(new Compute(task("a")))));
        on(new Compute(task("b", Map.of("m", List.of(SELF)))));    // ready, needs m
        assertEquals(List.of(), on(new Free(List.of("m"))));       // b still needs it
        assertEquals(List.of(new DropData("m")), on(new Relinked(Set.of("a"))));
        assertEquals(Map.of(), ws.heldKeys());
        assertEquals(0, ws.memoryBytes());
    }

    @Test
    void aSecededExecutionSentAgainIsReportedSecededAgain() {
        assertEquals(List.of("a"), executed(on(new Compute(task("a")))));
        on(new Seceded("a"));
        on(new Relinked(Set.of("a")));
        List<Message> again = sent(on(new Compute(task("a"))));
        assertTrue(again.contains(new Message.TaskSeceded("a")), again.toString());
        assertEquals(0, ws.executingCount());
    }

    @Test
    void aResetExecutionThatRanAfterAllIsReportedNotLost() {
        on(new Compute(task("a")));
        on(new Relinked(Set.of())); // it was on its way to a thread when the shell looked
        List<WorkerInstruction> done = on(new ExecuteDone("a", 4, "Long", 0, 1, null));
        assertEquals(List.of(new Message.TaskFinished("a", 4, "Long", 0, 1, null)), sent(done));
        assertEquals(Map.of("a", 4L), ws.heldKeys());
    }

    @Test
    void aRelinkedEventWithoutItsListIsRefusedBeforeAnythingChanges() {
        on(new Compute(task("a")));
        assertThrows(IllegalArgumentException.class, () -> on(new Relinked(null)));
        assertEquals("executing", ws.stateOf("a"));
    }
}
