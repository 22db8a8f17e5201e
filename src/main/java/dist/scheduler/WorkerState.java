package dist.scheduler;

import java.util.LinkedHashSet;

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
    final LinkedHashSet<TaskState> processing = new LinkedHashSet<>();
    /** Processing tasks that seceded: they run, but hold no thread slot. */
    final LinkedHashSet<TaskState> seceded = new LinkedHashSet<>();
    /** Keys whose result this worker holds. */
    final LinkedHashSet<TaskState> hasWhat = new LinkedHashSet<>();
    /** Sum of the expected run times of {@link #processing}, in nanoseconds. */
    long occupancy;
    /** Position in the scheduler's worker list (for round-robin ties). */
    int index;

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

    /** Tasks here that hold a thread slot or wait for one. */
    int busy() {
        return processing.size() - seceded.size();
    }

    /** Occupancy per thread, compared across workers of different sizes. */
    double load() {
        return (double) occupancy / Math.max(1, nthreads);
    }

    boolean matches(String restriction) {
        return restriction.equals(address) || restriction.equals(host) || restriction.equals(name);
    }

    @Override
    public String toString() {
        return address;
    }
}
