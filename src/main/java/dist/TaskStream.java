package dist;

import dist.protocol.Message;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The computations the workers ran and the transfers they made while this handle was open, as dask's
 * {@code get_task_stream}: it starts when {@link Client#taskStream()} makes it and stops at {@link #close()}.
 * It reads the scheduler's bounded history (the last 20,000 computations and transfers), so it costs
 * nothing while open; a block that runs more than that loses its oldest records.
 *
 * <pre>{@code
 * try (TaskStream ts = client.taskStream()) {
 *     client.map(x -> x + 1, List.of(1, 2, 3)).forEach(Future::result);
 *     ts.close();
 *     for (TaskStream.Task t : ts.tasks()) System.out.println(t.key() + " on " + t.worker() + " " + t.duration());
 * }
 * }</pre>
 */
public final class TaskStream implements AutoCloseable {
    /**
     * One computation: the task's key, the worker that ran it, when it started and stopped (the worker's
     * times moved onto the scheduler's clock by the least delay seen from that worker), its result's size,
     * whether it threw, and the worker's slot that ran it ({@code thread}, 0 to nthreads - 1, as dask's
     * "thread"; -1 where unknown, as in a report made from recordings).
     */
    public record Task(String key, String worker, Instant start, Instant stop, long nbytes, boolean erred, int thread) {
        /** How long it ran. */
        public Duration duration() {
            return Duration.between(start, stop);
        }

        /** The task's group ("inc" for "inc-1f2e"), as the dashboard colours it. */
        public String group() {
            return dist.scheduler.ClusterView.groupOf(key);
        }
    }

    /** One fetch: {@code worker} fetched {@code bytes} from {@code from} (the fetching worker's clock). */
    public record Transfer(String worker, String from, long bytes, Instant start, Instant stop) {
        /** How long it took. */
        public Duration duration() {
            return Duration.between(start, stop);
        }
    }

    /**
     * Where the time of one task group's tasks went, as the workers measured it (dask's fine performance
     * metrics): running its code, fetching its inputs from peers (and the bytes), ready on a worker until a
     * slot ran it, writing results to disk and reading them back (and the bytes), and encoding results and
     * decoding inputs. Workers report these about twice a second, so the last half second may be missing.
     */
    public record GroupTime(String group, double computeSeconds, double transferSeconds, long transferBytes,
                            double waitingSeconds, double spillSeconds, long spillBytes,
                            double serializationSeconds) {
        /**
         * From the workers' counters of one group: per activity (compute, transfer, waiting, spill,
         * serialization) nanoseconds at index 2a and bytes at 2a + 1.
         */
        static GroupTime of(String group, long[] perActivity) {
            long[] v = perActivity;
            return new GroupTime(group, v[0] / 1e9, v[2] / 1e9, v[3], v[4] / 1e9, v[6] / 1e9, v[7], v[8] / 1e9);
        }
    }

    /** Asks the scheduler for a stretch of its history (see {@link Message.TaskStreamRequest}). */
    interface Source {
        Message.TaskStreamReply read(long since, long transfersSince, int max);
    }

    private static final int MAX = 20_000;

    private final Source source;
    private final ReentrantLock lock = new ReentrantLock();
    private final long since;
    private final long transfersSince;
    private final Instant notBefore;
    private List<Task> tasks;
    private List<Transfer> transfers;
    /** The groups' fine metrics when it started (nanoseconds and bytes, five activities each): subtracted. */
    private final java.util.Map<String, long[]> baseline;
    private List<GroupTime> groupTimes;

    private TaskStream(Source source, long since, long transfersSince, Instant notBefore,
                       java.util.Map<String, long[]> baseline) {
        this.source = source;
        this.since = since;
        this.transfersSince = transfersSince;
        this.notBefore = notBefore;
        this.baseline = baseline;
    }

    /** A stream from now on. */
    static TaskStream start(Source source) {
        Message.TaskStreamReply now = source.read(Long.MAX_VALUE, Long.MAX_VALUE, 0);
        return new TaskStream(source, now.next(), now.nextTransfer(), null, metrics(now));
    }

    /** Per group of the reply: nanoseconds at 2a and bytes at 2a + 1 for each activity a. */
    private static java.util.Map<String, long[]> metrics(Message.TaskStreamReply r) {
        java.util.Map<String, long[]> m = new java.util.HashMap<>();
        List<String> groups = r.metricGroups() == null ? List.of() : r.metricGroups();
        for (int i = 0; i < groups.size(); i++) {
            long[] v = new long[10];
            for (int a = 0; a < 5; a++) {
                v[2 * a] = r.metricNanos().get(5 * i + a);
                v[2 * a + 1] = r.metricBytes().get(5 * i + a);
            }
            m.put(groups.get(i), v);
        }
        return m;
    }

    /** The records of the last {@code period} the scheduler still keeps, already closed. */
    static TaskStream recent(Source source, Duration period) {
        TaskStream ts = new TaskStream(source, 0, 0, Instant.now().minus(period), java.util.Map.of());
        ts.close();
        return ts;
    }

    /** The computations so far (while open: up to now), oldest first. */
    public List<Task> tasks() {
        lock.lock();
        try {
            return tasks != null ? tasks : read(source.read(since, transfersSince, MAX)).tasks;
        } finally {
            lock.unlock();
        }
    }

    /** The transfers between workers so far (while open: up to now), oldest first. */
    public List<Transfer> transfers() {
        lock.lock();
        try {
            return transfers != null ? transfers : read(source.read(since, transfersSince, MAX)).transfers;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Per task group, where its tasks' time went while this stream was open (see {@link GroupTime}); groups
     * that did nothing meanwhile are left out. By group name.
     */
    public List<GroupTime> groupTimes() {
        lock.lock();
        try {
            return groupTimes != null ? groupTimes : read(source.read(since, transfersSince, MAX)).groupTimes;
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@link #close()} was called: the records no longer grow. */
    public boolean isClosed() {
        lock.lock();
        try {
            return tasks != null;
        } finally {
            lock.unlock();
        }
    }

    /** Stops recording: reads what ran up to now and keeps it. Idempotent. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (tasks == null) {
                TaskStream r = read(source.read(since, transfersSince, MAX));
                tasks = r.tasks;
                transfers = r.transfers;
                groupTimes = r.groupTimes;
            }
        } finally {
            lock.unlock();
        }
    }

    private TaskStream read(Message.TaskStreamReply r) {
        List<Task> t = new ArrayList<>(r.keys().size());
        for (int i = 0; i < r.keys().size(); i++) {
            Task task = new Task(r.keys().get(i), r.workers().get(i), instant(r.startMicros().get(i)),
                    instant(r.stopMicros().get(i)), r.nbytes().get(i), Boolean.TRUE.equals(r.erred().get(i)),
                    r.threads().get(i));
            if (notBefore == null || !task.stop().isBefore(notBefore)) {
                t.add(task);
            }
        }
        List<Transfer> m = new ArrayList<>(r.transferWorkers().size());
        for (int i = 0; i < r.transferWorkers().size(); i++) {
            Transfer tr = new Transfer(r.transferWorkers().get(i), r.transferPeers().get(i), r.transferBytes().get(i),
                    instant(r.transferStartMicros().get(i)), instant(r.transferStopMicros().get(i)));
            if (notBefore == null || !tr.stop().isBefore(notBefore)) {
                m.add(tr);
            }
        }
        List<GroupTime> g = new ArrayList<>();
        new java.util.TreeMap<>(metrics(r)).forEach((group, v) -> {
            long[] was = baseline.getOrDefault(group, new long[10]);
            long[] d = new long[10];
            boolean any = false;
            for (int i = 0; i < d.length; i++) {
                d[i] = v[i] - was[i];
                any |= d[i] != 0;
            }
            if (any) {
                g.add(GroupTime.of(group, d));
            }
        });
        TaskStream out = new TaskStream(source, since, transfersSince, notBefore, baseline);
        out.tasks = List.copyOf(t);
        out.transfers = List.copyOf(m);
        out.groupTimes = List.copyOf(g);
        return out;
    }

    private static Instant instant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000), Math.floorMod(micros, 1_000_000) * 1000L);
    }
}
