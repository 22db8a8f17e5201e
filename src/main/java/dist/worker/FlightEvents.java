package dist.worker;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * The worker's Java Flight Recorder events: a task ran, data came from a peer, a result went to disk
 * or came back. Each is built and committed only while a recording enables it, so they cost a
 * check when none does. Record them with {@code -XX:StartFlightRecording} or {@link jdk.jfr.Recording}:
 *
 * <pre>{@code
 * try (Recording r = new Recording()) {
 *     r.enable("dist.TaskExecuted");
 *     r.start();
 *     client.submit(Work::inc, 1).result();
 *     r.dump(Path.of("run.jfr"));
 * }
 * }</pre>
 *
 * {@code dist report run.jfr} (or {@code PerformanceReport.fromRecordings}) turns recordings into the
 * performance report.
 */
public final class FlightEvents {
    private FlightEvents() {
    }

    /**
     * A task ran on a worker, as the task stream shows it. The event begins when the run starts (when a
     * recording was on by then) and ends once the result is stored; {@code runTime} is the run alone.
     * Its thread is the one that ran the task.
     */
    @Name("dist.TaskExecuted")
    @Label("Task executed")
    @Category({"dist", "Worker"})
    @Description("A task ran on a worker: its key, group, how long it ran and the size of its result")
    @StackTrace(false)
    public static final class TaskExecuted extends Event {
        @Label("Key")
        public String key;
        @Label("Task group")
        public String group;
        @Label("Worker")
        public String worker;
        @Label("Run time")
        @Timespan(Timespan.NANOSECONDS)
        public long runTime;
        @Label("Result bytes")
        @DataAmount
        public long resultBytes;
        @Label("Erred")
        public boolean erred;
    }

    /** Keys a worker fetched from a peer; committed when they arrived, {@code transferTime} after the fetch began. */
    @Name("dist.Transfer")
    @Label("Transfer")
    @Category({"dist", "Worker"})
    @Description("Keys a worker fetched from a peer: which, from where, their size and how long it took")
    @StackTrace(false)
    public static final class Transfer extends Event {
        @Label("Keys")
        public String keys;
        @Label("From")
        public String from;
        @Label("To")
        public String to;
        @Label("Bytes")
        @DataAmount
        public long bytes;
        @Label("Transfer time")
        @Timespan(Timespan.NANOSECONDS)
        public long transferTime;
    }

    /** A result went to disk, or was read back from it; committed once done, {@code spillTime} after it began. */
    @Name("dist.Spill")
    @Label("Spill")
    @Category({"dist", "Worker"})
    @Description("A result was written to the worker's disk (toDisk) or read back from it")
    @StackTrace(false)
    public static final class Spill extends Event {
        @Label("Key")
        public String key;
        @Label("Bytes")
        @DataAmount
        public long bytes;
        @Label("To disk")
        public boolean toDisk;
        @Label("Spill time")
        @Timespan(Timespan.NANOSECONDS)
        public long spillTime;
    }

    /**
     * Time a worker spent on one activity for one task group (and span), summed since its last such event:
     * the fine metrics it sends the scheduler about twice a second, so a recording holds the report's
     * per-group split. Committed as the worker reports them, and once more as it closes.
     */
    @Name("dist.TimeSpent")
    @Label("Time spent")
    @Category({"dist", "Worker"})
    @Description("Time (and bytes) a worker spent on compute, transfer, waiting, spill or serialization for a task group")
    @StackTrace(false)
    public static final class TimeSpent extends Event {
        @Label("Worker")
        public String worker;
        @Label("Span")
        public String span;
        @Label("Task group")
        public String group;
        @Label("Activity")
        public String activity;
        @Label("Time")
        @Timespan(Timespan.NANOSECONDS)
        public long time;
        @Label("Bytes")
        @DataAmount
        public long bytes;
    }

    private static final TaskExecuted TASK_PROBE = new TaskExecuted();
    private static final TimeSpent TIME_PROBE = new TimeSpent();
    private static final Transfer TRANSFER_PROBE = new Transfer();
    private static final Spill SPILL_PROBE = new Spill();

    /** The event of the task this thread runs, begun at its start; matched by its start so a stale one is not used. */
    private record Running(TaskExecuted event, long startNanos) {
    }

    private static final ThreadLocal<Running> RUNNING = new ThreadLocal<>();

    /**
     * A task starts on this thread: its event begins, then the run's start is taken (System.nanoTime,
     * returned), so the event spans the whole run however the two clocks round.
     */
    static long taskStarting() {
        if (!TASK_PROBE.isEnabled()) {
            return System.nanoTime();
        }
        TaskExecuted e = new TaskExecuted();
        e.begin();
        long startNanos = System.nanoTime();
        RUNNING.set(new Running(e, startNanos));
        return startNanos;
    }

    static void taskExecuted(String worker, String key, long startNanos, long stopNanos, long resultBytes,
                             boolean erred) {
        if (!TASK_PROBE.isEnabled()) {
            return;
        }
        Running r = RUNNING.get();
        TaskExecuted e;
        if (r != null && r.startNanos() == startNanos) {
            e = r.event();
            RUNNING.remove();
        } else {
            e = new TaskExecuted(); // the recording began during the run: the event begins at its end
        }
        long runNanos = stopNanos - startNanos;
        e.key = key;
        e.group = dist.protocol.KeySplit.split(key);
        e.worker = worker;
        e.runTime = runNanos;
        e.resultBytes = resultBytes;
        e.erred = erred;
        e.commit();
    }

    static void transfer(java.util.Collection<String> keys, String from, String to, long bytes, long nanos) {
        if (!TRANSFER_PROBE.isEnabled()) {
            return;
        }
        Transfer e = new Transfer();
        e.keys = String.join(",", keys);
        e.from = from;
        e.to = to;
        e.bytes = bytes;
        e.transferTime = nanos;
        e.commit();
    }

    static void spill(String key, long bytes, boolean toDisk, long nanos) {
        if (!SPILL_PROBE.isEnabled()) {
            return;
        }
        Spill e = new Spill();
        e.key = key;
        e.bytes = bytes;
        e.toDisk = toDisk;
        e.spillTime = nanos;
        e.commit();
    }

    /** One event per entry of a fine-metrics delta (see {@link TimeSpent}). */
    static void timeSpent(String worker, dist.protocol.Message.FineMetrics m) {
        if (!TIME_PROBE.isEnabled()) {
            return;
        }
        for (int i = 0; i < m.groups().size(); i++) {
            TimeSpent e = new TimeSpent();
            e.worker = worker;
            e.span = m.spans().get(i);
            e.group = m.groups().get(i);
            e.activity = FineMetrics.NAMES.get(m.activities().get(i));
            e.time = m.nanos().get(i);
            e.bytes = m.bytes().get(i);
            e.commit();
        }
    }
}
