package dist.scheduler;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Chooses tasks to move from saturated workers (more tasks sent than threads) to less loaded ones.
 * A move is worth it when the bytes the new worker must fetch take less time than the task is
 * expected to run (learned per key prefix), and when it narrows the gap between the two workers'
 * occupancy per thread. Restricted tasks stay where they are; tasks needing resources move only
 * to a worker with those resources free. Pure: it reads the scheduler's bookkeeping and returns moves.
 */
final class WorkStealing {
    /** Assumed network bandwidth, as dask assumes 100 MB/s: 10 ns per byte. */
    static final long NANOS_PER_BYTE = 10;

    /** Move {@code task} from {@code from} to {@code to}. */
    record Move(TaskState task, WorkerState from, WorkerState to) {}

    private WorkStealing() {
    }

    /**
     * Up to {@code limit} moves. Occupancy is moved speculatively in local copies only; the caller
     * applies the moves it sends.
     */
    static List<Move> plan(List<WorkerState> workers, int limit) {
        ArrayList<Move> moves = new ArrayList<>();
        if (workers.size() < 2 || limit <= 0) {
            return moves;
        }
        HashMap<WorkerState, long[]> occ = new HashMap<>(); // [occupancy, tasks it will have]
        for (WorkerState w : workers) {
            occ.put(w, new long[]{w.occupancy, w.processing.size() - w.stealingOut + w.stealingIn.size()});
        }
        Map<WorkerState, Iterator<TaskState>> cursors = new HashMap<>();
        ArrayList<WorkerState> victims = new ArrayList<>();
        for (WorkerState w : workers) {
            if (occ.get(w)[1] > w.nthreads) {
                victims.add(w);
                cursors.put(w, w.processing.descendingIterator()); // latest first: least likely to have started
            }
        }
        while (moves.size() < limit && !victims.isEmpty()) {
            WorkerState v = null;
            for (WorkerState w : victims) {
                if (v == null || load(occ, w) > load(occ, v)) {
                    v = w;
                }
            }
            WorkerState t = null;
            for (WorkerState w : workers) {
                if (w != v && (t == null || load(occ, w) < load(occ, t))) {
                    t = w;
                }
            }
            if (t == null || load(occ, t) >= load(occ, v)) {
                break;
            }
            TaskState pick = null;
            Iterator<TaskState> it = cursors.get(v);
            while (it.hasNext()) {
                TaskState ts = it.next();
                if (ts.stealTo == null && worthMoving(ts, v, t, occ)) {
                    pick = ts;
                    break;
                }
            }
            if (pick == null) {
                victims.remove(v);
                continue;
            }
            long[] ov = occ.get(v), ot = occ.get(t);
            ov[0] -= pick.expectedNanos;
            ov[1]--;
            ot[0] += pick.expectedNanos;
            ot[1]++;
            moves.add(new Move(pick, v, t));
            if (ov[1] <= v.nthreads) {
                victims.remove(v);
            }
        }
        return moves;
    }

    private static double load(Map<WorkerState, long[]> occ, WorkerState w) {
        return (double) occ.get(w)[0] / Math.max(1, w.nthreads);
    }

    private static boolean worthMoving(TaskState ts, WorkerState from, WorkerState to, Map<WorkerState, long[]> occ) {
        if (ts.restricted() || !to.hasFree(ts.resources())) {
            return false;
        }
        long e = ts.expectedNanos;
        long[] ov = occ.get(from), ot = occ.get(to);
        // only a move that leaves the thief less busy than the victim was narrows the gap
        if ((double) (ot[0] + e) / Math.max(1, to.nthreads) >= (double) ov[0] / Math.max(1, from.nthreads)) {
            return false;
        }
        long bytes = 0;
        for (TaskState d : ts.deps) {
            if (!d.heldBy(to)) {
                bytes += Math.max(0, d.nbytes);
            }
        }
        return bytes * NANOS_PER_BYTE <= e;
    }
}
