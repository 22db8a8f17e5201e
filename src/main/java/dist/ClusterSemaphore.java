package dist;

import dist.client.Locks;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;

/**
 * A semaphore the whole cluster shares by name, as dask's {@code Semaphore}: at most
 * {@link #permits()} holders at once, from {@link Client#semaphore(String, int)}, on a client or
 * inside a task through {@link WorkerClient#get()}.
 *
 * <pre>{@code
 * ClusterSemaphore db = client.semaphore("db", 2);
 * db.acquire();
 * try { query(); } finally { db.release(); }
 * }</pre>
 *
 * <p>The permit count is fixed when the name is first made; asking for the name with another
 * count is refused. Each permit this object takes is a lease the client renews; if its process
 * dies, the permit comes back after {@code distributed.scheduler.locks.lease-timeout}. Any thread
 * may release what this object took; releasing more than it took throws, as dask's
 * "Released too often".
 */
public final class ClusterSemaphore {
    private final Locks locks;
    private final String name;
    private final int permits;
    private final ConcurrentLinkedDeque<String> leases = new ConcurrentLinkedDeque<>();

    ClusterSemaphore(Locks locks, String name, int permits) {
        this.locks = locks;
        this.name = name;
        this.permits = permits;
        locks.createSemaphore(name, permits);
    }

    public String name() {
        return name;
    }

    /** The most holders at once, as fixed when the name was first made. */
    public int permits() {
        return permits;
    }

    /** Permits this object holds now. */
    public int held() {
        return leases.size();
    }

    /**
     * Permits held now by every holder in the cluster (dask's {@code get_value()}):
     * {@code if (db.inUse() == db.permits()) log("the database is busy");}
     *
     * @throws IllegalArgumentException when the semaphore was closed
     */
    public int inUse() {
        return locks.semaphoreValue(name);
    }

    /**
     * Forgets the semaphore on the scheduler, as dask's {@code Semaphore.close}: every hold and wait
     * on it ends at once (a waiting acquire then fails, as later ones on any object for the name do,
     * until {@link Client#semaphore(String, int)} makes it again). What remained is logged as a
     * warning by the scheduler. Closing again is quiet. Use it when the name is done with:
     * {@code client.semaphore("batch-42", 4).close();}
     *
     * @return how many holds and waits it ended (0: none remained)
     */
    public int close() {
        java.util.List<String> mine = java.util.List.copyOf(leases);
        leases.clear();
        return locks.closeSemaphore(name, mine);
    }

    /** Takes a permit, waiting as long as it takes. */
    public void acquire() throws InterruptedException {
        take(-1);
    }

    /** Takes a permit if one is free now. */
    public boolean tryAcquire() {
        try {
            return take(0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Takes a permit, waiting at most {@code time}; false when none came. */
    public boolean tryAcquire(long time, TimeUnit unit) throws InterruptedException {
        return take(Math.max(0, unit.toNanos(time)));
    }

    private boolean take(long timeoutNanos) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before acquiring " + this);
        }
        String l = Locks.newLease();
        if (!locks.acquire(Locks.SEMAPHORE, java.util.List.of(name), l, timeoutNanos)) {
            return false;
        }
        leases.add(l);
        return true;
    }

    /**
     * Gives back the oldest permit this object took.
     *
     * @throws IllegalStateException when it holds none ("released too often", as dask says), or when
     *         the permit's lease had run out before (its renewals did not reach the scheduler)
     */
    public void release() {
        String l = leases.pollFirst();
        if (l == null) {
            throw new IllegalStateException("Released too often: " + this + " holds no permit of this object");
        }
        if (!locks.release(l)) {
            throw new IllegalStateException(this + ": the permit was no longer held: its lease ran out before release "
                    + "(distributed.scheduler.locks.lease-timeout), or the semaphore was closed");
        }
    }

    @Override
    public String toString() {
        return "semaphore '" + name + "' (" + permits + " permits, " + leases.size() + " held here)";
    }
}
