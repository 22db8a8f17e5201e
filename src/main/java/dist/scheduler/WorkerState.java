package dist.scheduler;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/** A worker as the scheduler tracks it. */
final class WorkerState {
    final String address;
    final String host;
    String name;
    int nthreads;
    long memoryLimit;
    long pid;
    long memoryBytes;
    long lastSeen;
    /** Tasks sent to this worker and not reported back (queued or executing there). */
    final TaskSet processing = new TaskSet();
    /** Processing tasks that seceded: they run, but hold no thread slot. */
    final LinkedHashSet<TaskState> seceded = new LinkedHashSet<>();
    /** Keys whose result this worker holds; changed only through {@link #hold}, {@link #unhold}, {@link #clearHeld}. */
    final TaskSet hasWhat = new TaskSet();
    /** Sum of the known sizes of {@link #hasWhat}, kept as it changes so a view never walks a million keys. */
    long heldBytes;
    /** Sum of the expected run times of {@link #processing}, in nanoseconds. */
    long occupancy;
    /** Position in the scheduler's worker list (for round-robin ties). */
    int index;
    /** Abstract resources this worker offers (e.g. GPU=2); null when none. */
    Map<String, Double> resources;
    /** Resources held by tasks processing here; null when none. */
    HashMap<String, Double> resourcesUsed;
    /** Tasks of other workers that the scheduler asked to give to this one (steal requests in flight). */
    final LinkedHashSet<TaskState> stealingIn = new LinkedHashSet<>();
    /** Tasks processing here with a steal request out. */
    int stealingOut;

    WorkerState(String address) {
        this.address = address;
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

    void hold(TaskState ts) {
        if (hasWhat.add(ts)) {
            heldBytes += Math.max(0, ts.nbytes);
        }
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

    /** Tasks here that hold a thread slot or wait for one. */
    int busy() {
        return processing.size() - seceded.size();
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
