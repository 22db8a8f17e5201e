package dist.client;

import dist.DistException;
import dist.config.Config;
import dist.protocol.Message;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A client's side of cluster locks and semaphores: acquiring (a long wait is asked in slices the
 * request timeout allows), releasing, renewing the leases it holds at a fifth of the lease timeout,
 * registering them again after a reconnect, and letting everything go when the client closes.
 * Internal: what {@code dist.ClusterLock} and {@code dist.ClusterSemaphore} use.
 */
public final class Locks {
    public static final String LOCK = "lock";
    public static final String SEMAPHORE = "semaphore";

    record Held(String kind, List<String> names, int count) {}

    private final SchedulerLink link;
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    private final Map<String, Integer> semaphores = new ConcurrentHashMap<>();
    private final AtomicBoolean used = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Duration renewEvery;
    private volatile ScheduledExecutorService renewer;
    private final java.util.concurrent.locks.ReentrantLock startLock = new java.util.concurrent.locks.ReentrantLock();

    /** {@code onRelink}: registers what to send first on each new link after a reconnect. */
    public Locks(SchedulerLink link, Consumer<java.util.function.Supplier<List<Message>>> onRelink) {
        this.link = link;
        this.renewEvery = Config.getDuration("distributed.scheduler.locks.lease-timeout").dividedBy(5);
        onRelink.accept(this::registrations);
    }

    /** A fresh lease id: one per acquisition. */
    public static String newLease() {
        return UUID.randomUUID().toString();
    }

    /** Makes semaphore {@code name} of {@code permits}, or checks that it has that many. */
    public void createSemaphore(String name, int permits) {
        Message m = ask(new Message.SemaphoreCreate(name, permits), "creating semaphore '" + name + "'");
        if (m instanceof Message.ErrorReply e) {
            throw new IllegalArgumentException(e.message());
        }
        semaphores.put(name, permits);
    }

    /** Permits of semaphore {@code name} held now, by every holder. */
    public int semaphoreValue(String name) {
        Message m = ask(new Message.SemaphoreValue(name), "reading semaphore '" + name + "'");
        if (m instanceof Message.ErrorReply e) {
            throw new IllegalArgumentException(e.message());
        }
        return (int) ((Message.SharedCount) m).count();
    }

    /** Forgets semaphore {@code name} on the scheduler; returns the holds and waits that ended. */
    public int closeSemaphore(String name, List<String> ownLeases) {
        semaphores.remove(name); // not made again after a reconnect
        ownLeases.forEach(held::remove);
        Message m = ask(new Message.SemaphoreClose(name), "closing semaphore '" + name + "'");
        if (m instanceof Message.ErrorReply e) {
            throw new IllegalArgumentException(e.message());
        }
        return (int) ((Message.SharedCount) m).count();
    }

    /**
     * Takes one permit of each of {@code names} for {@code lease}, waiting at most {@code timeoutNanos}
     * (negative: until granted). False when the wait ended first. Interrupted: the wait is withdrawn.
     */
    public boolean acquire(String kind, List<String> names, String lease, long timeoutNanos) throws InterruptedException {
        return acquire(kind, names, 0, lease, timeoutNanos);
    }

    /** As {@link #acquire(String, List, String, long)}, needing any {@code count} of {@code names} (0: all). */
    public boolean acquire(String kind, List<String> names, int count, String lease, long timeoutNanos)
            throws InterruptedException {
        ensureOpen();
        used.set(true);
        long start = System.nanoTime();
        // each slice must be answered (on the scheduler's tick past its deadline) within the request timeout
        long slice = Math.max(1, link.requestTimeout().toNanos() / 2);
        while (true) {
            long left = timeoutNanos < 0 ? slice : Math.max(0, timeoutNanos - (System.nanoTime() - start));
            Message m;
            try {
                m = link.request(new Message.LockAcquire(kind, names, lease, Math.min(left, slice), count));
            } catch (InterruptedException e) {
                withdraw(lease);
                throw e;
            } catch (TimeoutException e) {
                withdraw(lease); // the answer may still come: a grant it brings is let go here
                m = new Message.LockGranted(lease, false);
            } catch (ExecutionException e) {
                throw unwrap(e, "acquiring " + kind + " " + names);
            }
            if (m instanceof Message.ErrorReply e) {
                throw new IllegalArgumentException(e.message());
            }
            if (m instanceof Message.LockGranted g && g.granted()) {
                held.put(lease, new Held(kind, List.copyOf(names), count));
                startRenewing();
                return true;
            }
            if (!(m instanceof Message.LockGranted)) {
                throw new DistException("the scheduler answered an acquire of " + names + " with " + m);
            }
            if (timeoutNanos >= 0 && System.nanoTime() - start >= timeoutNanos) {
                return false;
            }
        }
    }

    /** Lets go of {@code lease}; false when the scheduler no longer had it (its lease ran out). */
    public boolean release(String lease) {
        held.remove(lease);
        Message m = ask(new Message.LockRelease(lease), "releasing");
        if (m instanceof Message.ErrorReply e) {
            throw new DistException(e.message());
        }
        return m instanceof Message.LockReleased r && r.held();
    }

    /** How many leases this client holds now. */
    public int heldCount() {
        return held.size();
    }

    private void withdraw(String lease) {
        try {
            link.request(new Message.LockRelease(lease));
        } catch (Exception e) {
            // the lease is never renewed, so the scheduler lets it go after the lease timeout anyway
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void startRenewing() {
        if (renewer != null || renewEvery.compareTo(Duration.ofDays(365)) > 0) {
            return; // a lease timeout of inf: holds never run out, so nothing is renewed
        }
        startLock.lock();
        try {
            if (renewer == null && !closed.get()) {
                ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "dist-lock-renew");
                    t.setDaemon(true);
                    return t;
                });
                long every = Math.max(1, renewEvery.toNanos());
                s.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.NANOSECONDS);
                renewer = s;
            }
        } finally {
            startLock.unlock();
        }
    }

    private void renew() {
        List<String> leases = List.copyOf(held.keySet());
        if (leases.isEmpty()) {
            return;
        }
        try {
            link.request(new Message.LockRenew(leases));
        } catch (Exception e) {
            // the scheduler is gone or slow: the next renewal (or the reconnect) tries again
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * On a reconnect, the messages that register again the semaphores this client made and the
     * leases it holds; sent one way ahead of everything else, so a hold another client took meanwhile
     * (the scheduler restarted empty) is lost here, and unlock then says the lease ran out.
     */
    private List<Message> registrations() {
        List<Message> out = new java.util.ArrayList<>();
        semaphores.forEach((name, permits) -> out.add(new Message.SemaphoreCreate(name, permits)));
        held.forEach((lease, h) -> out.add(new Message.LockAcquire(h.kind(), h.names(), lease, 0, h.count())));
        return out;
    }

    /** The client closes: its holds and waits are let go at once on the scheduler. */
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        startLock.lock();
        try {
            if (renewer != null) {
                renewer.shutdownNow();
            }
        } finally {
            startLock.unlock();
        }
        if (used.get()) {
            try {
                link.request(new Message.LockReleaseAll());
            } catch (Exception e) {
                // unreachable scheduler: the leases run out there
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        held.clear();
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("the client is closed: locks and semaphores need an open client");
        }
    }

    private Message ask(Message m, String what) {
        ensureOpen();
        used.set(true);
        try {
            return link.request(m);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new dist.DistInterruptedException(what + " was interrupted", e);
        } catch (TimeoutException e) {
            throw new DistException(what + ": no answer from the scheduler within " + link.requestTimeout(), e);
        } catch (ExecutionException e) {
            throw unwrap(e, what);
        }
    }

    private static RuntimeException unwrap(ExecutionException e, String what) {
        return e.getCause() instanceof RuntimeException r ? r : new DistException(what + " failed: " + e.getCause(), e.getCause());
    }
}
