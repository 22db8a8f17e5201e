package dist.worker;

import dist.protocol.Message.ComputeTask;
import dist.worker.WorkerEvent.Compute;
import dist.worker.WorkerEvent.ExecuteDone;
import dist.worker.WorkerEvent.Free;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The transitions the state machine records for worker plugins, in dask's state names: none while
 * nobody watches, and each key's path from its arrival to being forgotten while a plugin does.
 */
class WorkerMachineTransitionsTest {
    private long now = 1;

    private static List<String> lines(List<String[]> moves) {
        return moves.stream().map(m -> String.join(" ", m)).toList();
    }

    @Test
    void nothingIsRecordedWhileNobodyWatches() {
        WorkerMachine ws = new WorkerMachine("10.0.0.1:9000", 1, WorkerConfig.defaults());
        ws.handle(new Compute(new ComputeTask("a", new byte[]{1}, Map.of(), Map.of(), 0)), now++);
        assertEquals(List.of(), ws.drainTransitions());
    }

    /** dask: test_worker_plugins.py::test_normal_task_transitions_called, as the state machine sees it. */
    @Test
    void aTasksPathFromArrivalToForgotten() {
        WorkerMachine ws = new WorkerMachine("10.0.0.1:9000", 1, WorkerConfig.defaults());
        ws.watchTransitions(true);
        ws.handle(new Compute(new ComputeTask("a", new byte[]{1}, Map.of(), Map.of(), 0)), now++);
        assertEquals(List.of("a released waiting", "a waiting ready", "a ready executing"), lines(ws.drainTransitions()));
        ws.handle(new ExecuteDone("a", 8, "Integer", 10, 20, null), now++);
        ws.handle(new Free(List.of("a")), now++);
        assertEquals(List.of("a executing memory", "a memory released", "a released forgotten"),
                lines(ws.drainTransitions()));
        ws.watchTransitions(false);
        ws.handle(new Compute(new ComputeTask("b", new byte[]{2}, Map.of(), Map.of(), 0)), now++);
        assertEquals(List.of(), ws.drainTransitions(), "off again: nothing recorded");
    }
}
