package dist.scheduler;

import java.util.Arrays;

/**
 * Workers in a binary min-heap by {@link Placement#BY_LOAD}, each knowing its own position, so the
 * least loaded is read in O(1) and a worker whose filing key changed is moved in O(log n) without
 * allocating. A worker sits in two heaps at once (every worker; those of its spare group), hence
 * the two position fields it may use.
 */
final class WorkerHeap {
    private WorkerState[] heap = new WorkerState[8];
    private int size;
    /** Which position field of WorkerState this heap uses. */
    private final boolean group;

    WorkerHeap(boolean group) {
        this.group = group;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** The least loaded worker (ties: filed earliest), or null. */
    WorkerState first() {
        return size == 0 ? null : heap[0];
    }

    boolean contains(WorkerState w) {
        int i = pos(w);
        return i >= 0 && i < size && heap[i] == w;
    }

    void add(WorkerState w) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        heap[size] = w;
        setPos(w, size);
        siftUp(size++);
    }

    void remove(WorkerState w) {
        int i = pos(w);
        if (i < 0 || i >= size || heap[i] != w) {
            return;
        }
        setPos(w, -1);
        WorkerState last = heap[--size];
        heap[size] = null;
        if (i < size) {
            heap[i] = last;
            setPos(last, i);
            moved(i);
        }
    }

    /** {@code w}'s key changed: restore the heap order around it. */
    void changed(WorkerState w) {
        moved(pos(w));
    }

    private void moved(int i) {
        if (siftUp(i) == i) {
            siftDown(i);
        }
    }

    private int siftUp(int i) {
        WorkerState w = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            WorkerState p = heap[parent];
            if (Placement.BY_LOAD.compare(w, p) >= 0) {
                break;
            }
            heap[i] = p;
            setPos(p, i);
            i = parent;
        }
        heap[i] = w;
        setPos(w, i);
        return i;
    }

    private void siftDown(int i) {
        WorkerState w = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int c = 2 * i + 1;
            WorkerState child = heap[c];
            if (c + 1 < size && Placement.BY_LOAD.compare(heap[c + 1], child) < 0) {
                child = heap[++c];
            }
            if (Placement.BY_LOAD.compare(w, child) <= 0) {
                break;
            }
            heap[i] = child;
            setPos(child, i);
            i = c;
        }
        heap[i] = w;
        setPos(w, i);
    }

    /** Whether every worker knows its position and sorts no earlier than its parent (for checks). */
    boolean ordered() {
        for (int i = 0; i < size; i++) {
            if (pos(heap[i]) != i || (i > 0 && Placement.BY_LOAD.compare(heap[(i - 1) >>> 1], heap[i]) > 0)) {
                return false;
            }
        }
        return true;
    }

    /** {@link #ordered()}, and every worker here is filed under {@code spare}. */
    boolean ordered(int spare) {
        for (int i = 0; i < size; i++) {
            if (heap[i].spareKey != spare) {
                return false;
            }
        }
        return ordered();
    }

    private int pos(WorkerState w) {
        return group ? w.groupPos : w.loadPos;
    }

    private void setPos(WorkerState w, int i) {
        if (group) {
            w.groupPos = i;
        } else {
            w.loadPos = i;
        }
    }
}
