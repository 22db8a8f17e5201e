package dist.scheduler;

import java.util.ArrayList;
import java.util.List;

/**
 * The last state changes of every task, in a fixed ring of parallel arrays: recording one costs a
 * few array stores and no allocation, so it stays on for every task. Written and read only on the
 * state's thread.
 */
final class TransitionLog {
    private final String[] keys;
    private final byte[] from;
    private final byte[] to;
    private final long[] nanos;
    private final String[] worker;
    private long next;
    /** Capacity minus one: the capacity is a power of two, so a slot is a mask, not a division. */
    private final int mask;

    /** Holds at least {@code capacity} entries (rounded up to a power of two). */
    TransitionLog(int capacity) {
        capacity = Integer.highestOneBit(Math.max(2, capacity - 1)) << 1;
        mask = capacity - 1;
        keys = new String[capacity];
        from = new byte[capacity];
        to = new byte[capacity];
        nanos = new long[capacity];
        worker = new String[capacity];
    }

    void add(String key, byte f, byte t, long at, String where) {
        int i = (int) (next++ & mask);
        keys[i] = key;
        from[i] = f;
        to[i] = t;
        nanos[i] = at;
        worker[i] = where;
    }

    /** Names the worker of the latest entry (known only after the state changed, e.g. where a task was sent). */
    void amendWorker(String where) {
        if (next > 0) {
            worker[(int) ((next - 1) & mask)] = where;
        }
    }

    /** Every entry still held for {@code key}, oldest first. */
    List<StoryEntry> story(String key) {
        List<StoryEntry> l = new ArrayList<>();
        long first = Math.max(0, next - keys.length);
        for (long s = first; s < next; s++) {
            int i = (int) (s & mask);
            if (key.equals(keys[i])) {
                l.add(new StoryEntry(key, "scheduler", TaskState.name(from[i]), TaskState.name(to[i]), nanos[i],
                        worker[i]));
            }
        }
        return l;
    }
}
