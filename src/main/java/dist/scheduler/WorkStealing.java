package dist.scheduler;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Chooses tasks to move from saturated workers (more tasks sent than threads) to unsaturated ones.
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

    /** A worker's planned state within one plan: occupancy and task count after the moves so far. */
    private static final class Slot {
        final WorkerState w;
        long occupancy;
        long tasks;
        Iterator<TaskState> cursor;

        Slot(WorkerState w) {
            this.w = w;
            this.occupancy = w.occupancy;
            this.tasks = w.processing.size() - w.stealingOut + w.stealingIn.size();
        }

        double load() {
            return (double) occupancy / Math.max(1, w.nthreads);
        }
    }

    /**
     * Up to {@code limit} moves, from saturated workers (more tasks than threads) to the others, the
     * most loaded giving to the least loaded while that narrows their gap. One pass over the workers,
     * then O(log workers) per move; a cluster where every worker is saturated costs that one pass.
     * Occupancy is moved in local copies only; the caller applies the moves it sends.
     */
    static List<Move> plan(List<WorkerState> workers, int limit) {
        ArrayList<Move> moves = new ArrayList<>();
        if (workers.size() < 2 || limit <= 0) {
            return moves;
        }
        PriorityQueue<Slot> victims = new PriorityQueue<>((a, b) -> Double.compare(b.load(), a.load()));
        PriorityQueue<Slot> thieves = new PriorityQueue<>((a, b) -> Double.compare(a.load(), b.load()));
        ArrayList<Slot> saturated = new ArrayList<>();
        for (WorkerState w : workers) {
            long tasks = w.processing.size() - w.stealingOut + w.stealingIn.size();
            if (tasks > w.nthreads) {
                saturated.add(new Slot(w));
            } else if (w.running()) { // a paused or closing worker takes nothing new
                thieves.add(new Slot(w));
            }
        }
        if (thieves.isEmpty() || saturated.isEmpty()) {
            return moves;
        }
        victims.addAll(saturated);
        while (moves.size() < limit && !victims.isEmpty() && !thieves.isEmpty()) {
            Slot v = victims.poll();
            Slot t = thieves.peek();
            if (t.load() >= v.load()) {
                break;
            }
            if (v.cursor == null) {
                v.cursor = v.w.processing.descendingIterator(); // latest first: least likely to have started
            }
            TaskState pick = null;
            while (v.cursor.hasNext()) {
                TaskState ts = v.cursor.next();
                if (ts.stealTo == null && worthMoving(ts, v, t)) {
                    pick = ts;
                    break;
                }
            }
            if (pick == null) {
                continue; // nothing of v's is worth moving: it leaves the plan
            }
            thieves.poll();
            v.occupancy -= pick.expectedNanos;
            v.tasks--;
            t.occupancy += pick.expectedNanos;
            t.tasks++;
            moves.add(new Move(pick, v.w, t.w));
            if (v.tasks > v.w.nthreads) {
                victims.add(v);
            }
            thieves.add(t); // a thief takes more while that narrows the gap (worthMoving)
        }
        return moves;
    }

    private static boolean worthMoving(TaskState ts, Slot from, Slot to) {
        if (ts.restricted() || !to.w.hasFree(ts.resources())) {
            return false;
        }
        long e = ts.expectedNanos;
        // only a move that leaves the thief less busy than the victim was narrows the gap
        if ((double) (to.occupancy + e) / Math.max(1, to.w.nthreads) >= from.load()) {
            return false;
        }
        long bytes = 0;
        for (TaskState d : ts.deps) {
            if (!d.heldBy(to.w)) {
                bytes += Math.max(0, d.nbytes);
            }
        }
        return bytes * NANOS_PER_BYTE <= e;
    }
}
