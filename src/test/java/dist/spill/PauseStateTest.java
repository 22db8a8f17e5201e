package dist.spill;

import dist.protocol.Message.ComputeTask;
import dist.worker.WorkerConfig;
import dist.worker.WorkerEvent;
import dist.worker.WorkerInstruction;
import dist.worker.WorkerInstruction.Execute;
import dist.worker.WorkerMachine;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** A paused worker state starts nothing new; executing tasks finish and are reported; resuming starts the rest. */
class PauseStateTest {
    long now;

    static ComputeTask task(String key, long priority) {
        return new ComputeTask(key, key.getBytes(), Map.of(), Map.of(), priority);
    }

    static List<String> executes(List<WorkerInstruction> out) {
        return out.stream().filter(i -> i instanceof Execute).map(i -> ((Execute) i).key()).toList();
    }

    @Test
    void pauseHoldsNewTasksAndResumeStartsThemInPriorityOrder() {
        WorkerMachine ws = new WorkerMachine("10.0.0.1:9000", 2, WorkerConfig.defaults());
        assertEquals(List.of("a"), executes(ws.handle(new WorkerEvent.Compute(task("a", 5)), now++)));
        assertTrue(executes(ws.handle(new WorkerEvent.Paused(true), now++)).isEmpty());
        assertTrue(ws.isPaused());
        assertTrue(executes(ws.handle(new WorkerEvent.Compute(task("b", 3)), now++)).isEmpty());
        assertTrue(executes(ws.handle(new WorkerEvent.Compute(task("c", 1)), now++)).isEmpty());
        assertEquals("ready", ws.stateOf("b"));
        assertEquals(1, ws.executingCount());

        // the running task still finishes and is reported, but frees no slot for another
        List<WorkerInstruction> out = ws.handle(new WorkerEvent.ExecuteDone("a", 10, "Integer", 1, 2, null), now++);
        assertTrue(executes(out).isEmpty());
        assertTrue(out.stream().anyMatch(i -> i instanceof WorkerInstruction.SendToScheduler s
                && s.message() instanceof dist.protocol.Message.TaskFinished tf && tf.key().equals("a")), out.toString());
        assertEquals(0, ws.executingCount());
        assertEquals(2, ws.readyCount());

        // a repeated pause report changes nothing; resuming fills both slots, best priority first
        assertTrue(executes(ws.handle(new WorkerEvent.Paused(true), now++)).isEmpty());
        assertEquals(List.of("c", "b"), executes(ws.handle(new WorkerEvent.Paused(false), now++)));
        assertFalse(ws.isPaused());
        assertEquals(2, ws.executingCount());
    }

    @Test
    void pausedWorkerStillFreesKeysAndAnswersSteals() {
        WorkerMachine ws = new WorkerMachine("10.0.0.1:9000", 1, WorkerConfig.defaults());
        ws.handle(new WorkerEvent.Paused(true), now++);
        ws.handle(new WorkerEvent.Compute(task("x", 1)), now++);
        ws.handle(new WorkerEvent.Compute(task("y", 2)), now++);
        List<WorkerInstruction> out = ws.handle(new WorkerEvent.Steal("x"), now++);
        assertTrue(out.stream().anyMatch(i -> i instanceof WorkerInstruction.SendToScheduler s
                && s.message() instanceof dist.protocol.Message.StealResponse r && r.key().equals("x") && r.accepted()),
                out.toString());
        ws.handle(new WorkerEvent.Free(List.of("y")), now++);
        assertNull(ws.stateOf("y"));
        assertTrue(executes(ws.handle(new WorkerEvent.Paused(false), now++)).isEmpty(), "nothing left to run");
    }

    /**
     * A worker the scheduler retires starts nothing new, so the retirement waits only for what
     * executes; its queued tasks go elsewhere when it closes. Told it stays, it runs them.
     */
    @Test
    void aRetiringWorkerStartsNothingNewAndRunsAgainWhenKept() {
        WorkerMachine ws = new WorkerMachine("10.0.0.1:9000", 1, WorkerConfig.defaults());
        assertEquals(List.of("a"), executes(ws.handle(new WorkerEvent.Compute(task("a", 1)), now++)));
        ws.handle(new WorkerEvent.Closing(true), now++);
        assertTrue(executes(ws.handle(new WorkerEvent.Compute(task("b", 2)), now++)).isEmpty());
        List<WorkerInstruction> out = ws.handle(new WorkerEvent.ExecuteDone("a", 10, "Integer", 1, 2, null), now++);
        assertTrue(executes(out).isEmpty(), "the freed thread takes nothing while retiring: " + out);
        assertEquals("ready", ws.stateOf("b"));
        assertEquals(List.of("b"), executes(ws.handle(new WorkerEvent.Closing(false), now++)));
    }
}
