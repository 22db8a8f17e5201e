package dist.scheduler;

import java.util.AbstractSet;
import java.util.Arrays;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A set of tasks that iterates in insertion order, as {@code LinkedHashSet} does, at about a third
 * of its memory: the tasks sit in one array in the order they came, and an open-addressing table of
 * int positions finds them. A set entry costs 8 to 16 bytes instead of a 40-byte linked node, which
 * matters for the sets every waiting task is in (its input's dependents, its client's wants).
 * Iteration order never depends on hashes, so the state machine stays deterministic. Up to
 * {@link #SMALL} slots there is no table: a scan of one cache line finds a member sooner than a
 * probe of a second array would (most sets are that small: a worker's tasks, a task's dependents).
 */
final class TaskSet extends AbstractSet<TaskState> {
    private static final int EMPTY = 0;
    private static final int DELETED = -1;
    /** Member arrays of at most this many slots have no table: they are scanned. */
    static final int SMALL = 16;

    /** Tasks in insertion order; null where one was removed. */
    private TaskState[] items;
    /** Slots of {@link #items} used so far, holes included. */
    private int end;
    private int size;
    /**
     * Open addressing over {@link #items}: position + 1, or {@link #EMPTY} / {@link #DELETED}; null
     * exactly while {@code items} has at most {@link #SMALL} slots.
     */
    private int[] table;
    /** Table slots not EMPTY (live and deleted): kept under half the table. */
    private int occupied;
    private int modCount;
    /** Times the table was rebuilt: what a set with steady churn must keep rare. */
    private int rebuilds;

    /** Shared by several owners (see {@link #sole}): read-only, every change throws. */
    private boolean frozen;

    TaskSet() {
        items = new TaskState[2];
    }

    /**
     * The read-only set {@code {ts}}: every input of {@code ts} with no other dependent shares it
     * (the leaves of a sum), so it is made once and stays in the cache while they finish.
     */
    static TaskSet sole(TaskState ts) {
        TaskSet s = new TaskSet();
        s.add(ts);
        s.frozen = true;
        return s;
    }

    /** Whether this set is shared and read-only (see {@link #sole}): copy it to change it. */
    boolean frozen() {
        return frozen;
    }

    /** A changeable copy, in the same order. */
    TaskSet copy() {
        TaskSet c = new TaskSet();
        for (int i = 0; i < end; i++) {
            if (items[i] != null) {
                c.add(items[i]);
            }
        }
        return c;
    }

    private void changing() {
        if (frozen) {
            throw new UnsupportedOperationException("a shared task set is read-only: copy it to change it");
        }
    }

    int rebuilds() {
        return rebuilds;
    }

    /** Slots of the member array, holes included: what the set holds on to. */
    int capacity() {
        return items.length;
    }

    /**
     * Slots of the member array in use, holes included: with {@link #at} a loop over the members that
     * allocates no iterator ({@code for (i < end()) if (at(i) != null)}); the set must not change meanwhile.
     */
    int end() {
        return end;
    }

    /** The member at slot {@code i} (below {@link #end()}), or null for a hole. */
    TaskState at(int i) {
        return items[i];
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean contains(Object o) {
        return o instanceof TaskState ts && indexOf(ts) >= 0;
    }

    @Override
    public boolean add(TaskState ts) {
        changing();
        if (ts == null) {
            throw new NullPointerException("a TaskSet holds no null");
        }
        if (indexOf(ts) >= 0) {
            return false;
        }
        append(ts);
        return true;
    }

    /**
     * Adds {@code ts}, which the caller knows is not a member (a worker's held keys mirror each key's
     * holders, checked there first): {@link #add} without the search.
     */
    void addAbsent(TaskState ts) {
        changing();
        if (ts == null) {
            throw new NullPointerException("a TaskSet holds no null");
        }
        append(ts);
    }

    private void append(TaskState ts) {
        if (end == items.length) {
            if (size < end / 4) {
                compact(Math.max(size * 2, 2)); // mostly holes: a set that shrank gives memory back
            } else if (size < end / 2) {
                compact(items.length); // half holes: close them instead of growing
            } else {
                compact(items.length * 2);
            }
        }
        if (table != null && (occupied + 1) * 2 > table.length) {
            // many deleted slots: sweep them at this size; else grow. Either way at least a quarter of the
            // table is free afterwards, so a set with steady churn does not rebuild every few adds
            boolean sweep = occupied - size >= table.length / 4 && table.length >= 16;
            rehash(sweep ? table.length : table.length * 2);
        }
        items[end] = ts;
        ts.setPos = end;
        if (table != null) {
            insert(ts, end);
        }
        end++;
        size++;
        modCount++;
    }

    @Override
    public boolean remove(Object o) {
        changing();
        if (!(o instanceof TaskState ts)) {
            return false;
        }
        int at = ts.setPos;
        if (at < end && items[at] == ts) {
            // found where it went in: no probe. Its table entry stays, pointing at a hole no search
            // matches, and counts as used, like a DELETED one, until the next rebuild sweeps it
            items[at] = null;
        } else if (table == null) {
            int i = indexOf(ts);
            if (i < 0) {
                return false;
            }
            items[i] = null;
        } else {
            int slot = slotOf(ts);
            if (slot < 0) {
                return false;
            }
            items[table[slot] - 1] = null;
            table[slot] = DELETED;
        }
        size--;
        modCount++;
        if (size == 0) {
            clear();
        }
        return true;
    }

    @Override
    public void clear() {
        changing();
        if (items.length > SMALL) { // a large set gives its memory back
            items = new TaskState[2];
            table = null;
        } else {
            Arrays.fill(items, 0, end, null);
        }
        end = 0;
        size = 0;
        occupied = 0;
        modCount++;
    }

    @Override
    public Iterator<TaskState> iterator() {
        return new Iterator<>() {
            private int next = skip(0);
            private int last = -1;
            private int expected = modCount;

            private int skip(int i) {
                while (i < end && items[i] == null) {
                    i++;
                }
                return i;
            }

            @Override
            public boolean hasNext() {
                return next < end;
            }

            @Override
            public TaskState next() {
                if (expected != modCount) {
                    throw new ConcurrentModificationException();
                }
                if (next >= end) {
                    throw new NoSuchElementException();
                }
                last = next;
                next = skip(next + 1);
                return items[last];
            }

            @Override
            public void remove() {
                changing();
                if (last < 0) {
                    throw new IllegalStateException();
                }
                if (expected != modCount) {
                    throw new ConcurrentModificationException();
                }
                TaskState ts = items[last];
                if (table != null) {
                    table[slotOf(ts)] = DELETED;
                }
                items[last] = null;
                size--;
                modCount++;
                expected = modCount;
                last = -1; // positions stay put: holes are closed only by add
            }
        };
    }

    /** The tasks from the last added to the first; changing the set while iterating throws. */
    Iterator<TaskState> descendingIterator() {
        return new Iterator<>() {
            private int next = skipDown(end - 1);
            private final int expected = modCount;

            private int skipDown(int i) {
                while (i >= 0 && items[i] == null) {
                    i--;
                }
                return i;
            }

            @Override
            public boolean hasNext() {
                return next >= 0;
            }

            @Override
            public TaskState next() {
                if (expected != modCount) {
                    throw new ConcurrentModificationException();
                }
                if (next < 0) {
                    throw new NoSuchElementException();
                }
                TaskState ts = items[next];
                next = skipDown(next - 1);
                return ts;
            }
        };
    }

    /**
     * The member whose key is {@code key} ({@code hash} being {@link TaskState#hashOf} of it), or null:
     * a worker's few tasks sit in a line or two the cache still holds, where the table of every task
     * would cost misses.
     */
    TaskState byKey(String key, int hash) {
        if (table == null) {
            TaskState[] a = items;
            for (int i = 0, n = end; i < n; i++) {
                TaskState t = a[i];
                if (t != null && t.hash == hash && t.key.equals(key)) {
                    return t;
                }
            }
            return null;
        }
        int mask = table.length - 1;
        for (int i = hash & mask; ; i = (i + 1) & mask) {
            int v = table[i];
            if (v == EMPTY) {
                return null;
            }
            if (v > 0) {
                TaskState t = items[v - 1]; // null: an entry left by a removal at the task's own position
                if (t != null && t.hash == hash && t.key.equals(key)) {
                    return t;
                }
            }
        }
    }

    private static int hash(TaskState ts) {
        return ts.hash; // fixed at creation: an identity hash would cost a call into the VM on first use
    }

    /** The position of {@code ts} in {@link #items}, or -1. */
    private int indexOf(TaskState ts) {
        int at = ts.setPos;
        if (at < end && items[at] == ts) {
            return at;
        }
        if (table == null) {
            TaskState[] a = items;
            for (int i = 0, n = end; i < n; i++) {
                if (a[i] == ts) {
                    return i;
                }
            }
            return -1;
        }
        int slot = slotOf(ts);
        return slot < 0 ? -1 : table[slot] - 1;
    }

    /** The table slot holding {@code ts}, or -1 (a set with a table). */
    private int slotOf(TaskState ts) {
        int mask = table.length - 1;
        for (int i = hash(ts) & mask; ; i = (i + 1) & mask) {
            int v = table[i];
            if (v == EMPTY) {
                return -1;
            }
            if (v > 0 && items[v - 1] == ts) {
                return i;
            }
        }
    }

    private void insert(TaskState ts, int position) {
        int mask = table.length - 1;
        int i = hash(ts) & mask;
        while (table[i] > 0) {
            i = (i + 1) & mask;
        }
        if (table[i] == EMPTY) {
            occupied++;
        }
        table[i] = position + 1;
    }

    /** Closes the holes, keeping the order, into an array of {@code capacity} slots; rebuilds the table. */
    private void compact(int capacity) {
        if (capacity == items.length) { // in place: a set with steady churn (a worker's processing) allocates nothing
            int j = 0;
            for (int i = 0; i < end; i++) {
                if (items[i] != null) {
                    items[j++] = items[i];
                }
            }
            Arrays.fill(items, j, end, null);
            end = j;
            if (table != null) {
                rehash(table.length);
            }
            return;
        }
        boolean shrink = capacity < items.length;
        TaskState[] n = new TaskState[Math.max(2, capacity)];
        int j = 0;
        for (int i = 0; i < end; i++) {
            if (items[i] != null) {
                n[j++] = items[i];
            }
        }
        items = n;
        end = j;
        if (n.length <= SMALL) {
            table = null;
            occupied = 0;
        } else {
            // a shrinking set's table is sized from what is left
            rehash(shrink || table == null ? 4 : table.length);
        }
    }

    private void rehash(int capacity) {
        int cap = Math.max(capacity, Integer.highestOneBit(Math.max(1, size)) * 4);
        if (table != null && cap == table.length) {
            Arrays.fill(table, EMPTY);
        } else {
            table = new int[cap];
        }
        occupied = 0;
        rebuilds++;
        for (int i = 0; i < end; i++) {
            if (items[i] != null) {
                insert(items[i], i);
            }
        }
    }

    @Override
    public Object[] toArray() {
        Object[] out = new Object[size];
        int j = 0;
        for (int i = 0; i < end; i++) {
            if (items[i] != null) {
                out[j++] = items[i];
            }
        }
        return out;
    }

    @Override
    public <T> T[] toArray(T[] a) {
        T[] out = a.length >= size ? a : Arrays.copyOf(a, size);
        int j = 0;
        for (int i = 0; i < end; i++) {
            if (items[i] != null) {
                @SuppressWarnings("unchecked")
                T t = (T) items[i];
                out[j++] = t;
            }
        }
        if (out.length > size) {
            out[size] = null;
        }
        return out;
    }
}
