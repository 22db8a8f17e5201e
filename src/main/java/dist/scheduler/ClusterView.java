package dist.scheduler;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A read-only snapshot of the scheduler for dashboards and metrics, built on the state's thread by
 * {@link SchedulerView#cluster(long, int)}. Times are on the scheduler's {@link System#nanoTime()} clock.
 *
 * <pre>{@code
 * ClusterView v = server.query(st -> st.view().cluster(0, 1000), 5, TimeUnit.SECONDS);
 * v.workers().forEach(w -> System.out.println(w.address() + " " + w.processing()));
 * }</pre>
 *
 * @param nowNanos    the time of the last event the state handled
 * @param workers     registered workers, in registration order
 * @param groups      tasks by key prefix, oldest prefix first
 * @param states      how many known tasks are in each state ("memory", "waiting", ...)
 * @param transitions state changes applied so far
 * @param stream      recent computations asked for, oldest first
 * @param streamNext  the sequence number the next computation will get (ask for it next time)
 * @param compute     run times of every computation reported so far
 */
public record ClusterView(long nowNanos, List<Worker> workers, List<Group> groups, Map<String, Integer> states,
                         long transitions, List<Computation> stream, long streamNext, Histogram compute) {

    /** A worker as the scheduler sees it; {@code bytesHeld} sums the sizes of the results it holds. */
    public record Worker(String address, String name, int nthreads, long memoryBytes, long memoryLimit, long pid,
                         int processing, int keysHeld, long bytesHeld) {}

    /**
     * Tasks sharing a group name ({@link #groupOf}): how many are in memory, done and released, not
     * done yet (waiting, queued or without a worker), running, and erred; {@code finished} counts
     * every time one reached memory.
     */
    public record Group(String prefix, int memory, int released, int waiting, int processing, int erred,
                        long finished) {}

    /** A task that ran on {@code worker}'s slot {@code thread} from {@code startNanos} to {@code stopNanos}. */
    public record Computation(long seq, String key, String worker, long startNanos, long stopNanos, long nbytes,
                              boolean erred, int thread) {}

    /** Cumulative-free bucket counts: {@code counts[i]} durations up to {@code bounds[i]} seconds, the last one above. */
    public record Histogram(double[] bounds, long[] counts, long count, double sumSeconds) {}

    /**
     * The task group {@code key} belongs to, the name {@link Group#prefix()} and the dashboard show:
     * the key without its hash, uuid or index, as dask's {@code key_split}.
     *
     * <pre>{@code
     * ClusterView.groupOf("inc-" + UUID.randomUUID()); // "inc"
     * ClusterView.groupOf("hello-world-1");            // "hello-world"
     * }</pre>
     */
    public static String groupOf(String key) {
        return TaskPrefix.split(key);
    }

    static ClusterView of(long transitions, List<WorkerState> workerList, Iterable<TaskPrefix> prefixes,
                          TaskStream stream, long now, long since, int max) {
        List<Worker> ws = new ArrayList<>(workerList.size());
        for (WorkerState w : workerList) {
            ws.add(new Worker(w.address, w.name, w.nthreads, w.memoryBytes, w.memoryLimit, w.pid, w.processing.size(),
                    w.hasWhat.size(), w.heldBytes));
        }
        List<TaskPrefix> ps = new ArrayList<>();
        int[] total = new int[8];
        for (TaskPrefix p : prefixes) {
            ps.add(p);
            for (int i = 0; i < total.length; i++) {
                total[i] += p.states[i];
            }
        }
        ps.sort(Comparator.comparingLong(p -> p.order));
        List<Group> groups = new ArrayList<>(ps.size());
        for (TaskPrefix p : ps) {
            int[] c = p.states;
            groups.add(new Group(p.name, c[TaskState.MEMORY], c[TaskState.RELEASED] + c[TaskState.FORGOTTEN],
                    c[TaskState.WAITING] + c[TaskState.QUEUED] + c[TaskState.NO_WORKER], c[TaskState.PROCESSING],
                    c[TaskState.ERRED], p.finished));
        }
        Map<String, Integer> states = new LinkedHashMap<>();
        for (byte s : new byte[] {TaskState.RELEASED, TaskState.WAITING, TaskState.QUEUED, TaskState.NO_WORKER,
                TaskState.PROCESSING, TaskState.MEMORY, TaskState.ERRED}) {
            states.put(TaskState.name(s), total[s]);
        }
        return new ClusterView(now, List.copyOf(ws), List.copyOf(groups), states, transitions,
                stream.since(since, max), stream.next(), stream.histogram());
    }
}
