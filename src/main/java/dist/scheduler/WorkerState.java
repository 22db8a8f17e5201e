package dist.scheduler;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/** A worker as the scheduler tracks it. */
final class WorkerState {
    final String address;
    final String host;
    String name;
    /** Set once, before the worker is filed in the placement index. */
    int nthreads;
    long memoryLimit;
    long pid;
    long memoryBytes;
    /** The worker's own metrics and startup values as it last reported them (WorkerCustomMetrics). */
    Map<String, Double> metrics = Map.of();
    Map<String, String> startup = Map.of();
    long lastSeen;
    /** As dask's worker Status: only a running worker is given new tasks and copies (see {@link Placement#setRunning}). */
    static final byte RUNNING = 0, PAUSED = 1, CLOSING_GRACEFULLY = 2;
    byte status = RUNNING;
    /** What the worker last said of itself (memory past its pause fraction); closing gracefully overrides it. */
    boolean reportedPaused;
    /**
     * Tasks sent to this worker and not reported back (queued or executing there); changed only
     * through {@link #assign}, {@link #unassign}, {@link #clearProcessing}, which keep the placement index current.
     */
    final TaskSet processing = new TaskSet();
    /** Processing tasks that seceded: they run, but hold no thread slot; changed only through {@link #secede}, {@link #unassign}. */
    final LinkedHashSet<TaskState> seceded = new LinkedHashSet<>();
    /** Running p2p shuffles that own output partitions here (P2PShuffleExtension): not a worker to close meanwhile. */
    int shuffles;
    /** {@code seceded.size()}, kept here: the load is read at every task sent or finished, the set rarely. */
    private int secededCount;
    /** Keys whose result this worker holds; changed only through {@link #hold}, {@link #unhold}, {@link #clearHeld}. */
    final TaskSet hasWhat = new TaskSet();
    /** Sum of the known sizes of {@link #hasWhat}, kept as it changes so a view never walks a million keys. */
    long heldBytes;
    /** The least (our clock at a report) - (the worker's stop in it) seen: its clock's offset, nearly. */
    long clockOffset = Long.MAX_VALUE;
    /**
     * Sum of the expected run times of {@link #processing} (and of tasks being stolen to it, not of
     * those being stolen from it), in nanoseconds; changed only through the mutators below.
     */
    long occupancy;
    /**
     * The largest (least urgent) priority among tasks sent here to wait for a thread, an upper bound
     * kept until no task waits here any more; {@link Long#MIN_VALUE} when none waits (see Placement).
     */
    long worstWaiting = Long.MIN_VALUE;
    /** The placement index this worker is filed in; null before it registers and once it is gone. */
    Placement placement;
    /** The load, spare count and filing order this worker is filed under (see {@link Placement}). */
    double loadKey;
    int spareKey;
    long seqKey;
    /** Its load changed and the load heap has not caught up yet (see Placement's unsettled workers). */
    boolean loadUnsettled;
    /** Positions in the placement heaps of every worker and of this worker's spare group (-1: in none). */
    int loadPos = -1;
    int groupPos = -1;
    /** Scratch of one placement pass: its number when this worker was last counted, and the input bytes it holds. */
    long pass;
    long passBytes;
    /** Abstract resources this worker offers (e.g. GPU=2); null when none. */
    Map<String, Double> resources;
    /** Resources held by tasks processing here; null when none. */
    HashMap<String, Double> resourcesUsed;
    /** Tasks of other workers that the scheduler asked to give to this one (steal requests in flight). */
    final LinkedHashSet<TaskState> stealingIn = new LinkedHashSet<>();
    /** Tasks processing here with a steal request out. */
    int stealingOut;
    /** Keys to tell this worker to free, not sent yet; null when none (see TaskLifecycle#queueFree). */
    java.util.ArrayList<String> pendingFree;
    /** Where this worker sits in TaskLifecycle's list of workers with keys to free, while it has some. */
    int freeingAt;

    /** {@code {this}}: the holders of every result only this worker holds (see {@link TaskState#whoHas}). */
    final WorkerState[] alone = {this};
    /** {@code [address]}: where a result only this worker holds is, in every message that says so. */
    final java.util.List<String> addressAlone;

    /** The scheduler's set of results held by two workers or more, kept as holders come and go. */
    final TaskSet replicated;

    WorkerState(String address, TaskSet replicated) {
        this.address = address;
        this.replicated = replicated;
        this.addressAlone = java.util.List.of(address);
        this.host = hostOf(address);
    }

    static String hostOf(String address) {
        String a = address;
        int scheme = a.indexOf("://");
        if (scheme >= 0) {
            a = a.substring(scheme + 3);
        }
        int colon = a.lastIndexOf(':');
        String h = colon > 0 ? a.substring(0, colon) : a;
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        return h;
    }

    /** Whether new tasks, copies and stolen tasks may come here. */
    boolean running() {
        return status == RUNNING;
    }

    /** dask's name of a status: running, paused, closing_gracefully. */
    static String statusName(byte status) {
        return switch (status) {
            case RUNNING -> "running";
            case PAUSED -> "paused";
            default -> "closing_gracefully";
        };
    }

    void hold(TaskState ts) {
        if (hasWhat.add(ts)) {
            heldBytes += Math.max(0, ts.nbytes);
        }
    }

    /** {@link #hold} of a key that {@link TaskState#addHolder} just gained this worker for: it is not held here yet. */
    void holdNew(TaskState ts) {
        hasWhat.addAbsent(ts);
        heldBytes += Math.max(0, ts.nbytes);
    }

    void unhold(TaskState ts) {
        if (hasWhat.remove(ts)) {
            heldBytes -= Math.max(0, ts.nbytes);
        }
    }

    void clearHeld() {
        hasWhat.clear();
        heldBytes = 0;
    }

    /** {@code ts} was sent here: it counts toward this worker's load and holds its resources. */
    void assign(TaskState ts) {
        occupancy += ts.expectedNanos;
        processing.add(ts);
        // only a root task sent ahead could have waited in the queue: a queued task may jump ahead of
        // it, never ahead of a task with inputs, which would let roots outrun the tasks that free memory
        if (busy() > nthreads && ts.priority > worstWaiting && ts.deps.length == 0) {
            worstWaiting = ts.priority;
            if (placement != null) {
                placement.waitingAt(ts.priority);
            }
        }
        acquire(ts.resources());
        refile();
    }

    /** {@code ts} left this worker (finished, moved or released): its load and resources go. */
    void unassign(TaskState ts) {
        processing.remove(ts);
        if (secededCount > 0 && seceded.remove(ts)) { // rarely any: spare the set
            secededCount--;
        }
        occupancy -= ts.expectedNanos;
        release(ts.resources());
        refile();
    }

    /** {@code ts} runs on without a thread slot, so this worker has room for one more. */
    void secede(TaskState ts) {
        if (seceded.add(ts)) {
            secededCount++;
        }
        refile();
    }

    /** Expected work moves to or from this worker (a steal request sent or withdrawn). */
    void addOccupancy(long nanos) {
        occupancy += nanos;
        refile();
    }

    /** Nothing runs here any more, nor is on its way in or out. */
    void clearProcessing() {
        processing.clear();
        seceded.clear();
        secededCount = 0;
        stealingIn.clear();
        stealingOut = 0;
        resourcesUsed = null;
        occupancy = 0;
        refile();
    }

    private void refile() {
        if (placement != null) {
            placement.refile(this);
        }
    }

    /** Tasks held beyond one per thread; negative while threads are free (see {@link Placement#roomiest}). */
    int spare() {
        return busy() - nthreads;
    }

    /** Tasks here that hold a thread slot or wait for one. */
    int busy() {
        return processing.size() - secededCount;
    }

    /** Occupancy per thread, compared across workers of different sizes. */
    double load() {
        return (double) occupancy / Math.max(1, nthreads);
    }

    /** Whether {@code need} fits into this worker's free resources now (an empty need always fits). */
    boolean hasFree(Map<String, Double> need) {
        if (need == null || need.isEmpty()) {
            return true;
        }
        if (resources == null) {
            return false;
        }
        for (Map.Entry<String, Double> e : need.entrySet()) {
            double total = resources.getOrDefault(e.getKey(), 0.0);
            double used = resourcesUsed == null ? 0.0 : resourcesUsed.getOrDefault(e.getKey(), 0.0);
            if (e.getValue() != null && used + e.getValue() > total + 1e-9) {
                return false;
            }
        }
        return true;
    }

    /** Whether this worker could ever run a task needing {@code need} (free or not). */
    boolean offers(Map<String, Double> need) {
        if (need == null || need.isEmpty()) {
            return true;
        }
        if (resources == null) {
            return false;
        }
        for (Map.Entry<String, Double> e : need.entrySet()) {
            if (e.getValue() != null && resources.getOrDefault(e.getKey(), 0.0) + 1e-9 < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    void acquire(Map<String, Double> need) {
        if (need == null || need.isEmpty()) {
            return;
        }
        if (resourcesUsed == null) {
            resourcesUsed = new HashMap<>();
        }
        for (Map.Entry<String, Double> e : need.entrySet()) {
            if (e.getValue() != null) {
                resourcesUsed.merge(e.getKey(), e.getValue(), Double::sum);
            }
        }
    }

    void release(Map<String, Double> need) {
        if (need == null || need.isEmpty() || resourcesUsed == null) {
            return;
        }
        for (Map.Entry<String, Double> e : need.entrySet()) {
            if (e.getValue() != null) {
                resourcesUsed.computeIfPresent(e.getKey(), (k, v) -> v - e.getValue() <= 1e-9 ? null : v - e.getValue());
            }
        }
    }

    boolean matches(String restriction) {
        return restriction.equals(address) || restriction.equals(host) || restriction.equals(name);
    }

    @Override
    public String toString() {
        return address;
    }
}
