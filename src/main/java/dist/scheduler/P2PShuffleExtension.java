package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.ShuffleGetOwners;
import dist.protocol.Message.ShuffleOwners;
import dist.protocol.Message.ShufflePeerLost;
import dist.protocol.Message.ShuffleRestart;
import dist.protocol.TaskOptions;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dist.scheduler.TaskState.*;

/**
 * The scheduler's half of the peer-to-peer shuffle (dask's shuffle scheduler plugin). A shuffle is
 * a barrier task whose inputs are the input tasks and whose dependents are the output tasks; the
 * extension knows them by their functions' names (an output's key carries its partition,
 * {@code p2pShuffleUnpack-<j>-<hash>}) and never reads their values. When the first input asks,
 * it gives each output partition an owner among the running workers and pins the output tasks
 * there (dask's {@code _calculate_worker_for} and {@code _set_restriction}); the inputs push their
 * shards to the owners. When an owner is lost (it leaves, or a sender cannot reach it, or an output
 * finds its data incomplete) while outputs are still to come, the shuffle runs again as a new run
 * on the others: new owners, the workers drop the old run's shards and refuse its sends, every
 * input that is done runs again (those still running are refused and send to the new owners), the
 * barrier and every output not yet done. After {@code distributed.scheduler.allowed-failures} such
 * restarts the unfinished outputs fail with a P2PShuffleError that says why (logged once). Owners
 * are picked among the workers the shuffle is restricted to, and paused ones when none runs; while
 * a shuffle runs its owners are not among the workers to close. Once every output asked for is
 * done, the workers drop every shard of the shuffle (outputs read theirs as often as they are
 * consumed until then).
 */
final class P2PShuffleExtension implements SchedulerExtension {
    static final String TRANSFER = "p2pShuffleTransfer";
    static final String BARRIER = "p2pShuffleBarrier";
    static final String UNPACK = "p2pShuffleUnpack";

    /** A shuffle's run (0: not started), the owner of each output partition in that run, and its restarts. */
    private static final class Shuffle {
        int run;
        List<String> owners;
        int restarts;
        boolean failed;
        /**
         * Every output asked for is done and the workers dropped what else they held: an output
         * computed again (lost, or asked for later) needs a new run, which is no failure.
         */
        boolean done;
        /** Why it failed, once past the allowed restarts (null: it did not). */
        String failure;
        /** The owners of the latest run. */
        List<String> last;
        /** Output partitions, as the inputs cut them: more than the outputs computed when only some are asked for. */
        int partitions;
    }

    /** By barrier key; an entry leaves with its barrier task, so the graph bounds this map. */
    private final Map<String, Shuffle> shuffles = new HashMap<>();
    /**
     * The last run given to any shuffle: runs only grow, so the same shuffle computed again (same
     * keys) starts past the runs its workers still remember and refuse.
     */
    private int lastRun;
    private SchedulerContext core;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> workerMessages() {
        return Set.of(ShufflePeerLost.class, ShuffleGetOwners.class);
    }

    @Override
    public boolean observesTransitions() {
        return true;
    }

    @Override
    public void transition(TaskState task, byte from, byte to) {
        if (shuffles.isEmpty()) {
            return; // every transition comes here: nothing to do while no shuffle runs
        }
        if (to == MEMORY && is(task, UNPACK)) {
            TaskState barrier = barrierBefore(task);
            Shuffle s = barrier == null ? null : shuffles.get(barrier.key);
            if (s != null && s.run > 0 && !s.done && !s.failed && finished(barrier, null)) {
                // the shards go now, read or not, not when the shuffle is forgotten
                own(s, null);
                s.owners = s.last;
                s.done = true;
                ShuffleRestart drop = new ShuffleRestart(barrier.key, ++lastRun);
                for (WorkerState w : core.workers()) {
                    core.send(w.address, drop);
                }
            }
        }
        if (to == FORGOTTEN && is(task, BARRIER)) {
            Shuffle s = shuffles.remove(task.key);
            if (s != null) {
                own(s, null);
            }
            if (s != null && s.run > 0) { // shards of outputs that never ran are dropped with it
                ShuffleRestart drop = new ShuffleRestart(task.key, ++lastRun);
                for (WorkerState w : core.workers()) {
                    core.send(w.address, drop);
                }
            }
        }
    }

    @Override
    public void workerRemoved(WorkerState worker) {
        List<String> hit = new ArrayList<>();
        shuffles.forEach((barrier, s) -> {
            if (s.owners != null && s.owners.contains(worker.address)) {
                hit.add(barrier);
            }
        });
        for (String barrier : hit) {
            TaskState b = core.task(barrier);
            if (b != null && !finished(b, worker.address)) {
                restart(b, "worker " + worker.address + " left", worker.address, true);
            }
        }
    }

    @Override
    public void onWorker(WorkerState worker, Message message, long requestId) {
        if (message instanceof ShuffleGetOwners ask) {
            TaskState input = core.task(ask.input());
            TaskState barrier = input == null ? null : barrierAfter(input);
            if (barrier != null && barrier.state == FORGOTTEN) {
                barrier = null; // an input released mid-shuffle finishing late: its shuffle is gone
            }
            Message answer = new ShuffleOwners("", 0, List.of());
            if (barrier != null) {
                Shuffle s = shuffles.computeIfAbsent(barrier.key, k -> new Shuffle());
                s.partitions = Math.max(s.partitions, ask.partitions());
                if (ask.unreachable() != null && ask.run() == s.run && s.owners != null
                        && s.owners.contains(ask.unreachable()) && !finished(barrier, null)) {
                    restart(barrier, worker.address + " could not send shuffle data to " + ask.unreachable(),
                            ask.unreachable(), true);
                }
                if (s.failed) {
                    fail(barrier, s.failure, null); // outputs lost after it failed: computing them again asks here
                } else if (s.done) {
                    restart(barrier, "outputs are computed again after it finished", null, false);
                }
                if (!s.failed && s.owners == null) {
                    assign(barrier, s, null);
                }
                if (!s.failed && s.owners != null) {
                    answer = new ShuffleOwners(barrier.key, s.run, s.owners);
                }
            }
            if (requestId != 0) {
                core.reply(worker.address, answer, requestId);
            }
            return;
        }
        ShufflePeerLost lost = (ShufflePeerLost) message;
        TaskState task = core.task(lost.key());
        // a report from an attempt the scheduler has already dropped (the shuffle restarted) is stale
        boolean current = task != null && task.state == PROCESSING && task.processingOn == worker;
        TaskState barrier = !current ? null : is(task, BARRIER) ? task : barrierBefore(task);
        if (barrier != null && !finished(barrier, null)) {
            Shuffle s = shuffles.get(barrier.key);
            if (s != null && s.owners != null && !s.failed
                    && (lost.lostWorker().isEmpty() || s.owners.contains(lost.lostWorker()))) {
                restart(barrier, worker.address + " found the data of " + lost.key() + " incomplete"
                        + (lost.lostWorker().isEmpty() ? "" : " (" + lost.lostWorker() + ")"),
                        lost.lostWorker().isEmpty() ? null : lost.lostWorker(), !s.done || !lost.lostWorker().isEmpty());
            }
        }
        if (requestId != 0) {
            core.reply(worker.address, new Ack(), requestId);
        }
    }

    /**
     * A new run: output partition j goes to the j-th running worker round-robin (paused ones when none
     * runs), and its output task may run only there. No worker: the run waits for the next ask.
     * {@code gone}: a worker being removed, not an owner.
     */
    private void assign(TaskState barrier, Shuffle s, String gone) {
        // the shuffle's tasks may run only on some workers: its owners are among them (dask's
        // _calculate_worker_for reads the barrier's restrictions)
        TaskOptions o = barrier.options;
        List<String> allowed = o == null || o.allowOtherWorkers() || o.workers() == null || o.workers().isEmpty()
                ? null : o.workers();
        List<String> running = new ArrayList<>();
        for (WorkerState w : core.workers()) {
            if (w.running() && !w.address.equals(gone) && (allowed == null || allowed.contains(w.address))) {
                running.add(w.address);
            }
        }
        if (running.isEmpty()) {
            // every worker paused: they still take shards, and the outputs run once one resumes
            // (failing the inputs instead ends the shuffle for a pause; dask's test_restarting_does_not_deadlock)
            for (WorkerState w : core.workers()) {
                if (!w.address.equals(gone) && (allowed == null || allowed.contains(w.address))) {
                    running.add(w.address);
                }
            }
        }
        if (running.isEmpty()) {
            return;
        }
        List<TaskState> outputs = barrier.dependents == null ? List.of() : new ArrayList<>(barrier.dependents);
        int n = s.partitions;
        for (TaskState out : outputs) {
            int j = partition(out);
            if (j >= 0) {
                n = Math.max(n, j + 1);
            }
        }
        List<String> owners = new ArrayList<>(n);
        for (int j = 0; j < n; j++) {
            owners.add(running.get(j % running.size()));
        }
        s.run = ++lastRun;
        own(s, List.copyOf(owners));
        for (TaskState out : outputs) {
            int j = partition(out);
            if (j >= 0) {
                core.restrict(out, List.of(owners.get(j)));
            }
        }
    }

    /** Every output done and held by a worker other than {@code gone}: nothing needs running again. */
    private static boolean finished(TaskState barrier, String gone) {
        for (TaskState out : barrier.dependents == null ? List.<TaskState>of() : barrier.dependents) {
            if (out.state != MEMORY || (gone != null && !heldElsewhere(out, gone))) {
                return false;
            }
        }
        return true;
    }

    private static boolean heldElsewhere(TaskState task, String gone) {
        for (WorkerState w : task.whoHas == null ? new WorkerState[0] : task.whoHas) {
            if (!w.address.equals(gone)) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code gone}: a worker lost or unreachable, which owns nothing in the new run (null: none);
     * {@code counts}: data was lost, a restart toward the allowed failures (not so for outputs of a
     * finished shuffle computed again).
     */
    private void restart(TaskState barrier, String why, String gone, boolean counts) {
        Shuffle s = shuffles.computeIfAbsent(barrier.key, k -> new Shuffle());
        if (s.failed) {
            return; // failed once, logged once: later reports of the same loss change nothing
        }
        if (counts) {
            s.restarts++;
        }
        List<TaskState> outputs = barrier.dependents == null ? List.of() : new ArrayList<>(barrier.dependents);
        int allowed = core.config().allowedFailures();
        if (s.restarts > allowed) {
            s.failed = true;
            own(s, null);
            String summary = "P2PShuffleError: shuffle " + barrier.key + " lost data " + s.restarts
                    + " times, more than distributed.scheduler.allowed-failures (" + allowed + "); last: " + why;
            s.failure = summary;
            core.log(System.Logger.Level.WARNING, summary);
            fail(barrier, summary, gone);
            return;
        }
        core.log(System.Logger.Level.INFO, "shuffle " + barrier.key + " runs again (" + s.restarts + " of at most "
                + allowed + "): " + why);
        // a new run with new owners; the workers drop the old run and refuse its sends, told before
        // the inputs run again, on the same link
        own(s, null);
        assign(barrier, s, gone);
        if (s.owners == null) {
            s.run = ++lastRun;
        }
        int run = s.run;
        for (WorkerState w : core.workers()) {
            if (!w.address.equals(gone)) {
                core.send(w.address, new ShuffleRestart(barrier.key, run));
            }
        }
        // outputs first, inputs last: nothing is left running on data that is being dropped
        for (TaskState out : outputs) {
            if (out.state != MEMORY) {
                core.rerun(out);
            }
        }
        core.rerun(barrier);
        // inputs done run again; inputs still running are refused by the old run's owners (or cannot
        // reach the lost one) and send again to the new owners
        for (TaskState in : barrier.deps) {
            if (in.state == MEMORY) {
                core.rerun(in);
            }
        }
    }

    /**
     * Sets the owners of {@code s}'s run and counts, on each worker, the shuffles it owns partitions
     * of: such a worker is not one to close while they run (dask's valid_workers_downscaling).
     */
    private void own(Shuffle s, List<String> owners) {
        List<String> before = s.owners == null || s.done ? List.of() : s.owners;
        List<String> after = owners == null ? List.of() : owners;
        for (WorkerState w : core.workers()) {
            boolean was = before.contains(w.address);
            boolean is = after.contains(w.address);
            if (was != is) {
                w.shuffles += is ? 1 : -1;
            }
        }
        s.owners = owners;
        s.done = false;
        if (owners != null) {
            s.last = owners;
        }
    }

    /**
     * Fails the outputs not done with {@code why}, and those only {@code gone} holds (lost with it):
     * the shuffle will not run again.
     */
    private void fail(TaskState barrier, String why, String gone) {
        List<TaskState> outputs = barrier.dependents == null ? List.of() : new ArrayList<>(barrier.dependents);
        for (TaskState out : outputs) {
            if (out.state == MEMORY && gone != null && !heldElsewhere(out, gone)) {
                core.rerun(out);
            }
            if (out.state != MEMORY && out.state != ERRED && out.state != FORGOTTEN) {
                core.fail(out, why);
            }
        }
    }

    /** Output partition of an output task: the number in {@code p2pShuffleUnpack-<j>-<hash>}, else -1. */
    static int partition(TaskState out) {
        if (!is(out, UNPACK)) {
            return -1;
        }
        int from = UNPACK.length() + 1;
        int to = out.key.indexOf('-', from);
        if (to <= from) {
            return -1;
        }
        try {
            return Integer.parseInt(out.key, from, to, 10);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Whether {@code task} runs the shuffle function {@code name} (its key is {@code name-...}). */
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
