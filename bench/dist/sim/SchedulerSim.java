package dist.sim;

import dist.protocol.Message;
import dist.protocol.TaskSpec;
import dist.scheduler.Outgoing;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerEvent;
import dist.scheduler.SchedulerState;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * The scheduler's state machine driven by simulated workers and a simulated clock, no sockets:
 * how many placement decisions per second one scheduler thread makes, how much heap a million
 * tasks take, and how long a large cluster needs to finish them.
 *
 * <p>The graph: {@code tasks} tasks in all, groups of {@code fanIn} independent leaves each feeding
 * one sum task (so a 100:1 tree over a million tasks has 990,100 leaves and 9,900 sums). The client
 * wants only the sums. Each worker runs {@code threads} tasks at once, each for its simulated
 * duration (the mean, +-50%), fetches inputs it lacks for a simulated {@code fetchMicros} each,
 * heart-beats every 500 ms, and answers steal requests for tasks not yet started.
 *
 * <pre>
 * ./run.sh sim                      (1,000 workers, 1,000,000 tasks)
 * ./run.sh sim --workers 50 --tasks 20000
 * ./run.sh sim --workers 100,1000,10000   (per size a warm-up, three runs, then a table of medians)
 * ./run.sh sim --repeat 5 --warmup 0
 * ./run.sh sim --workers 10000 --threads 8   (issue: heartbeats of 10,000 workers)
 * </pre>
 *
 * <p>After each run, 20 more rounds of heartbeats (one from every worker, then a tick) are timed on their
 * own; with the time to decode one heartbeat's frame, they give the share of one core heartbeats cost the
 * scheduler at one a worker every 500 ms ("heartbeats" in the table).
 */
public final class SchedulerSim {

    /** What to simulate. */
    public record Params(int workers, int threads, int tasks, int fanIn, long meanTaskMicros, long fetchMicros,
                         int batch, long seed) {
        public static Params of(int workers, int tasks) {
            return new Params(workers, 2, tasks, 100, 10_000, 200, 10_000, 42);
        }
    }

    /**
     * What happened.
     *
     * @param placements       ComputeTask messages the scheduler sent (each a placement decision)
     * @param finished         TaskFinished reports fed back
     * @param distinctFinished tasks that finished at least once
     * @param sumsInMemory     sums the client was told about
     * @param expectedSums     sums in the graph
     * @param schedulerNanos   real time spent inside {@code SchedulerState.handle}
     * @param schedulerCpuNanos CPU time of the simulating thread inside {@code SchedulerState.handle},
     *                         estimated per window of events from the thread's CPU time and the share
     *                         of the window's real time spent inside; unlike the real time, it leaves out
     *                         time the thread waited for a core on a busy machine (and GC pauses)
     * @param wallNanos        real time of the whole run, simulated workers included
     * @param simulatedNanos   simulated time until the last sum was in memory
     * @param heapAfterSubmit  heap used after GC once every task was submitted, minus the heap before
     * @param events           events handled
     * @param tasksLeft        tasks the scheduler still knew at the end (the client released everything)
     * @param heartbeatNanos   real time inside {@code SchedulerState.handle} for {@code heartbeatRounds} extra
     *                         rounds of one heartbeat from every worker (and the tick after them), timed once
     *                         the graph has run, while every sum is still held
     * @param heartbeatRounds  those rounds
     * @param heartbeatDecodeNanos time to decode one heartbeat from its frame, as the server's reader does
     */
    public record Result(long placements, long finished, long distinctFinished, long sumsInMemory, long expectedSums,
                         long schedulerNanos, long schedulerCpuNanos, long wallNanos, long simulatedNanos,
                         long heapAfterSubmit, long events, int tasksLeft, long heartbeatNanos, int heartbeatRounds,
                         double heartbeatDecodeNanos) {

        public double placementsPerSecond() {
            return placements * 1e9 / Math.max(1, schedulerNanos);
        }

        public double placementsPerCpuSecond() {
            return placements * 1e9 / Math.max(1, schedulerCpuNanos);
        }

        public double eventsPerSecond() {
            return events * 1e9 / Math.max(1, schedulerNanos);
        }
    }

    private static final long HEARTBEAT_NANOS = 500_000_000L;
    private static final String CLIENT = "client-sim";

    private final Params p;
    private final SchedulerState s;
    private final SplittableRandom random;
    private final SimWorker[] workers;
    private final Map<String, SimWorker> byAddress = new HashMap<>();
    /** Completions by simulated time. */
    private final PriorityQueue<Completion> completions = new PriorityQueue<>();
    /** Runs per task, by {@link #indexOf}: an array, so counting adds no live map the collector must trace. */
    private final int[] runs;
    private final int leaves;
    private long now = 1;
    private long placements;
    private long finished;
    private long sums;
    private long schedulerNanos;
    /** CPU time inside handle, estimated window by window (see {@link Result#schedulerCpuNanos}). */
    private double schedulerCpuNanos;
    private final java.lang.management.ThreadMXBean threadBean = ManagementFactory.getThreadMXBean();
    private long windowWall;
    private long windowCpu;
    private long windowInside;
    private int windowEvents;
    private long events;
    private long lastSumAt;
    private long seq;

    private record Completion(long at, long seq, SimWorker worker, String key, long start)
            implements Comparable<Completion> {
        @Override
        public int compareTo(Completion o) {
            int c = Long.compare(at, o.at);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    /** A worker: a queue of placed tasks, {@code threads} of them running, the keys it holds. */
    private static final class SimWorker {
        final String address;
        final LinkedHashSet<String> queue = new LinkedHashSet<>();
        final HashMap<String, Integer> missingInputs = new HashMap<>();
        final java.util.HashSet<String> held = new java.util.HashSet<>();
        int running;

        SimWorker(String address) {
            this.address = address;
        }
    }

    private SchedulerSim(Params p) {
        this.p = p;
        this.s = new SchedulerState(new SchedulerConfig(Duration.ofSeconds(3), 500, 3, 8192, "sim"));
        this.random = new SplittableRandom(p.seed());
        this.workers = new SimWorker[p.workers()];
        int groups = (p.tasks() + p.fanIn()) / (p.fanIn() + 1);
        this.leaves = p.tasks() - groups;
        this.runs = new int[p.tasks()];
    }

    /** A task's number: leaves first, then sums (keys are "inc-N" and "sum-N"). */
    private int indexOf(String key) {
        int n = Integer.parseInt(key, 4, key.length(), 10);
        return key.charAt(0) == 's' ? leaves + n : n;
    }

    /** Runs one simulation to the end (every sum in memory, or no work left to do). */
    public static Result run(Params p) {
        return new SchedulerSim(p).simulate();
    }

    private List<Outgoing> handle(SchedulerEvent e) {
        long t0 = System.nanoTime();
        List<Outgoing> out = s.handle(e, now);
        long inside = System.nanoTime() - t0;
        schedulerNanos += inside;
        windowInside += inside;
        if (++windowEvents == 4096) {
            closeWindow();
        }
        events++;
        return out;
    }

    /** Reading a thread's CPU time costs microseconds: once per window, its share split by real time inside. */
    private void closeWindow() {
        long wall = System.nanoTime();
        long cpu = threadBean.getCurrentThreadCpuTime();
        if (windowWall != 0 && wall > windowWall) {
            schedulerCpuNanos += (double) (cpu - windowCpu) * windowInside / (wall - windowWall);
        }
        windowWall = System.nanoTime();
        windowCpu = threadBean.getCurrentThreadCpuTime();
        windowInside = 0;
        windowEvents = 0;
    }

    private Result simulate() {
        long wall0 = System.nanoTime();
        long heapBefore = heapAfterGc();
        List<Message.UpdateGraph> updates = graph();
        System.gc();
        closeWindow();
        for (int i = 0; i < p.workers(); i++) {
            String addr = "10.1." + (i / 250) + "." + (i % 250) + ":9000";
            workers[i] = new SimWorker(addr);
            byAddress.put(addr, workers[i]);
            dispatch(handle(new SchedulerEvent.FromWorker(addr,
                    new Message.RegisterWorker(addr, "w" + i, p.threads(), 4L << 30, 1000 + i, Map.of()), 1)));
        }
        dispatch(handle(new SchedulerEvent.FromClient(CLIENT, new Message.RegisterClient(CLIENT), 1)));
        long expectedSums = submitGraph(updates);
        updates = null; // garbage now, as a server's decoded messages are once handled
        closeWindow();
        long heapAfterSubmit = heapAfterGc() - heapBefore;
        closeWindow(); // the collections above are no scheduler work
        long nextBeat = now + HEARTBEAT_NANOS;
        while (sums < expectedSums) {
            Completion c = completions.peek();
            if (c == null || c.at() > nextBeat) {
                if (c == null && nothingQueued()) {
                    break; // stuck: the result says how far it got
                }
                now = Math.max(now, nextBeat);
                heartbeats();
                nextBeat += HEARTBEAT_NANOS;
                continue;
            }
            completions.poll();
            now = Math.max(now, c.at());
            complete(c);
        }
        long simulated = lastSumAt;
        // heartbeats alone: rounds of one from every worker and a tick, timed apart from the run
        int rounds = 20;
        long hb0 = schedulerNanos;
        for (int i = 0; i < rounds; i++) {
            now += HEARTBEAT_NANOS;
            heartbeats();
        }
        long heartbeatNanos = schedulerNanos - hb0;
        closeWindow();
        // the client lets go of its futures, as a finished program does
        List<String> wanted = new ArrayList<>();
        for (int g = 0; g < expectedSums; g++) {
            wanted.add("sum-" + g);
        }
        dispatch(handle(new SchedulerEvent.FromClient(CLIENT, new Message.ReleaseKeys(CLIENT, wanted), 0)));
        closeWindow();
        long distinct = 0;
        for (int n : runs) {
            distinct += n > 0 ? 1 : 0;
        }
        return new Result(placements, finished, distinct, sums, expectedSums, schedulerNanos,
                (long) schedulerCpuNanos, System.nanoTime() - wall0, simulated, heapAfterSubmit, events, s.view().taskCount(),
                heartbeatNanos, rounds, heartbeatDecodeNanos());
    }

    /** Nanoseconds to decode one heartbeat's frame into its message (the median of 5 passes of 100,000). */
    private double heartbeatDecodeNanos() {
        dist.protocol.MessageCodec codec = dist.protocol.MessageCodec.get();
        List<byte[]> frames = codec.encode(new Message.Heartbeat(123_456_789L, 2, 5, 1_000));
        double[] passes = new double[5];
        long sink = 0;
        for (int k = 0; k < passes.length; k++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 100_000; i++) {
                sink += ((Message.Heartbeat) codec.decode(frames)).inMemory();
            }
            passes[k] = (System.nanoTime() - t0) / 100_000.0;
        }
        if (sink == 42) {
            System.out.print("");
        }
        java.util.Arrays.sort(passes);
        return passes[2];
    }

    private boolean nothingQueued() {
        for (SimWorker w : workers) {
            if (!w.queue.isEmpty() || w.running > 0) {
                return false;
            }
        }
        return true;
    }

    /** Hands the client's updates to the scheduler; returns the number of sums. */
    private long submitGraph(List<Message.UpdateGraph> updates) {
        long sums = 0;
        for (Message.UpdateGraph u : updates) {
            sums += u.wanted().size();
            dispatch(handle(new SchedulerEvent.FromClient(CLIENT, u, 0)));
        }
        return sums;
    }

    /**
     * The graph in batches, as a client sends it, made before the scheduler sees any: in a server
     * the connection decodes them, so neither their making nor the collector copying them is
     * scheduler work (a collection after them moves them out of the young generation).
     */
    private List<Message.UpdateGraph> graph() {
        List<Message.UpdateGraph> updates = new ArrayList<>();
        int groups = (p.tasks() + p.fanIn()) / (p.fanIn() + 1);
        int leaves = p.tasks() - groups;
        List<TaskSpec> batch = new ArrayList<>();
        List<String> wanted = new ArrayList<>();
        int leaf = 0;
        long order = 0; // as a client numbers its submissions: earlier ones go first
        for (int g = 0; g < groups; g++) {
            int n = g == groups - 1 ? leaves - leaf : Math.min(p.fanIn(), leaves - leaf);
            List<String> deps = new ArrayList<>(n);
            for (int i = 0; i < n; i++, leaf++) {
                String key = "inc-" + leaf;
                batch.add(new TaskSpec(key, runBytes(leaf), List.of(), order++, null));
                deps.add(key);
            }
            String sum = "sum-" + g;
            batch.add(new TaskSpec(sum, runBytes(-g - 1), List.copyOf(deps), order++, null));
            wanted.add(sum);
            if (batch.size() >= p.batch() || g == groups - 1) {
                updates.add(new Message.UpdateGraph(CLIENT, batch, wanted));
                batch = new ArrayList<>();
                wanted = new ArrayList<>();
            }
        }
        return updates;
    }

    /** A distinct small payload per task, as the encoded function call with its argument would be. */
    private static byte[] runBytes(int i) {
        byte[] b = new byte[24];
        for (int k = 0; k < 4; k++) {
            b[20 + k] = (byte) (i >>> (8 * k));
        }
        return b;
    }

    private void heartbeats() {
        for (SimWorker w : workers) {
            dispatch(handle(new SchedulerEvent.FromWorker(w.address,
                    new Message.Heartbeat(w.held.size() * 8L, w.running, w.queue.size(), w.held.size()), 0)));
        }
        dispatch(handle(new SchedulerEvent.Tick()));
    }

    private void complete(Completion c) {
        SimWorker w = c.worker();
        w.running--;
        w.held.add(c.key());
        finished++;
        runs[indexOf(c.key())]++;
        dispatch(handle(new SchedulerEvent.FromWorker(w.address,
                new Message.TaskFinished(c.key(), 8, "Long", c.start(), now, null), 0)));
        startNext(w);
    }

    private void startNext(SimWorker w) {
        while (w.running < p.threads() && !w.queue.isEmpty()) {
            var it = w.queue.iterator();
            String key = it.next();
            it.remove();
            Integer missing = w.missingInputs.isEmpty() ? null : w.missingInputs.remove(key);
            start(w, key, missing == null ? 0 : missing);
        }
    }

    private void start(SimWorker w, String key, int missingInputs) {
        long fetch = (long) missingInputs * p.fetchMicros() * 1000;
        long mean = p.meanTaskMicros() * 1000;
        long duration = mean / 2 + random.nextLong(mean + 1);
        w.running++;
        completions.add(new Completion(now + fetch + duration, seq++, w, key, now + fetch));
    }

    /** Plays what the scheduler sent; allocates little itself, as its collections would land in timed events. */
    private void dispatch(List<Outgoing> out) {
        for (int i = 0, n = out.size(); i < n; i++) {
            Outgoing o = out.get(i);
            SimWorker w = byAddress.get(o.to());
            switch (o.message()) {
                case Message.ComputeTask t -> {
                    placements++;
                    int missing = 0;
                    if (!t.whoHas().isEmpty()) {
                        for (String dep : t.whoHas().keySet()) {
                            if (!w.held.contains(dep)) {
                                missing++;
                                w.held.add(dep); // fetched before it runs
                            }
                        }
                    }
                    if (w.queue.isEmpty() && w.running < p.threads()) {
                        start(w, t.key(), missing); // a free thread takes it at once: no queue to pass
                        continue;
                    }
                    if (missing > 0) {
                        w.missingInputs.put(t.key(), missing);
                    }
                    w.queue.add(t.key());
                    startNext(w);
                }
                case Message.FreeKeys f -> {
                    for (String k : f.keys()) {
                        w.queue.remove(k);
                        w.held.remove(k);
                    }
                }
                case Message.StealRequest r -> {
                    boolean given = w.queue.remove(r.key());
                    dispatch(handle(new SchedulerEvent.FromWorker(w.address,
                            new Message.StealResponse(r.key(), given), 0)));
                }
                case Message.KeyInMemory k -> {
                    if (k.key().startsWith("sum-")) {
                        sums++;
                        lastSumAt = now;
                    }
                }
                default -> {
                    // acknowledgements and other replies need no answer here
                }
            }
        }
    }

    private static long heapAfterGc() {
        var mem = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return mem.getHeapMemoryUsage().getUsed();
    }

    public static void main(String[] args) {
        List<Integer> sizes = List.of(1000);
        int tasks = 1_000_000;
        int threads = 2;
        long meanMicros = 10_000;
        long seed = 42;
        int repeat = 3;
        int warmup = 200_000;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--workers" -> {
                    sizes = new ArrayList<>();
                    for (String n : args[i + 1].split(",")) {
                        sizes.add(Integer.parseInt(n.trim().replace("_", "")));
                    }
                }
                case "--tasks" -> tasks = Integer.parseInt(args[i + 1].replace("_", ""));
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--task-micros" -> meanMicros = Long.parseLong(args[i + 1]);
                case "--seed" -> seed = Long.parseLong(args[i + 1]);
                case "--repeat" -> repeat = Math.max(1, Integer.parseInt(args[i + 1]));
                case "--warmup" -> warmup = Integer.parseInt(args[i + 1].replace("_", ""));
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; expected --workers N[,N...], --tasks N, --threads N, --task-micros N, --seed N, "
                        + "--repeat N, --warmup TASKS");
            }
        }
        List<String> summary = new ArrayList<>();
        for (int workers : sizes) {
            Params p = new Params(workers, threads, tasks, 100, meanMicros, 200, 10_000, seed);
            if (warmup > 0) {
                // the same work, smaller and not counted: the timed runs measure compiled code, not the JIT
                Params w = new Params(workers, threads, Math.min(warmup, tasks), 100, meanMicros, 200, 10_000, seed + 1);
                Result r = run(w);
                System.out.printf("warm-up:             %,d workers, %,d tasks, %,.0f placements/s (not counted)%n",
                        workers, w.tasks(), r.placementsPerSecond());
            }
            List<Result> results = new ArrayList<>();
            for (int k = 0; k < repeat; k++) {
                results.add(report(p));
            }
            double ideal = (double) p.tasks() * p.meanTaskMicros() * 1000 / (p.workers() * p.threads());
            double[] wall = results.stream().mapToDouble(Result::placementsPerSecond).sorted().toArray();
            double[] cpu = results.stream().mapToDouble(Result::placementsPerCpuSecond).sorted().toArray();
            long finish = results.stream().mapToLong(Result::simulatedNanos).max().orElse(0);
            double[] beats = results.stream().mapToDouble(r -> heartbeatCoreShare(r, workers)).sorted().toArray();
            summary.add(String.format("%,10d %,14.0f %,16.0f %,14.0f %9.3f s %9.3f s %+8.2f%% %9.2f%%", workers,
                    median(wall), median(cpu), wall[0], finish / 1e9, ideal / 1e9, (finish / ideal - 1) * 100,
                    100 * median(beats)));
        }
        System.out.printf("%n%d run(s) per size after a warm-up of %,d tasks; the median, the slowest run, and the "
                + "latest finish%n", repeat, warmup);
        System.out.printf("%10s %14s %16s %14s %11s %11s %9s %10s%n", "workers", "placements/s", "placements/cpu-s",
                "slowest/s", "finish", "ideal", "vs ideal", "heartbeats");
        summary.forEach(System.out::println);
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** The share of one core the scheduler spends on heartbeats, at one from each of {@code workers} every 500 ms. */
    static double heartbeatCoreShare(Result r, int workers) {
        return r.heartbeatRounds() == 0 ? Double.NaN
                : (r.heartbeatNanos() / (double) r.heartbeatRounds() + r.heartbeatDecodeNanos() * workers) / HEARTBEAT_NANOS;
    }

    /** Runs {@code p} and prints what happened; placements per second count scheduler time only. */
    private static Result report(Params p) {
        System.out.printf("simulating %,d workers x %d threads, %,d tasks (groups of %d leaves and a sum), "
                + "tasks %d us +-50%%, input fetch %d us%n", p.workers(), p.threads(), p.tasks(), p.fanIn(),
                p.meanTaskMicros(), p.fetchMicros());
        Result r = run(p);
        System.out.printf("finished:            %,d of %,d tasks (%,d reports), %,d of %,d sums in memory%n",
                r.distinctFinished(), p.tasks(), r.finished(), r.sumsInMemory(), r.expectedSums());
        System.out.printf("placements:          %,d ComputeTask decisions, %,.0f per second of scheduler time "
                + "(%,.0f per second of its CPU time)%n", r.placements(), r.placementsPerSecond(),
                r.placementsPerCpuSecond());
        System.out.printf("events:              %,d handled, %,.0f per second%n", r.events(), r.eventsPerSecond());
        System.out.printf("scheduler time:      %.2f s in SchedulerState.handle (%.2f s of CPU); whole run %.2f s real%n",
                r.schedulerNanos() / 1e9, r.schedulerCpuNanos() / 1e9, r.wallNanos() / 1e9);
        System.out.printf("simulated time:      %.2f s to the last sum (ideal %.2f s: work / slots)%n",
                r.simulatedNanos() / 1e9, (double) p.tasks() * p.meanTaskMicros() / 1e6 / (p.workers() * p.threads()));
        System.out.printf("scheduler heap:      %,d MB after GC with every task submitted (%,d bytes per task)%n",
                r.heapAfterSubmit() >> 20, r.heapAfterSubmit() / Math.max(1, p.tasks()));
        System.out.printf("tasks left:          %,d after the client released its keys%n", r.tasksLeft());
        System.out.printf("heartbeats:          %.2f ms in the state machine per round of %,d (one a worker) and its tick,"
                + " %.0f ns to decode one: %.2f%% of one core at a round every %d ms%n",
                r.heartbeatNanos() / 1e6 / Math.max(1, r.heartbeatRounds()), p.workers(), r.heartbeatDecodeNanos(),
                100 * heartbeatCoreShare(r, p.workers()), HEARTBEAT_NANOS / 1_000_000);
        return r;
    }
}
