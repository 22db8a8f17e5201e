package dist.worker;

import dist.protocol.Message.ProfileFrame;
import dist.protocol.Message.ProfileReport;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A worker's profile cycle: samples merge into a tree per key, the tree is bounded, the worker's own frames are cut. */
class ProfilerCycleTest {

    static StackTraceElement at(String cls, String method) {
        return new StackTraceElement(cls, method, cls.substring(cls.lastIndexOf('.') + 1) + ".java", 10);
    }

    @Test
    void samplesMergeIntoATreePerKey() {
        Profiler.Cycle c = new Profiler.Cycle(1000);
        c.add("inc-1", List.of("A.run(A.java)", "A.inc(A.java)"));
        c.add("inc-1", List.of("A.run(A.java)", "A.add(A.java)"));
        c.add("inc-1", List.of("A.run(A.java)", "A.inc(A.java)"));
        c.add("dec-1", List.of());
        ProfileReport r = c.report(2000);
        assertEquals(1000, r.startMillis());
        assertEquals(2000, r.stopMillis());
        assertEquals(2, r.keys().size());
        assertEquals("inc-1", r.keys().get(0).key());
        assertEquals(List.of(new ProfileFrame(-1, "inc-1", 3), new ProfileFrame(0, "A.run(A.java)", 3),
                new ProfileFrame(1, "A.inc(A.java)", 2), new ProfileFrame(1, "A.add(A.java)", 1)), r.keys().get(0).frames());
        assertEquals(List.of(new ProfileFrame(-1, "dec-1", 1)), r.keys().get(1).frames(), "a sample outside any frame counts at the key");
    }

    @Test
    void aCycleHoldsAtMostItsFrames() {
        Profiler.Cycle c = new Profiler.Cycle(0);
        for (int i = 0; i < Profiler.MAX_NODES; i++) {
            c.add("k-" + i % 3, List.of("A.f" + i + "(A.java)"));
        }
        c.add("k-0", List.of("A.later(A.java)"));
        int frames = c.report(1).keys().stream().mapToInt(k -> k.frames().size()).sum();
        assertEquals(Profiler.MAX_NODES, frames);
        long samples = c.report(1).keys().stream().mapToLong(k -> k.frames().get(0).count()).sum();
        assertEquals(Profiler.MAX_NODES + 1, samples, "a sample past the bound still counts at its key");
    }

    /** dask: the worker's profile stops at worker.py; here at WorkerServer.run, without the plumbing above it. */
    @Test
    void framesStartAtTheTasksOwnFunction() {
        StackTraceElement[] stack = {
                at("app.Work", "inner"),
                at("app.Work", "slowInc"),
                at("dist.Fn1", "invoke"),
                at("dist.protocol.Invokable", "invoke"),
                at("jdk.internal.reflect.DirectMethodHandleAccessor", "invoke"),
                at("dist.worker.WorkerServer", "run"),
                at("dist.worker.WorkerServer", "execute"),
                at("java.lang.Thread", "run")};
        assertEquals(List.of("app.Work.slowInc(Work.java)", "app.Work.inner(Work.java)"), Profiler.frames(stack));
        assertTrue(Profiler.frames(new StackTraceElement[]{at("dist.worker.WorkerServer", "slotLoop")}).isEmpty(),
                "a thread between tasks gives no frames");
        List<StackTraceElement> deep = new ArrayList<>();
        for (int i = 0; i < Profiler.MAX_DEPTH + 10; i++) {
            deep.add(at("app.Rec", "down"));
        }
        deep.add(at("dist.worker.WorkerServer", "run"));
        assertEquals(Profiler.MAX_DEPTH, Profiler.frames(deep.toArray(StackTraceElement[]::new)).size());
    }
}
