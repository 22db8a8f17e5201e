package dist.scheduler;

import dist.protocol.Message.WorkerInfo;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

import static dist.scheduler.TaskState.name;

/**
 * Read-only questions about a {@link SchedulerState} from outside it (the server, dashboards, tests):
 * task states, workers, counts and history. It reads the core's bookkeeping on the core's thread and
 * changes nothing, except that {@link #recordTransitions} turns a log on or off.
 *
 * <pre>{@code
 * SchedulerState s = new SchedulerState(SchedulerConfig.defaults());
 * ... s.handle(event, now) ...
 * String st = s.view().stateOf("inc-1");        // "processing", "memory", ...
 * Set<String> workers = s.view().workers();
 * }</pre>
 */
public final class SchedulerView {
    private final SchedulerState core;

    SchedulerView(SchedulerState core) {
        this.core = core;
    }

    /** "released", "waiting", "queued", "no-worker", "processing", "memory" or "erred"; null when unknown. */
    public String stateOf(String key) {
        TaskState ts = core.tasks.get(key);
        return ts == null ? null : name(ts.state);
    }

    /** Addresses of the registered workers, in registration order. */
    public Set<String> workers() {
        return Collections.unmodifiableSet(new LinkedHashSet<>(core.workers.keySet()));
    }

    /** A worker's status as dask names it (running, paused, closing_gracefully), or null when it is not registered. */
    public String workerStatus(String address) {
        WorkerState w = core.workers.get(address);
        return w == null ? null : WorkerState.statusName(w.status);
    }

    /** For each key, the addresses of the workers holding it (empty when none or unknown). */
    public Map<String, List<String>> whoHas(Collection<String> keys) {
        return core.extension(QueryExtension.class).whoHas(keys);
    }

    /** Tasks the scheduler knows (every state but forgotten). */
    public int taskCount() {
        return core.tasks.size();
    }

    /** The worker a task was sent to, or null when it is not processing. */
    public String processingOn(String key) {
        TaskState ts = core.tasks.get(key);
        return ts == null || ts.processingOn == null ? null : ts.processingOn.address;
    }

    /** How many workers died while this task was processing on them. */
    public int suspiciousCount(String key) {
        TaskState ts = core.tasks.get(key);
        return ts == null || ts.trouble == null ? 0 : ts.trouble.suspicious;
    }

    /** Tasks held back on the scheduler while every worker is saturated. */
    public int queuedCount() {
        return core.placement().queuedCount();
    }

    /** Tasks that no current worker may run. */
    public int noWorkerCount() {
        return core.noWorker.size();
    }

    /** Mean measured run time of the tasks of group {@code prefix} (see {@link ClusterView#groupOf}). */
    public OptionalLong averageDurationNanos(String prefix) {
        TaskPrefix p = core.prefixes.get(prefix);
        return p == null || p.count == 0 ? OptionalLong.empty() : OptionalLong.of(p.totalNanos / p.count);
    }

    /** One state change of a task, as {@link #drainTransitions()} reports it (state names as in {@link #stateOf}). */
    public record Transition(String key, String from, String to) {}

    /** Starts or stops keeping a log of every state change for {@link #drainTransitions()} (off by default). */
    public void recordTransitions(boolean on) {
        core.extension(HistoryExtension.class).recordTransitions(on);
    }

    /** The state changes since the last call, in order; empty when recording is off. */
    public List<Transition> drainTransitions() {
        return core.extension(HistoryExtension.class).drainTransitions();
    }

    /** The client whose update created this task (whose classes its workers may ask for), or null. */
    public String submitterOf(String key) {
        TaskState ts = core.tasks.get(key);
        return ts == null ? null : ts.submitter;
    }

    /**
     * A snapshot for dashboards: workers, task groups, totals, and the computations numbered
     * {@code streamSince} and later (at most {@code streamMax}, the newest). It walks every worker's
     * held keys: call it a few times a second at most.
     */
    public ClusterView cluster(long streamSince, int streamMax) {
        return core.extension(HistoryExtension.class).view(streamSince, streamMax);
    }

    /** Every span the scheduler keeps totals for, oldest first (walks every task once: a few times a second at most). */
    public List<SpanTotals> spans() {
        return core.extension(SpanExtension.class).snapshot();
    }

    /**
     * The workers' fine metrics per task group: for each activity a (compute, transfer, waiting, spill,
     * serialization) nanoseconds at {@code 2a} and bytes at {@code 2a + 1}.
     */
    public Map<String, long[]> groupMetrics() {
        return core.extension(SpanExtension.class).groupMetrics();
    }

    /** The computations numbered {@code since} and later (at most {@code max}, the newest), oldest first; times are {@link SchedulerContext#now()}'s. */
    public List<ClusterView.Computation> taskStream(long since, int max) {
        return core.extension(HistoryExtension.class).stream(since, max);
    }

    /** The number the next computation in {@link #taskStream} gets. */
    public long taskStreamNext() {
        return core.extension(HistoryExtension.class).streamNext();
    }

    /**
     * The workers' profile samples of the cycles overlapping [{@code startMillis}, {@code stopMillis}]
     * (wall-clock ms) of task group {@code taskGroup} (null: all), merged under a root "all", as
     * {@code Client.profile} answers it: {@code scheduler.query(s -> s.view().profile(0, Long.MAX_VALUE, null), 5, SECONDS)}.
     */
    public dist.protocol.Message.ProfileTree profile(long startMillis, long stopMillis, String taskGroup) {
        return core.extension(ProfileExtension.class).merged(startMillis, stopMillis, taskGroup);
    }

    /** The recent state changes of task {@code key} on the scheduler, oldest first (empty when none is kept). */
    public List<StoryEntry> story(String key) {
        return key == null ? List.of() : core.extension(HistoryExtension.class).story(key);
    }

    /** Number of state changes applied so far. */
    public long transitionCount() {
        return core.transitions;
    }

    /** Information on every worker, as {@link dist.protocol.Message.WorkersReply} carries it. */
    public List<WorkerInfo> workerInfos() {
        return core.extension(QueryExtension.class).workerInfos();
    }

    /**
     * How many registered workers a nanny has said it runs. A nanny says so just after its worker
     * registers; until then a restart cannot reach that worker through its nanny.
     */
    public int workersWithNanny() {
        ClientRegistry r = core.extension(ClientRegistry.class);
        return r == null ? 0 : r.workersWithNanny();
    }

    /** The nanny id of each worker whose nanny has said it runs it, by worker address. */
    public Map<String, String> nanniesByWorker() {
        ClientRegistry r = core.extension(ClientRegistry.class);
        return r == null ? Map.of() : r.nanniesByWorker();
    }

    /** Names of the published datasets, sorted. */
    public List<String> datasetNames() {
        return core.extension(DatasetExtension.class).names();
    }

    /**
     * Whether work stealing runs here, as dask's {@code "stealing" in s.extensions}: off when the
     * scheduler started with {@code distributed.scheduler.work-stealing=false}.
     */
    public boolean workStealing() {
        return core.extension(WorkStealingExtension.class) != null;
    }

    /** The workers wanted now, as dask's {@code Scheduler.adaptive_target(target_duration)}. */
    public int adaptiveTarget(java.time.Duration targetDuration) {
        return core.extension(AdaptiveExtension.class).adaptiveTarget(targetDuration.toNanos());
    }

    /**
     * Addresses of the workers dask's {@code Scheduler.workers_to_close(n=..., key=...)} picks
     * ({@code n} null: the idle ones the data held lets go); {@code group} maps a worker's address to
     * its group, closed together.
     */
    public List<String> workersToClose(Integer n, java.util.function.Function<String, String> group) {
        return AdaptiveExtension.workersToClose(List.copyOf(core.workers.values()), null, n, 0, w -> group.apply(w.address)).stream()
                .map(w -> w.address).toList();
    }

    /**
     * The scheduler's state as plain values for a dump file (dask's {@code Scheduler._to_dict}): its tasks
     * (state, priority, dependencies, who has them, where they run, size, submitter) and workers, without
     * the task fields named in {@code exclude}. A task's recipe and value are never in it.
     */
    public Map<String, Object> dump(Collection<String> exclude) {
        Set<String> out = Set.copyOf(exclude);
        Map<String, Object> tasks = new java.util.LinkedHashMap<>();
        for (TaskState ts : core.tasks) {
            Map<String, Object> t = new java.util.LinkedHashMap<>();
            put(t, out, "key", ts.key);
            put(t, out, "state", name(ts.state));
            put(t, out, "priority", ts.priority);
            List<String> deps = new java.util.ArrayList<>(ts.deps.length);
            for (TaskState d : ts.deps) {
                deps.add(d.key);
            }
            put(t, out, "dependencies", deps);
            List<String> who = new java.util.ArrayList<>();
            if (ts.whoHas != null) {
                for (WorkerState w : ts.whoHas) {
                    if (w != null) {
                        who.add(w.address);
                    }
                }
            }
            put(t, out, "who_has", who);
            put(t, out, "processing_on", ts.processingOn == null ? null : ts.processingOn.address);
            put(t, out, "nbytes", ts.nbytes);
            put(t, out, "group", ts.prefix.name);
            put(t, out, "submitter", ts.submitter);
            put(t, out, "suspicious", ts.trouble == null ? 0 : ts.trouble.suspicious);
            tasks.put(ts.key, t);
        }
        Map<String, Object> workers = new java.util.LinkedHashMap<>();
        for (WorkerState w : core.workers.values()) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("address", w.address);
            m.put("name", w.name);
            m.put("status", WorkerState.statusName(w.status));
            m.put("nthreads", w.nthreads);
            m.put("memory_limit", w.memoryLimit);
            m.put("memory_bytes", w.memoryBytes);
            m.put("processing", w.processing.size());
            m.put("has_what", w.hasWhat.size());
            m.put("metrics", new java.util.TreeMap<>(w.metrics));
            workers.put(w.address, m);
        }
        Map<String, Object> s = new java.util.LinkedHashMap<>();
        s.put("tasks", tasks);
        s.put("workers", workers);
        s.put("transition_count", core.view().transitionCount());
        return s;
    }

    private static void put(Map<String, Object> m, Set<String> exclude, String field, Object value) {
        if (!exclude.contains(field)) {
            m.put(field, value);
        }
    }
}
