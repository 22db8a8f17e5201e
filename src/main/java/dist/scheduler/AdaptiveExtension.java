package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.AdaptiveTarget;
import dist.protocol.Message.AdaptiveTargetRequest;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * How many workers the scheduler wants, and which it would let go, as dask's
 * {@code Scheduler.adaptive_target} and {@code workers_to_close}: a cluster manager asks on each of
 * its adaptive intervals ({@link AdaptiveTargetRequest}) and decides itself when to act on it. The
 * answer is a reading of the current state: nothing is kept between requests.
 */
final class AdaptiveExtension implements SchedulerExtension {

    /** dask's {@code workers_to_close} default: keep twice as much memory as the data held. */
    static final double MEMORY_RATIO = 2;
    /** dask adds workers when more than this fraction of the workers' memory limits holds data. */
    static final double MEMORY_HIGH = 0.6;

    private SchedulerContext core;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(AdaptiveTargetRequest.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        AdaptiveTargetRequest r = (AdaptiveTargetRequest) message;
        if (r.targetDurationMillis() <= 0) {
            throw new IllegalArgumentException("the target duration must be positive, got " + r.targetDurationMillis() + " ms");
        }
        if (r.minimum() < 0 || (r.maximum() >= 0 && r.maximum() < r.minimum())) {
            throw new IllegalArgumentException("need 0 <= minimum <= maximum (maximum -1: none), got " + r.minimum()
                    + " and " + r.maximum());
        }
        int target = adaptiveTarget(r.targetDurationMillis() * 1_000_000L);
        int clamped = Math.max(r.minimum(), r.maximum() < 0 ? target : Math.min(r.maximum(), target));
        List<WorkerState> ws = core.workers();
        List<String> toClose = clamped < ws.size()
                ? names(workersToClose(ws, null, ws.size() - clamped, 0, w -> w.address))
                : List.of();
        List<String> all = new ArrayList<>(ws.size());
        for (WorkerState w : ws) {
            all.add(nameOf(w));
        }
        core.reply(clientId, new AdaptiveTarget(target, toClose, all), requestId);
    }

    static String nameOf(WorkerState w) {
        return w.name != null ? w.name : w.address;
    }

    private List<String> names(List<WorkerState> ws) {
        return ws.stream().map(AdaptiveExtension::nameOf).toList();
    }

    /**
     * The workers wanted now, as dask's {@code adaptive_target}: enough that the queued and
     * processing work (by each kind's mean run time) takes {@code targetDurationNanos}, but no more
     * than there are tasks; more when the workers' data fills over 60% of their limits; and when
     * that is fewer than there are, only as few as {@link #workersToClose} lets go.
     */
    int adaptiveTarget(long targetDurationNanos) {
        List<WorkerState> ws = core.workers();
        double queuedOccupancy = 0;
        for (TaskPrefix p : core.prefixes()) {
            int waiting = p.states[TaskState.QUEUED] + p.states[TaskState.NO_WORKER];
            if (waiting > 0) {
                queuedOccupancy += (double) waiting * p.expected(TaskLifecycle.UNKNOWN_DURATION_NANOS);
            }
        }
        long tasksReady = (long) core.queuedCount() + core.noWorkerTasks().size();
        double occupancy = 0;
        for (WorkerState w : ws) {
            occupancy += w.occupancy;
        }
        long cpu = (long) Math.ceil((occupancy + queuedOccupancy) / targetDurationNanos);
        // a few long tasks do not ask for many workers: no more than there are tasks
        boolean fewTasks = true;
        for (WorkerState w : ws) {
            if (tasksReady > cpu) {
                fewTasks = false;
                break;
            }
            tasksReady += w.processing.size();
        }
        if (fewTasks) {
            cpu = Math.min(tasksReady, cpu);
        }
        if (!ws.isEmpty()) {
            long nthreads = 0;
            for (WorkerState w : ws) {
                nthreads += w.nthreads;
            }
            cpu = (long) Math.ceil((double) cpu / Math.max(1, nthreads) * ws.size());
        }
        if (ws.isEmpty() && (core.queuedCount() > 0 || !core.noWorkerTasks().isEmpty())) {
            cpu = Math.max(1, cpu);
        }
        long limit = 0;
        long used = 0;
        boolean unlimited = false;
        for (WorkerState w : ws) {
            unlimited |= w.memoryLimit <= 0;
            limit += w.memoryLimit;
            used += w.heldBytes;
        }
        long memory = !unlimited && limit > 0 && used > MEMORY_HIGH * limit ? 2L * ws.size() : 0;
        long target = Math.min(Integer.MAX_VALUE, Math.max(memory, cpu));
        if (target >= ws.size()) {
            return (int) target;
        }
        return ws.size() - workersToClose(ws, MEMORY_RATIO, null, 0, w -> w.address).size();
    }

    /**
     * The workers to close, as dask's {@code workers_to_close}: groups of workers ({@code group}, by
     * address: each alone) that run nothing first, then those holding the least data. With
     * {@code n} null, only idle groups, and only while the others' memory limits keep
     * {@code memoryRatio} times the data held; with {@code n}, up to {@code n} workers, busy ones
     * last. Never a worker running a long task (one that seceded): closing it would start that task
     * over elsewhere; nor one that owns partitions of a running shuffle, which would run it again. Never below {@code minimum} workers.
     */
    static List<WorkerState> workersToClose(List<WorkerState> workers, Double memoryRatio, Integer n, int minimum,
                                            Function<WorkerState, String> group) {
        Integer target = null;
        if (n != null) {
            n = Math.max(0, n);
            target = workers.size() - n;
        }
        if (n == null && memoryRatio == null) {
            memoryRatio = MEMORY_RATIO;
        }
        if ((n == null || n == 0) && workers.stream().allMatch(w -> w.processing.size() > 0)) {
            return List.of();
        }
        Map<String, List<WorkerState>> groups = new LinkedHashMap<>();
        for (WorkerState w : workers) {
            if (w.seceded.isEmpty() && w.shuffles == 0) {
                groups.computeIfAbsent(group.apply(w), k -> new ArrayList<>()).add(w);
            }
        }
        Map<String, Long> limitBytes = new LinkedHashMap<>();
        Map<String, Long> groupBytes = new LinkedHashMap<>();
        Map<String, Boolean> idle = new LinkedHashMap<>();
        double limit = 0;
        double total = 0;
        for (Map.Entry<String, List<WorkerState>> e : groups.entrySet()) {
            // a worker without a limit has room for anything
            long l = e.getValue().stream().mapToLong(w -> w.memoryLimit <= 0 ? Long.MAX_VALUE / 1024 : w.memoryLimit).sum();
            long b = e.getValue().stream().mapToLong(w -> w.heldBytes).sum();
            limitBytes.put(e.getKey(), l);
            groupBytes.put(e.getKey(), b);
            idle.put(e.getKey(), e.getValue().stream().allMatch(w -> w.processing.size() == 0));
            limit += l;
            total += b;
        }
        // best first: idle, then the least data
        List<String> order = new ArrayList<>(groups.keySet());
        java.util.Collections.reverse(order); // among equals, the newest first, as dask's pop from the end
        order.sort(Comparator.comparing((String g) -> !idle.get(g)).thenComparingLong(groupBytes::get));
        List<WorkerState> out = new ArrayList<>();
        int remain = workers.size();
        for (String g : order) {
            List<WorkerState> members = groups.get(g);
            if (n == null && !idle.get(g)) {
                break;
            }
            if (minimum > 0 && remain - members.size() < minimum) {
                break;
            }
            limit -= limitBytes.get(g);
            if ((n != null && remain - members.size() >= target)
                    || (memoryRatio != null && limit >= memoryRatio * total)) {
                out.addAll(members);
                remain -= members.size();
            } else {
                break;
            }
        }
        return out;
    }
}
