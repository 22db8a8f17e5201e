package dist.scheduler;

import java.util.Arrays;
import java.util.BitSet;

/**
 * Workers grouped by their spare key (tasks held beyond one per thread; negative while threads are
 * free), each group a {@link WorkerHeap} by load. Groups sit in an array indexed by spare key, with a
 * bit per non-empty group, so moving a worker between groups needs no map look-up and the groups
 * below an allowance are found by skipping whole words of empty ones.
 */
final class SpareGroups {
    /** Spare key of {@code groups[0]}; lowered when a worker with more threads arrives. */
    private int low = -8;
    private WorkerHeap[] groups = new WorkerHeap[16];
    private final BitSet nonEmpty = new BitSet();
    /** Emptied far groups kept for reuse: a busy worker moving up its keys took a new heap each move. */
    private final WorkerHeap[] spare = new WorkerHeap[8];
    private int spares;

    void add(WorkerState w) {
        int i = w.spareKey - low;
        if (i < 0) {
            grow(w.spareKey);
            i = w.spareKey - low;
        } else if (i >= groups.length) {
            groups = Arrays.copyOf(groups, Math.max(groups.length * 2, i + 1));
        }
        WorkerHeap g = groups[i];
        if (g == null) {
            g = groups[i] = spares > 0 ? spare[--spares] : new WorkerHeap(true);
        }
        g.add(w);
        nonEmpty.set(i);
    }

    void remove(WorkerState w) {
        int i = w.spareKey - low;
        WorkerHeap g = i >= 0 && i < groups.length ? groups[i] : null;
        if (g == null) {
            return;
        }
        g.remove(w);
        if (g.isEmpty()) {
            nonEmpty.clear(i);
            if (i >= 64) {
                groups[i] = null; // far groups come and go with one busy worker: do not keep them all
                if (spares < spare.length) {
                    spare[spares++] = g; // empty: ready for the next far group
                }
            }
        }
    }

    /** {@code w}'s load changed within its group. */
    void changed(WorkerState w) {
        groups[w.spareKey - low].changed(w);
    }

    /** The least loaded worker (ties: filed earliest) of the groups with spare key below {@code limit}, or null. */
    WorkerState firstBelow(int limit) {
        WorkerState best = null;
        int end = limit - low;
        for (int i = nonEmpty.nextSetBit(0); i >= 0 && i < end; i = nonEmpty.nextSetBit(i + 1)) {
            WorkerState w = groups[i].first();
            if (best == null || Placement.BY_LOAD.compare(w, best) < 0) {
                best = w;
            }
        }
        return best;
    }

    private void grow(int spare) {
        int newLow = Math.min(spare, low * 2);
        int shift = low - newLow;
        WorkerHeap[] g = new WorkerHeap[groups.length + shift];
        System.arraycopy(groups, 0, g, shift, groups.length);
        BitSet bits = (BitSet) nonEmpty.clone();
        nonEmpty.clear();
        for (int i = bits.nextSetBit(0); i >= 0; i = bits.nextSetBit(i + 1)) {
            nonEmpty.set(i + shift);
        }
        groups = g;
        low = newLow;
    }

    /** Workers in all groups; throws unless each non-empty group is marked, in heap order, and holds only its key. */
    int checkedSize() {
        int n = 0;
        for (int i = 0; i < groups.length; i++) {
            WorkerHeap g = groups[i];
            boolean filled = g != null && !g.isEmpty();
            if (filled != nonEmpty.get(i) || (filled && !g.ordered(low + i))) {
                throw new IllegalStateException("placement index: spare group " + (low + i) + " is inconsistent");
            }
            n += filled ? g.size() : 0;
        }
        return n;
    }

    boolean contains(WorkerState w) {
        int i = w.spareKey - low;
        return i >= 0 && i < groups.length && groups[i] != null && groups[i].contains(w);
    }
}
