package dist;

import dist.protocol.Message;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A {@link ClusterManager} for workers started your own way (a Kubernetes pod, a batch job, a
 * process on a machine of yours): write how one named worker starts and how what is left of it
 * stops; scaling, graceful retirement and {@link #adapt} come from here. A worker started with
 * name {@code name} must register with the scheduler under that name ({@code worker ... --name NAME}).
 *
 * <pre>{@code
 * class BatchCluster extends AbstractClusterManager {
 *     BatchCluster(Client client) { super(client); }
 *     protected void startWorker(String name) throws Exception {
 *         new ProcessBuilder("sbatch", "--job-name", name, "run-worker.sh", name).start().waitFor();
 *     }
 *     protected void stopWorker(String name) throws Exception {
 *         new ProcessBuilder("scancel", "--name", name).start().waitFor();
 *     }
 * }
 * }</pre>
 */
public abstract class AbstractClusterManager implements ClusterManager {

    private final Supplier<Client> clientSource;
    private final ReentrantLock scaling = new ReentrantLock();
    private final List<String> running = new CopyOnWriteArrayList<>();
    /** The index of the next worker name; under {@link #scaling}. */
    private int next;
    private volatile Adaptive adaptive;
    private volatile boolean closed;

    /**
     * A manager whose scheduler {@code client} reaches: scaling down and adapting ask through it
     * (it stays open when the manager closes).
     */
    protected AbstractClusterManager(Client client) {
        Objects.requireNonNull(client, "client");
        this.clientSource = () -> client;
    }

    /** For managers that make their client only when first needed. */
    AbstractClusterManager(Supplier<Client> clientSource) {
        this.clientSource = clientSource;
    }

    /**
     * Starts a worker that registers with the scheduler as {@code name}; may return before it has
     * registered. Called with no other start or stop of this manager under way.
     */
    protected abstract void startWorker(String name) throws Exception;

    /**
     * Stops what is left of worker {@code name}: it was retired (its results moved, its process told
     * to close) or never registered. Make sure its process, pod or job is gone.
     */
    protected abstract void stopWorker(String name) throws Exception;

    /** The name of the {@code index}-th worker this manager starts (from 0): {@code worker-INDEX}. */
    protected String workerName(int index) {
        return "worker-" + index;
    }

    @Override
    public void scale(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("scale needs 0 or more workers, got " + n);
        }
        scaleLocked(() -> {
            if (n > running.size()) {
                scaleUpTo(n);
            } else if (n < running.size()) {
                scaleDownTo(n);
            }
        });
    }

    @Override
    public Adaptive adapt(int minimum, int maximum) {
        if (minimum < 0 || maximum < minimum) {
            throw new IllegalArgumentException("adapt needs 0 <= minimum <= maximum, got " + minimum + " and " + maximum);
        }
        checkOpen();
        Adaptive old = adaptive;
        if (old != null) {
            old.stop();
        }
        Adaptive a = new Adaptive(this, minimum, maximum);
        adaptive = a;
        return a;
    }

    @Override
    public List<String> workers() {
        return List.copyOf(running);
    }

    /** Stops adapting and every worker still running (without retiring them); the client stays open. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        shut();
        scaling.lock();
        try {
            for (String name : List.copyOf(running)) {
                stop(name);
            }
        } finally {
            scaling.unlock();
        }
    }

    /** Refuses scaling from now on and stops adapting; the workers are left to the caller. */
    final void shut() {
        closed = true;
        stopAdapting();
    }

    /** Stops the adaptive policy, if any. */
    final void stopAdapting() {
        Adaptive a = adaptive;
        if (a != null) {
            a.stop();
        }
    }

    final boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this cluster manager is closed");
        }
    }

    /** Runs {@code r} with no other scaling under way. */
    final void scaleLocked(Runnable r) {
        checkOpen();
        scaling.lock();
        try {
            checkOpen();
            r.run();
        } finally {
            scaling.unlock();
        }
    }

    /** Starts workers until there are {@code n}; under {@link #scaling}. */
    final void scaleUpTo(int n) {
        while (running.size() < n) {
            String name = workerName(next++);
            try {
                startWorker(name);
            } catch (Exception e) {
                throw new IllegalStateException("worker " + name + " could not start: " + e.getMessage(), e);
            }
            running.add(name);
        }
    }

    /** Brings the workers down to {@code n}: those not registered first, then the scheduler's picks. */
    private void scaleDownTo(int n) {
        // only the choice of workers matters here: the wanted count is n
        Message.AdaptiveTarget t = adaptiveTarget(dist.config.Config.getDuration("distributed.adaptive.target-duration"), n, n);
        Set<String> registered = Set.copyOf(t.workers());
        int surplus = running.size() - n;
        LinkedHashSet<String> pick = new LinkedHashSet<>();
        for (String w : running) {
            if (!registered.contains(w) && pick.size() < surplus) {
                pick.add(w);
            }
        }
        for (String w : t.toClose()) {
            if (running.contains(w) && pick.size() < surplus) {
                pick.add(w);
            }
        }
        List<String> newestFirst = new ArrayList<>(running);
        java.util.Collections.reverse(newestFirst);
        for (String w : newestFirst) { // workers the scheduler did not pick (another manager's names)
            if (pick.size() < surplus) {
                pick.add(w);
            }
        }
        scaleDown(List.copyOf(pick));
    }

    /**
     * Retires {@code names} gracefully, then stops what is left of them; a worker the scheduler kept
     * (its data had nowhere to go) is still registered and keeps running, unless every worker goes:
     * then they stop anyway and what only they held is recomputed when needed. Under {@link #scaling}.
     */
    final void scaleDown(List<String> names) {
        List<String> mine = names.stream().filter(running::contains).toList();
        if (mine.isEmpty()) {
            return;
        }
        // to zero workers, results have nowhere to go: the workers stop anyway, as asked (dask's scale(0))
        boolean toZero = mine.size() == running.size();
        retire(mine);
        Set<String> kept = new java.util.HashSet<>();
        if (!toZero) {
            for (WorkerInfo w : clientSource.get().workersInfo()) {
                kept.add(w.name());
            }
        }
        for (String name : mine) {
            if (!kept.contains(name)) {
                stop(name);
            }
        }
    }

    private void stop(String name) {
        try {
            stopWorker(name);
        } catch (Exception e) {
            throw new IllegalStateException("worker " + name + " could not be stopped: " + e.getMessage(), e);
        } finally {
            running.remove(name);
        }
    }

    /** Graceful retirement, through the scheduler: what only these workers hold moves first. */
    private void retire(List<String> names) {
        Retirement r = clientSource.get().retireWorkers(names);
        r.kept().forEach((worker, why) -> System.getLogger("dist.cluster").log(System.Logger.Level.WARNING,
                "worker " + worker + " was not retired and keeps running: " + why));
    }

    final Message.AdaptiveTarget adaptiveTarget(Duration targetDuration, int minimum, int maximum) {
        return clientSource.get().adaptiveTarget(targetDuration, minimum, maximum);
    }
}
