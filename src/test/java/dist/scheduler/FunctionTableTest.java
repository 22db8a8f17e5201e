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
import static org.junit.jupiter.api.Assertions.assertSame;

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
        assertEquals(0, h.s.view().taskCount());
    }

    /** Two functions in turn, and releases that drop the entry looked up last: counts stay exact. */
    @Test
    void interleavedFunctionsAndReleasesKeepExactCounts() {
        FunctionTable t = new FunctionTable();
        byte[] f = "function-f".getBytes();
        byte[] g = "function-g-longer".getBytes();
        TaskState f1 = task("f-1"), g1 = task("g-1"), f2 = task("f-2"), g2 = task("g-2");
        t.store(f1, RunCodec.joinEncoded(f, new byte[]{1}));
        t.store(g1, RunCodec.joinEncoded(g, new byte[]{2}));
        t.store(f2, RunCodec.joinEncoded(f.clone(), new byte[]{3}));
        assertEquals(2, t.size());
        assertSame(f1.fn, f2.fn);
        t.release(f1);
        t.release(f2); // f was the entry looked up last
        assertEquals(1, t.size());
        t.store(g2, RunCodec.joinEncoded(g.clone(), new byte[]{4}));
        assertSame(g1.fn, g2.fn);
        TaskState f3 = task("f-3");
        t.store(f3, RunCodec.joinEncoded(f, new byte[]{5}));
        assertEquals(2, t.size());
        assertArrayEquals(RunCodec.joinEncoded(f, new byte[]{5}), FunctionTable.runOf(f3));
        t.release(g1);
        t.release(g2);
        t.release(f3);
        assertEquals(0, t.size());
    }

    private static TaskState task(String key) {
        return new TaskState(key, null, 0, null, new TaskPrefix(key.substring(0, 1)));
    }
}
