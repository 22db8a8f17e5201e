package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.ShuffleForget;
import dist.protocol.Message.ShufflePeerLost;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dist.scheduler.TaskState.*;

/**
 * The scheduler's half of the peer-to-peer shuffle (dask's shuffle scheduler plugin). A shuffle is
 * a barrier task whose inputs are the input tasks and whose dependents are the output tasks; the
 * extension knows them by their functions' names and never reads their values. It remembers which
 * workers keep each shuffle's shards, and when one of them is lost (it leaves, or an output task
 * cannot read from it) while outputs are still to come, it runs the shuffle again on the others:
 * every input that is done (those still running make fresh shards), the barrier and every output
 * not yet done. After
 * {@code distributed.scheduler.allowed-failures} such restarts the unfinished outputs fail with a
 * P2PShuffleError that says why.
 */
final class P2PShuffleExtension implements SchedulerExtension {
    static final String TRANSFER = "p2pShuffleTransfer";
    static final String BARRIER = "p2pShuffleBarrier";
    static final String UNPACK = "p2pShuffleUnpack";

    /** A shuffle's workers keeping shards, and its restarts so far. */
    private static final class Shuffle {
        final Set<String> workers = new LinkedHashSet<>();
        int restarts;
    }

    /** By barrier key; an entry leaves with its barrier task, so the graph bounds this map. */
    private final Map<String, Shuffle> shuffles = new HashMap<>();
    private SchedulerContext core;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> workerMessages() {
        return Set.of(ShufflePeerLost.class);
    }

    @Override
    public boolean observesTransitions() {
        return true;
    }

    @Override
    public void transition(TaskState task, byte from, byte to) {
        if (to == FORGOTTEN && is(task, BARRIER)) {
            shuffles.remove(task.key);
        }
    }

    /** An input finished on {@code worker}: its shards are kept there. */
    @Override
    public void computed(WorkerState worker, String key, long runNanos, long nbytes, boolean erred) {
        TaskState task = erred ? null : core.task(key);
        if (task != null && is(task, TRANSFER)) {
            TaskState barrier = barrierAfter(task);
            if (barrier != null) {
                shuffles.computeIfAbsent(barrier.key, k -> new Shuffle()).workers.add(worker.address);
            }
        }
    }

    @Override
    public void workerRemoved(WorkerState worker) {
        List<String> hit = new ArrayList<>();
        shuffles.forEach((barrier, s) -> {
            if (s.workers.contains(worker.address)) {
                hit.add(barrier);
            }
        });
        for (String barrier : hit) {
            TaskState b = core.task(barrier);
            if (b != null && !finished(b)) {
                restart(b, "worker " + worker.address + " left", worker.address);
            }
        }
    }

    @Override
    public void onWorker(WorkerState worker, Message message, long requestId) {
        ShufflePeerLost lost = (ShufflePeerLost) message;
        TaskState unpack = core.task(lost.key());
        TaskState barrier = unpack == null ? null : barrierBefore(unpack);
        if (barrier != null) {
            Shuffle s = shuffles.get(barrier.key);
            if (s == null || s.workers.contains(lost.lostWorker())) {
                restart(barrier, worker.address + " could not read shuffle data from " + lost.lostWorker(), null);
            }
        }
        if (requestId != 0) {
            core.reply(worker.address, new Ack(), requestId);
        }
    }

    /** Every output done: the shards are read and nothing needs running again. */
    private static boolean finished(TaskState barrier) {
        for (TaskState out : barrier.dependents == null ? List.<TaskState>of() : barrier.dependents) {
            if (out.state != MEMORY) {
                return false;
            }
        }
        return true;
    }

    private void restart(TaskState barrier, String why, String gone) {
        Shuffle s = shuffles.computeIfAbsent(barrier.key, k -> new Shuffle());
        s.restarts++;
        s.workers.clear();
        List<TaskState> outputs = barrier.dependents == null ? List.of() : new ArrayList<>(barrier.dependents);
        int allowed = core.config().allowedFailures();
        if (s.restarts > allowed) {
            String summary = "P2PShuffleError: shuffle " + barrier.key + " lost data " + s.restarts
                    + " times, more than distributed.scheduler.allowed-failures (" + allowed + "); last: " + why;
            core.log(System.Logger.Level.WARNING, summary);
            for (TaskState out : outputs) {
                if (out.state != MEMORY && out.state != ERRED && out.state != FORGOTTEN) {
                    core.fail(out, summary);
                }
            }
            return;
        }
        core.log(System.Logger.Level.INFO, "shuffle " + barrier.key + " runs again (" + s.restarts + " of at most "
                + allowed + "): " + why);
        // inputs done (held, or released once the barrier had them) run again and what they kept is
        // dropped; inputs still running make fresh shards anyway, and one running on the lost worker
        // is placed again by the core
        List<String> done = new ArrayList<>();
        for (TaskState in : barrier.deps) {
            if (in.state == MEMORY || in.state == RELEASED) {
                done.add(in.key);
            }
        }
        if (!done.isEmpty()) {
            for (WorkerState w : core.workers()) { // sent before the inputs run again, on the same link
                if (!w.address.equals(gone)) {
                    core.send(w.address, new ShuffleForget(done));
                }
            }
        }
        // outputs first, inputs last: nothing is left running on data that is being dropped
        for (TaskState out : outputs) {
            if (out.state != MEMORY) {
                core.rerun(out);
            }
        }
        core.rerun(barrier);
        for (TaskState in : barrier.deps) {
            if (in.state == MEMORY) {
                core.rerun(in);
            }
        }
    }

    /** Whether {@code task} runs the shuffle function {@code name} (its key is {@code name-hash}). */
    private static boolean is(TaskState task, String name) {
        return task.key.length() > name.length() && task.key.charAt(name.length()) == '-' && task.key.startsWith(name);
    }

    private static TaskState barrierAfter(TaskState transfer) {
        if (transfer.dependents != null) {
            for (TaskState d : transfer.dependents) {
                if (is(d, BARRIER)) {
                    return d;
                }
            }
        }
        return null;
    }

    private static TaskState barrierBefore(TaskState unpack) {
        for (TaskState d : unpack.deps) {
            if (is(d, BARRIER)) {
                return d;
            }
        }
        return null;
    }
}
