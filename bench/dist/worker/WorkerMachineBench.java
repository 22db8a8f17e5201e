package dist.worker;

import dist.protocol.Message;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Cost of the worker's bookkeeping alone: 1,000,000 tasks through Compute, Execute and
 * ExecuteDone, with no I/O. Every task yields exactly two instructions (Execute and the
 * TaskFinished message), so the score, in instructions per second, is twice the tasks per second.
 * {@code freeEvery > 0} also frees results in batches of that size, as a scheduler would once
 * clients release them, so memory stays flat.
 *
 * <p>Run: {@code ./run.sh bench WorkerMachineBench -f 1 -wi 1 -i 3}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class WorkerMachineBench {

    static final int TASKS = 1_000_000;
    static final long INSTRUCTIONS = 2L * TASKS;

    @Param({"8"})
    int nthreads;

    @Param({"0", "1000"})
    int freeEvery;

    private Message.ComputeTask[] computes;
    private WorkerEvent.ExecuteDone[] dones;

    @Setup(Level.Trial)
    public void prepare() {
        computes = new Message.ComputeTask[TASKS];
        dones = new WorkerEvent.ExecuteDone[TASKS];
        byte[] run = {1, 2, 3, 4};
        for (int i = 0; i < TASKS; i++) {
            String key = "task-" + i;
            computes[i] = new Message.ComputeTask(key, run, Map.of(), Map.of(), i);
            dones[i] = new WorkerEvent.ExecuteDone(key, 28, "Integer", 0, 1, null);
        }
    }

    @Benchmark
    @OperationsPerInvocation((int) INSTRUCTIONS)
    public long computeExecuteDone() {
        WorkerMachine ws = new WorkerMachine("127.0.0.1:9000", nthreads, WorkerConfig.defaults());
        ArrayDeque<Integer> running = new ArrayDeque<>(nthreads * 2);
        List<String> toFree = new ArrayList<>(Math.max(1, freeEvery));
        long instructions = 0;
        long now = 0;
        int finished = 0;
        for (int i = 0; i < TASKS || !running.isEmpty(); ) {
            List<WorkerInstruction> out;
            if (i < TASKS && running.size() < nthreads) {
                out = ws.handle(new WorkerEvent.Compute(computes[i++]), now++);
            } else {
                int done = running.poll();
                out = ws.handle(dones[done], now++);
                if (freeEvery > 0) {
                    toFree.add(computes[done].key());
                    if (toFree.size() == freeEvery) {
                        instructions += ws.handle(new WorkerEvent.Free(List.copyOf(toFree)), now++).size() - freeEvery;
                        toFree.clear();
                    }
                }
                finished++;
            }
            for (WorkerInstruction ins : out) {
                if (ins instanceof WorkerInstruction.Execute e) running.add(indexOf(e.key()));
            }
            instructions += out.size();
        }
        if (instructions != INSTRUCTIONS || finished != TASKS) {
            throw new IllegalStateException("expected " + INSTRUCTIONS + " instructions for " + TASKS
                    + " tasks, got " + instructions + " for " + finished);
        }
        return instructions;
    }

    private static int indexOf(String key) {
        return Integer.parseInt(key, 5, key.length(), 10);
    }
}
