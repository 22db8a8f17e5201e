package dist.worker;

import dist.protocol.Message;
import dist.protocol.Message.ComputeTask;
import dist.worker.WorkerEvent.Compute;
import dist.worker.WorkerEvent.ExecuteDone;
import dist.worker.WorkerEvent.ExecuteFailed;
import dist.worker.WorkerEvent.Rejoined;
import dist.worker.WorkerEvent.Seceded;
import dist.worker.WorkerInstruction.Execute;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Secede and rejoin in the worker's state machine: a waiting task frees its slot and keeps running. */
class SecedeStateTest {
    private long now;
    private final WorkerMachine ws = new WorkerMachine("10.0.0.1:9000", 1, WorkerConfig.defaults());

    private List<WorkerInstruction> on(WorkerEvent e) {
        return ws.handle(e, now++);
    }

    private static ComputeTask task(String key, long priority, String client) {
        return new ComputeTask(key, key.getBytes(), Map.of(), Map.of(), priority, client);
    }

    private static List<String> executed(List<WorkerInstruction> out) {
        return out.stream().filter(i -> i instanceof Execute).map(i -> ((Execute) i).key()).toList();
    }

    @Test
    void aSecededTaskFreesItsSlotForTheNextReadyTask() {
        assertEquals(List.of("a"), executed(on(new Compute(task("a", 0, "c1")))));
        assertEquals(List.of(), executed(on(new Compute(task("b", 1, "c1")))));
        assertEquals(List.of("b"), executed(on(new Seceded("a"))));
        assertEquals("executing", ws.stateOf("a"));
        assertEquals(1, ws.secededCount());
        assertEquals(1, ws.executingCount());
    }

    @Test
    void rejoiningTakesASlotSoNothingNewStartsUntilOneEnds() {
        on(new Compute(task("a", 0, null)));
        on(new Compute(task("b", 1, null)));
        on(new Compute(task("c", 2, null)));
        assertEquals(List.of("b"), executed(on(new Seceded("a"))));
        assertEquals(List.of(), executed(on(new Rejoined("a"))));
        assertEquals(2, ws.executingCount()); // above nthreads for a while, as dask allows
        assertEquals(List.of(), executed(on(new ExecuteDone("b", 4, "Long", 0, 1, null))));
        assertEquals(List.of("c"), executed(on(new ExecuteDone("a", 4, "Long", 0, 1, null))));
        assertEquals(1, ws.executingCount());
    }

    @Test
    void aTaskThatEndsWhileSecededDoesNotFreeASecondSlot() {
        on(new Compute(task("a", 0, null)));
        on(new Compute(task("b", 1, null)));
        on(new Seceded("a"));
        List<WorkerInstruction> out = on(new ExecuteDone("a", 4, "Long", 0, 1, null));
        assertTrue(out.stream().anyMatch(i -> i instanceof WorkerInstruction.SendToScheduler s
                && s.message() instanceof Message.TaskFinished f && f.key().equals("a")));
        assertEquals(1, ws.executingCount()); // b still holds the only slot
        assertEquals(0, ws.secededCount());
        on(new Compute(task("c", 2, null)));
        assertEquals(List.of("c"), executed(on(new ExecuteFailed("b", new byte[]{1}, "boom", 0, 1))));
    }

    @Test
    void staleOrRepeatedSecedeAndRejoinChangeNothing() {
        on(new Compute(task("a", 0, null)));
        on(new Seceded("a"));
        on(new Seceded("a"));
        assertEquals(0, ws.executingCount());
        on(new Rejoined("a"));
        on(new Rejoined("a"));
        assertEquals(1, ws.executingCount());
        on(new Seceded("unknown"));
        on(new Rejoined("unknown"));
        assertEquals(1, ws.executingCount());
        assertThrows(IllegalArgumentException.class, () -> on(new Seceded(null)));
    }

    @Test
    void theSubmittingClientTravelsToExecute() {
        List<WorkerInstruction> out = on(new Compute(task("a", 0, "client-7")));
        Execute e = (Execute) out.stream().filter(i -> i instanceof Execute).findFirst().orElseThrow();
        assertEquals("client-7", e.clientId());
    }
}
