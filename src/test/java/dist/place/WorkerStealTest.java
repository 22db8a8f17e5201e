package dist.place;

import dist.protocol.Message;
import dist.protocol.Message.ComputeTask;
import dist.protocol.Message.StealResponse;
import dist.worker.WorkerConfig;
import dist.worker.WorkerEvent;
import dist.worker.WorkerInstruction;
import dist.worker.WorkerMachine;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The worker's side of work stealing: queued tasks are given back, executing ones are not. */
class WorkerStealTest {
    static final String SELF = "10.0.0.1:9000", PEER = "10.0.0.2:9000";
    long now = 1;

    List<WorkerInstruction> on(WorkerMachine ws, WorkerEvent e) {
        return ws.handle(e, now++);
    }

    static ComputeTask task(String key, Map<String, List<String>> deps) {
        return new ComputeTask(key, key.getBytes(), deps, Map.of(), 0);
    }

    static List<Message> sent(List<WorkerInstruction> out) {
        return out.stream().filter(i -> i instanceof WorkerInstruction.SendToScheduler)
                .map(i -> ((WorkerInstruction.SendToScheduler) i).message()).toList();
    }

    @Test
    void aQueuedTaskIsGivenBackAndAnExecutingOneIsNot() {
        WorkerMachine ws = new WorkerMachine(SELF, 1, WorkerConfig.defaults());
        on(ws, new WorkerEvent.Compute(task("a", Map.of())));
        on(ws, new WorkerEvent.Compute(task("b", Map.of())));
        assertEquals("executing", ws.stateOf("a"));
        assertEquals("ready", ws.stateOf("b"));
        assertEquals(List.of(new StealResponse("a", false)), sent(on(ws, new WorkerEvent.Steal("a"))));
        assertEquals(List.of(new StealResponse("b", true)), sent(on(ws, new WorkerEvent.Steal("b"))));
        assertNull(ws.stateOf("b"));
        assertEquals(0, ws.readyCount());
        // when a finishes, nothing else starts: b is gone
        List<WorkerInstruction> out = on(ws, new WorkerEvent.ExecuteDone("a", 4, "I", 1, 2, null));
        assertTrue(out.stream().noneMatch(i -> i instanceof WorkerInstruction.Execute));
    }

    @Test
    void aWaitingTaskIsGivenBackAndItsFetchIsDroppedOnArrival() {
        WorkerMachine ws = new WorkerMachine(SELF, 1, WorkerConfig.defaults());
        List<WorkerInstruction> out = on(ws, new WorkerEvent.Compute(task("c", Map.of("x", List.of(PEER)))));
        assertTrue(out.stream().anyMatch(i -> i instanceof WorkerInstruction.Fetch));
        assertEquals("waiting", ws.stateOf("c"));
        assertEquals(List.of(new StealResponse("c", true)), sent(on(ws, new WorkerEvent.Steal("c"))));
        out = on(ws, new WorkerEvent.FetchDone(PEER, Map.of("x", 10L), List.of()));
        assertTrue(out.contains(new WorkerInstruction.DropData("x")), "nothing here needs x any more: " + out);
    }

    @Test
    void unknownOrFinishedTasksAreRefused() {
        WorkerMachine ws = new WorkerMachine(SELF, 1, WorkerConfig.defaults());
        assertEquals(List.of(new StealResponse("nope", false)), sent(on(ws, new WorkerEvent.Steal("nope"))));
        on(ws, new WorkerEvent.Compute(task("a", Map.of())));
        on(ws, new WorkerEvent.ExecuteDone("a", 4, "I", 1, 2, null));
        assertEquals(List.of(new StealResponse("a", false)), sent(on(ws, new WorkerEvent.Steal("a"))));
        assertEquals("memory", ws.stateOf("a"));
        assertThrows(IllegalArgumentException.class, () -> on(ws, new WorkerEvent.Steal(null)));
    }
}
