package dist;

import dist.client.Locks;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

/**
 * A lock the whole cluster shares by name, as dask's {@code Lock} (one name) and {@code MultiLock}
 * (several names, taken all at once or not at all; or any {@code count} of them, as its
 * {@code num_locks}): from {@link Client#lock(String)}, {@link Client#multiLock(java.util.Collection)}
 * or {@link Client#multiLock(java.util.Collection, int)}, on a client or inside a task through
 * {@link WorkerClient#get()}.
 *
 * <pre>{@code
 * Lock lock = client.lock("db");
 * lock.lock();
 * try { writeTheDatabase(); } finally { lock.unlock(); }
 * }</pre>
 *
 * <p><b>Who holds it.</b> As in dask, where each {@code Lock} object has an id of its own, each
 * object returned is one holder: two objects for one name exclude each other even in one thread
 * (so two tasks on one worker never share a hold), and one object is not reentrant (locking it
 * again waits until it is unlocked). Any thread may unlock the object that holds. A hold is a
 * lease that the client renews; if its process dies, the lock is freed after
 * {@code distributed.scheduler.locks.lease-timeout}. Closing the client frees it at once.
 */
public final class ClusterLock implements Lock {
    private final Locks locks;
    private final List<String> names;
    private final int count;
    private final AtomicReference<String> lease = new AtomicReference<>();

    ClusterLock(Locks locks, List<String> names) {
        this(locks, names, names.size());
    }

    ClusterLock(Locks locks, List<String> names, int count) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException("a lock needs at least one name");
        }
        if (count < 1 || count > names.size()) {
            throw new IllegalArgumentException("a multi-lock over " + names + " takes 1 to " + names.size()
                    + " of them, not " + count);
        }
        if (new java.util.HashSet<>(names).size() != names.size()) {
            throw new IllegalArgumentException("names " + names + " repeat one: name each lock once");
        }
        for (String n : names) {
            if (n == null || n.isBlank()) {
                throw new IllegalArgumentException("lock names must be non-empty: " + names);
            }
        }
        this.locks = locks;
        this.names = List.copyOf(names);
        this.count = count;
    }

    /** The names this lock takes from. */
    public List<String> names() {
        return names;
    }

    /** How many of {@link #names()} a hold takes: all of them, unless made by {@link Client#multiLock(java.util.Collection, int)}. */
    public int count() {
        return count;
    }

    /** Whether this object holds the lock now (dask: {@code locked()} of the holder). */
    public boolean isHeld() {
        return lease.get() != null;
    }

    /** Waits until granted; an interrupt is remembered and restored after, as {@link Lock#lock()} says. */
    @Override
    public void lock() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    if (take(-1)) {
                        return;
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before locking " + this);
        }
        take(-1);
    }

    /** Takes it if free now, without waiting (dask: {@code acquire(blocking=False)}). */
    @Override
    public boolean tryLock() {
        try {
            return take(0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before locking " + this);
        }
        return take(Math.max(0, unit.toNanos(time)));
    }

    private boolean take(long timeoutNanos) throws InterruptedException {
        String l = Locks.newLease();
        if (!locks.acquire(Locks.LOCK, names, count == names.size() ? 0 : count, l, timeoutNanos)) {
            return false;
        }
        lease.set(l);
        return true;
    }

    /**
     * @throws IllegalMonitorStateException when this object does not hold the lock, or when its
     *         lease ran out before (its renewals did not reach the scheduler): another holder may
     *         have had it meanwhile
     */
    @Override
    public void unlock() {
        String l = lease.getAndSet(null);
        if (l == null) {
            throw new IllegalMonitorStateException(this + " is not held by this Lock object; each object from "
                    + "client.lock(name) is a holder of its own: unlock the one that locked");
        }
        if (!locks.release(l)) {
            throw new IllegalMonitorStateException(this + " was no longer held: its lease ran out before unlock "
                    + "(distributed.scheduler.locks.lease-timeout), so another holder may have held it meanwhile");
        }
    }

    /** Refused: a condition would need the scheduler to wake waiters by name. */
    @Override
    public Condition newCondition() {
        throw new UnsupportedOperationException("a cluster lock has no conditions (its waiters are in other "
                + "processes); to wait for something another task does, use a cluster event or a queue");
    }

    @Override
    public String toString() {
        return (names.size() == 1 ? "lock '" + names.get(0) + "'"
                : "multi-lock " + (count == names.size() ? "" : count + " of ") + names)
                + (isHeld() ? " [held]" : "");
    }
}
