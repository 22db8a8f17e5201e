package dist.scheduler;

import java.util.Arrays;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The scheduler's tasks by key: an open-addressing table of the tasks themselves, each found by its
 * own {@link TaskState#key}. A {@code HashMap<String, TaskState>} spends a 32-byte node per task on
 * top of its table; here a task costs a slot and its key's hash, 8 bytes, over 1.3 to 2.7 slots per
 * task.
 *
 * <p>Linear probing with backward-shift deletion: no tombstones, so lookups stay short however many
 * tasks come and go. Iteration goes in slot order, which depends only on the keys and the sequence
 * of operations, so the state machine stays deterministic.
 */
final class TaskTable implements Iterable<TaskState> {
    private static final int MIN_CAPACITY = 16;

    private TaskState[] slots = new TaskState[MIN_CAPACITY];
    /** The spread hash of each slot's key: a probe compares ints in one array and reads a task only on a match. */
    private int[] hashes = new int[MIN_CAPACITY];
    private int size;
    private int modCount;

    int size() {
        return size;
    }

    /** The task with this key, or null. */
    TaskState get(String key) {
        int i = find(key, hash(key));
        return i < 0 ? null : slots[i];
    }

    /** The slot of {@code key}, or -1 - the empty slot where its probe run ended. */
    private int find(String key, int h) {
        TaskState[] s = slots;
        int[] hs = hashes;
        int mask = s.length - 1;
        for (int i = h & mask; ; i = (i + 1) & mask) {
            TaskState ts = s[i];
            if (ts == null) {
                return -1 - i;
            }
            if (hs[i] == h && ts.key.equals(key)) {
                return i;
            }
        }
    }

    /** Adds {@code ts} unless a task of its key is there: then that one is returned and nothing changes. */
    TaskState putIfAbsent(TaskState ts) {
        int h = ts.hash;
        int i = find(ts.key, h);
        if (i >= 0) {
            return slots[i];
        }
        i = -1 - i;
        slots[i] = ts;
        hashes[i] = h;
        size++;
        modCount++;
        if (size * 4L > slots.length * 3L) {
            resize(slots.length * 2);
        }
        return null;
    }

    /** Removes the task of this key; the task removed, or null. */
    TaskState remove(String key) {
        int i = find(key, hash(key));
        return i < 0 ? null : removeAt(i);
    }

    /**
     * Removes {@code ts} itself: probes by its kept hash and by identity, so neither its key nor the
     * other tasks on the way are read; false when the table does not hold it.
     */
    boolean remove(TaskState ts) {
        TaskState[] s = slots;
        int mask = s.length - 1;
        for (int i = ts.hash & mask; ; i = (i + 1) & mask) {
            TaskState t = s[i];
            if (t == null) {
                return false;
            }
            if (t == ts) {
                removeAt(i);
                return true;
            }
        }
    }

    private TaskState removeAt(int i) {
        TaskState[] s = slots;
        int[] hs = hashes;
        int mask = s.length - 1;
        TaskState found = s[i];
        // backward shift: pull later entries of the probe run into the hole when their home allows
        int hole = i;
        for (int j = (hole + 1) & mask; s[j] != null; j = (j + 1) & mask) {
            int home = hs[j] & mask;
            // s[j] stays unless its home lies cyclically outside (hole, j]
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                s[hole] = s[j];
                hs[hole] = hs[j];
                hole = j;
            }
        }
        s[hole] = null;
        hs[hole] = 0;
        size--;
        modCount++;
        return found;
    }

    /** Forgets every task and gives the memory of a large table back. */
    void clear() {
        if (slots.length > MIN_CAPACITY) {
            slots = new TaskState[MIN_CAPACITY];
            hashes = new int[MIN_CAPACITY];
        } else {
            Arrays.fill(slots, null);
            Arrays.fill(hashes, 0);
        }
        size = 0;
        modCount++;
    }

    /** The tasks, in table order; changing the table while iterating throws, as a HashMap would. */
    @Override
    public Iterator<TaskState> iterator() {
        return new Iterator<>() {
            private final TaskState[] s = slots;
            private final int expected = modCount;
            private int next = skip(0);

            private int skip(int i) {
                while (i < s.length && s[i] == null) {
                    i++;
                }
                return i;
            }

            @Override
            public boolean hasNext() {
                return next < s.length;
            }

            @Override
            public TaskState next() {
                if (expected != modCount) {
                    throw new ConcurrentModificationException();
                }
                if (next >= s.length) {
                    throw new NoSuchElementException();
                }
                TaskState ts = s[next];
                next = skip(next + 1);
                return ts;
            }
        };
    }

    private void resize(int capacity) {
        TaskState[] old = slots;
        int[] oldHashes = hashes;
        TaskState[] s = new TaskState[capacity];
        int[] hs = new int[capacity];
        int mask = capacity - 1;
        for (int k = 0; k < old.length; k++) {
            if (old[k] != null) {
                int i = oldHashes[k] & mask;
                while (s[i] != null) {
                    i = (i + 1) & mask;
                }
                s[i] = old[k];
                hs[i] = oldHashes[k];
            }
        }
        slots = s;
        hashes = hs;
    }

    /** Keys like "x-1", "x-2" hash to neighbours: mixed, they do not form the long runs linear probing dreads. */
    private static int hash(String key) {
        return TaskState.hashOf(key); // the same as TaskState#hash, which remove(TaskState) probes with
    }
}
