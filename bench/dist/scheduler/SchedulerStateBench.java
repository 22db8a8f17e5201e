package dist.scheduler;

import dist.protocol.Message.*;
import dist.protocol.TaskSpec;
import org.openjdk.jmh.annotations.*;
import org.openjdk.jmh.infra.Blackhole;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The scheduler's state machine alone, no I/O.
 *
 * <p>{@code submitAndFinish}: one client submits 1,000,000 independent tasks in updates of 1,000;
 * two workers report each finished; the client releases each result (as a future going out of
 * scope does). The score is tasks per second; {@code transitionsPerTask} is reported alongside.
 *
 * With {@code span=nested} every task carries two nested spans: the difference is what span
 * bookkeeping costs.
 *
 * <p>{@code submitAllThenFinish}: the same million tasks all submitted before any finishes, as in
 * the million-task run, so the state outgrows the CPU's caches.
 *
 * <p>{@code waitingFootprint}: heap retained by 100,000 submitted, unfinished tasks, in bytes per
 * task (secondary result {@code bytesPerTask}), with two workers (tasks processing) and with none
 * (tasks in no-worker).
 *
 * <pre>./run.sh bench SchedulerStateBench -f 1 -wi 1 -i 3</pre>
 */
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 5)
public class SchedulerStateBench {

    static final String W1 = "10.0.0.1:9000", W2 = "10.0.0.2:9000";
    static final int TASKS = 1_000_000, BATCH = 1_000, WAITING = 100_000;

    static SchedulerState newState() {
        SchedulerState s = new SchedulerState(new SchedulerConfig(Duration.ofSeconds(3), 500, 3, 8192, "bench"));
        return s;
    }

    static void addWorkers(SchedulerState s) {
        s.handle(new SchedulerEvent.FromWorker(W1, new RegisterWorker(W1, "w1", 8, 1L << 32, 1, Map.of()), 1), 0);
        s.handle(new SchedulerEvent.FromWorker(W2, new RegisterWorker(W2, "w2", 8, 1L << 32, 2, Map.of()), 1), 0);
    }

    /** Pre-built messages, so the measurement is the state machine and not string building. */
    @State(Scope.Benchmark)
    public static class Workload {
        final List<UpdateGraph> updates = new ArrayList<>();
        final List<ReleaseKeys> releases = new ArrayList<>();
        final List<List<TaskFinished>> finishes = new ArrayList<>();
        /** "none": tasks outside any span; "nested": every task in two nested spans (Client.span). */
        @Param({"none", "nested"})
        public String span;

        @Setup(Level.Trial)
        public void build() {
            byte[] run = new byte[24]; // a small serialized call; shared, the scheduler never copies it
            dist.protocol.TaskOptions options = span.equals("none") ? null
                    : new dist.protocol.TaskOptions(List.of(), false, Map.of(), 0, List.of("etl#00000001", "load#00000002"));
            for (int b = 0; b < TASKS / BATCH; b++) {
                List<TaskSpec> specs = new ArrayList<>(BATCH);
                List<String> keys = new ArrayList<>(BATCH);
                List<TaskFinished> done = new ArrayList<>(BATCH);
                for (int i = 0; i < BATCH; i++) {
                    String key = "inc-" + (b * BATCH + i);
                    specs.add(new TaskSpec(key, run, List.of(), b * BATCH + i, options));
                    keys.add(key);
                    done.add(new TaskFinished(key, 28, "Integer", 0, 1000, null));
                }
                updates.add(new UpdateGraph("c", specs, keys));
                releases.add(new ReleaseKeys("c", keys));
                finishes.add(done);
            }
        }
    }

    @AuxCounters(AuxCounters.Type.EVENTS)
    @State(Scope.Thread)
    public static class Transitions {
        /** State changes and tasks, summed over the run: their ratio is transitions per task. */
        public long transitions;
        public long tasks;
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(TASKS)
    public void submitAndFinish(Workload w, Transitions t, Blackhole bh) {
        SchedulerState s = newState();
        addWorkers(s);
        long now = 0;
        for (int b = 0; b < w.updates.size(); b++) {
            List<Outgoing> sent = s.handle(new SchedulerEvent.FromClient("c", w.updates.get(b), 0), now);
            for (int i = 0; i < sent.size(); i++) {
                Outgoing o = sent.get(i);
                ComputeTask c = (ComputeTask) o.message();
                TaskFinished f = w.finishes.get(b).get(i);
                bh.consume(s.handle(new SchedulerEvent.FromWorker(o.to(), f, 0), now));
                if (!c.key().equals(f.key())) {
                    throw new IllegalStateException("tasks placed out of order: " + c.key());
                }
            }
            bh.consume(s.handle(new SchedulerEvent.FromClient("c", w.releases.get(b), 0), now));
            now += 1_000_000;
        }
        countRun(s, t);
    }

    /**
     * The million-task run's shape: all 1,000,000 tasks submitted before the first finishes, so the
     * scheduler holds a million at once (the queue feeds the workers' slots as tasks finish), then
     * all released. The same transitions as {@link #submitAndFinish}; what differs is that its tables
     * and task objects, about 400 MB, no longer fit the caches (32 MiB of L3 here), so each lookup
     * of a task is a trip to memory. The difference between the two scores is that cost.
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(TASKS)
    public void submitAllThenFinish(Workload w, Transitions t, Blackhole bh) {
        SchedulerState s = newState();
        addWorkers(s);
        java.util.ArrayDeque<Outgoing> running = new java.util.ArrayDeque<>();
        for (int b = 0; b < w.updates.size(); b++) {
            addComputes(s.handle(new SchedulerEvent.FromClient("c", w.updates.get(b), 0), 0), running, bh);
        }
        long finished = 0;
        for (Outgoing o; (o = running.poll()) != null; finished++) {
            String key = ((ComputeTask) o.message()).key();
            int n = Integer.parseInt(key, 4, key.length(), 10);
            TaskFinished f = w.finishes.get(n / BATCH).get(n % BATCH);
            addComputes(s.handle(new SchedulerEvent.FromWorker(o.to(), f, 0), 0), running, bh);
        }
        if (finished != TASKS) {
            throw new IllegalStateException(finished + " tasks ran, not " + TASKS);
        }
        for (int b = 0; b < w.releases.size(); b++) {
            bh.consume(s.handle(new SchedulerEvent.FromClient("c", w.releases.get(b), 0), 0));
        }
        countRun(s, t);
    }

    /** Every task of the run released; its transitions and tasks added to {@code t}. */
    private static void countRun(SchedulerState s, Transitions t) {
        if (s.view().taskCount() != 0) {
            throw new IllegalStateException(s.view().taskCount() + " tasks left");
        }
        t.transitions += s.view().transitionCount();
        t.tasks += TASKS;
    }

    /** The tasks sent to workers go on {@code running}; the rest (to the client) is consumed. */
    private static void addComputes(List<Outgoing> sent, java.util.ArrayDeque<Outgoing> running, Blackhole bh) {
        for (int i = 0; i < sent.size(); i++) {
            Outgoing o = sent.get(i);
            if (o.message() instanceof ComputeTask) {
                running.add(o);
            } else {
                bh.consume(o);
            }
        }
    }

    @AuxCounters(AuxCounters.Type.EVENTS)
    @State(Scope.Thread)
    public static class Footprint {
        /** Summed over iterations (JMH adds up EVENTS counters): divide by the iteration count. */
        public double bytesPerTask;
        public double bytesPerNoWorkerTask;
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public Object waitingFootprint(Footprint f) {
        SchedulerState withWorkers = newState();
        addWorkers(withWorkers);
        f.bytesPerTask += retainedPerTask(withWorkers, "inc");
        SchedulerState alone = newState();
        f.bytesPerNoWorkerTask += retainedPerTask(alone, "inc");
        if (alone.view().noWorkerCount() != WAITING) {
            throw new IllegalStateException("expected " + WAITING + " no-worker tasks, got " + alone.view().noWorkerCount());
        }
        return List.of(withWorkers, alone);
    }

    /**
     * Heap retained by submitting {@link #WAITING} tasks to {@code s}, per task: the keys and the
     * 24-byte serialized calls it keeps count too, the update messages themselves do not.
     */
    private static double retainedPerTask(SchedulerState s, String prefix) {
        long before = usedAfterGc();
        for (int b = 0; b < WAITING / BATCH; b++) {
            List<TaskSpec> specs = new ArrayList<>(BATCH);
            List<String> keys = new ArrayList<>(BATCH);
            for (int i = 0; i < BATCH; i++) {
                String key = prefix + "-" + (b * BATCH + i);
                specs.add(new TaskSpec(key, new byte[24], List.of(), b * BATCH + i, null));
                keys.add(key);
            }
            s.handle(new SchedulerEvent.FromClient("c", new UpdateGraph("c", specs, keys), 0), 0);
        }
        long after = usedAfterGc();
        if (s.view().taskCount() != WAITING) {
            throw new IllegalStateException("expected " + WAITING + " tasks, got " + s.view().taskCount());
        }
        return (double) (after - before) / WAITING;
    }

    private static long usedAfterGc() {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
