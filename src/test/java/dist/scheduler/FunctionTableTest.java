package dist.scheduler;

import dist.protocol.Message.ComputeTask;
import dist.protocol.Message.ReleaseKeys;
import dist.protocol.Message.TaskFinished;
import dist.protocol.RunCodec;
import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dist.scheduler.SchedulerStateTest.A;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The tasks of one map keep their function's bytes once, and workers still get whole run bytes. */
class FunctionTableTest {

    @Test
    void tasksShareTheirFunctionAndWorkersGetTheOriginalBytes() {
        byte[] fn = "function-bytes-of-some-length".getBytes();
        List<byte[]> runs = new ArrayList<>();
        List<TaskSpec> specs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            byte[] run = RunCodec.joinEncoded(fn, new byte[]{1, (byte) i});
            runs.add(run);
            specs.add(new TaskSpec("f-" + i, run, List.of(), i, null));
        }
        Harness h = new Harness();
        h.register(A, "alice", 4);
        List<Outgoing> out = h.submit("c1", specs, "f-0", "f-1", "f-2");
        int sent = 0;
        for (Outgoing o : out) {
            if (o.message() instanceof ComputeTask ct) {
                assertArrayEquals(runs.get(Integer.parseInt(ct.key().substring(2))), ct.run());
                sent++;
            }
        }
        assertEquals(3, sent);
        h.s.validate();
        for (int i = 0; i < 3; i++) {
            h.worker(A, new TaskFinished("f-" + i, 8, "int", 0, 0, null));
        }
        h.client("c1", new ReleaseKeys("c1", List.of("f-0", "f-1", "f-2")));
        assertEquals(0, h.s.taskCount());
    }
}
