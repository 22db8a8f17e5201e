package dist.scheduler;

import java.util.Arrays;

/**
 * Workers in a binary min-heap by {@link Placement#BY_LOAD}, each knowing its own position, so the
 * least loaded is read in O(1) and a worker whose filing key changed is moved in O(log n) without
 * allocating. The keys are copied into arrays beside the workers, so sifting compares array slots
 * and does not visit the workers it passes. A worker sits in two heaps at once (every worker; those
 * of its spare group), hence the two position fields it may use.
 */
final class WorkerHeap {
    private WorkerState[] heap = new WorkerState[8];
    private double[] loads = new double[8];
    private long[] seqs = new long[8];
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
            loads = Arrays.copyOf(loads, size * 2);
            seqs = Arrays.copyOf(seqs, size * 2);
        }
        siftUp(size++, w, w.loadKey, w.seqKey);
    }

    void remove(WorkerState w) {
        int i = pos(w);
        if (i < 0 || i >= size || heap[i] != w) {
            return;
        }
        setPos(w, -1);
        int last = --size;
        WorkerState moved = heap[last];
        double load = loads[last];
        long seq = seqs[last];
        heap[last] = null;
        if (i < last) {
            place(i, moved, load, seq);
        }
    }

    /** {@code w}'s filing key changed: restore the heap order around it. */
    void changed(WorkerState w) {
        place(pos(w), w, w.loadKey, w.seqKey);
    }

    /** Puts {@code w} with its key into the hole at {@code i} and sifts it up or down from there. */
    private void place(int i, WorkerState w, double load, long seq) {
        if (i > 0 && less(load, seq, (i - 1) >>> 1)) {
            siftUp(i, w, load, seq);
        } else {
            siftDown(i, w, load, seq);
        }
    }

    private boolean less(double load, long seq, int j) {
        return load < loads[j] || (load == loads[j] && seq < seqs[j]);
    }

    private void siftUp(int i, WorkerState w, double load, long seq) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!less(load, seq, parent)) {
                break;
            }
            set(i, heap[parent], loads[parent], seqs[parent]);
            i = parent;
        }
        set(i, w, load, seq);
    }

    private void siftDown(int i, WorkerState w, double load, long seq) {
        int half = size >>> 1;
        while (i < half) {
            int c = 2 * i + 1;
            if (c + 1 < size && (loads[c + 1] < loads[c] || (loads[c + 1] == loads[c] && seqs[c + 1] < seqs[c]))) {
                c++;
            }
            if (!(loads[c] < load || (loads[c] == load && seqs[c] < seq))) {
                break;
            }
            set(i, heap[c], loads[c], seqs[c]);
            i = c;
        }
        set(i, w, load, seq);
    }

    private void set(int i, WorkerState w, double load, long seq) {
        heap[i] = w;
        loads[i] = load;
        seqs[i] = seq;
        setPos(w, i);
    }

    /** Whether every worker knows its position, carries its filed key here, and sorts no earlier than its parent. */
    boolean ordered() {
        for (int i = 0; i < size; i++) {
            WorkerState w = heap[i];
            if (pos(w) != i || loads[i] != w.loadKey || seqs[i] != w.seqKey
                    || (i > 0 && Placement.BY_LOAD.compare(heap[(i - 1) >>> 1], w) > 0)) {
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
