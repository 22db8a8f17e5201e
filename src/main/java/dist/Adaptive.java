package dist;

import dist.config.Config;
import dist.protocol.Message;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A cluster sized by its load, from {@link ClusterManager#adapt}: every
 * {@code distributed.adaptive.interval} it asks the scheduler how many workers it wants (dask's
 * {@code adaptive_target}: the queued and running work over {@code distributed.adaptive.target-duration},
 * more when memory fills) and scales: up at once to that count, down only for a worker the
 * scheduler recommended closing {@code distributed.adaptive.wait-count} intervals in a row,
 * always within [minimum, maximum]. Each change is recorded as a {@link ScaleEvent}.
 *
 * <pre>{@code
 * Adaptive adaptive = cluster.adapt(1, 4);
 * client.gather(client.map(Work::step, inputs));   // the cluster grows to four workers, then shrinks
 * adaptive.stop();
 * for (Adaptive.ScaleEvent e : adaptive.events()) {
 *     System.out.println(e.time() + " " + e.from() + " -> " + e.to() + ": " + e.reason());
 * }
 * }</pre>
 */
public final class Adaptive {

    /**
     * One change of the cluster's size.
     *
     * @param time   when it was decided
     * @param from   workers the manager ran before
     * @param to     workers it runs after
     * @param reason why, in words
     */
    public record ScaleEvent(Instant time, int from, int to, String reason) {
    }

    private static final System.Logger LOG = System.getLogger("dist.adaptive");
    /** How long {@link #stop} waits for a step under way (a retirement) to end. */
    private static final Duration STOP_WAIT = Duration.ofSeconds(60);

    private final AbstractClusterManager manager;
    private final Duration interval;
    private final Duration targetDuration;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    /** Read and changed under {@link #lock}. */
    private final AdaptiveCore core;
    private final java.util.concurrent.atomic.AtomicBoolean stopped = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile String lastError;
    private final Thread thread;

    Adaptive(AbstractClusterManager manager, int minimum, int maximum) {
        this.core = new AdaptiveCore(minimum, maximum, Config.getInt("distributed.adaptive.wait-count"));
        this.manager = manager;
        this.interval = positive("distributed.adaptive.interval");
        this.targetDuration = positive("distributed.adaptive.target-duration");
        this.thread = Thread.ofVirtual().name("adaptive").start(this::run);
    }

    private static Duration positive(String key) {
        Duration d = Config.getDuration(key);
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(key + " must be positive, got " + d);
        }
        return d;
    }

    private void run() {
        while (!stopped.get()) {
            try {
                step();
                lastError = null;
            } catch (RuntimeException e) {
                if (manager.isClosed()) {
                    return;
                }
                // the next interval tries again: a scheduler slow to answer or a worker slow to stop is no reason to give up
                lastError = String.valueOf(e.getMessage());
                LOG.log(System.Logger.Level.WARNING, "adaptive scaling step failed: " + e);
            }
            lock.lock();
            try {
                long left = interval.toNanos();
                while (!stopped.get() && left > 0) {
                    left = wake.awaitNanos(left);
                }
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
        }
    }

    /** One interval: ask, decide, act. */
    private void step() {
        Message.AdaptiveTarget t = manager.adaptiveTarget(targetDuration, core.minimum, core.maximum);
        manager.scaleLocked(() -> {
            if (stopped.get()) {
                return;
            }
            Set<String> plan = new LinkedHashSet<>(manager.workers());
            AdaptiveCore.Action action;
            lock.lock();
            try {
                action = core.step(Instant.now(), t.target(), plan, Set.copyOf(t.workers()), t.toClose());
            } finally {
                lock.unlock();
            }
            if (!(action instanceof AdaptiveCore.Same)) {
                ScaleEvent e = events().getLast();
                LOG.log(System.Logger.Level.INFO, "scaling from " + e.from() + " to " + e.to() + " workers: " + e.reason());
            }
            switch (action) {
                case AdaptiveCore.Up u -> manager.scaleUpTo(u.n());
                case AdaptiveCore.Down d -> manager.scaleDown(d.workers());
                case AdaptiveCore.Same s -> {
                }
            }
        });
    }

    /**
     * Stops adapting (the workers stay as they are); waits up to a minute for a scaling step under
     * way to finish. Idempotent: only the first call logs "adaptive scaling stopped".
     */
    public void stop() {
        if (stopped.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.INFO, "adaptive scaling stopped (" + core.minimum + ".." + maximumText() + ")");
        }
        lock.lock();
        try {
            wake.signalAll();
        } finally {
            lock.unlock();
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join(STOP_WAIT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Whether it still adapts (not stopped, its manager not closed). */
    public boolean isRunning() {
        return !stopped.get() && thread.isAlive();
    }

    /** The worker count wanted at the last interval, within [minimum, maximum]. */
    public int target() {
        lock.lock();
        try {
            return core.target();
        } finally {
            lock.unlock();
        }
    }

    /** The workers the manager runs now (started or starting). */
    public int current() {
        return manager.workers().size();
    }

    /** The fewest workers it keeps ({@code adapt(minimum, maximum)}). */
    public int minimum() {
        return core.minimum;
    }

    /** The most workers it starts; {@link Integer#MAX_VALUE} for no limit (dask's {@code inf}). */
    public int maximum() {
        return core.maximum;
    }

    /** How often it asks the scheduler ({@code distributed.adaptive.interval} when it started). */
    public Duration interval() {
        return interval;
    }

    /** The work it sizes the cluster for finishes in about this long ({@code distributed.adaptive.target-duration}). */
    public Duration targetDuration() {
        return targetDuration;
    }

    /** Intervals in a row a worker must be recommended for closing before it retires ({@code distributed.adaptive.wait-count}). */
    public int waitCount() {
        return core.waitCount;
    }

    private String maximumText() {
        return core.maximum == Integer.MAX_VALUE ? "inf" : String.valueOf(core.maximum);
    }

    /** {@code distributed.adaptive.minimum}. */
    static int configuredMinimum() {
        return Config.getInt("distributed.adaptive.minimum");
    }

    /** {@code distributed.adaptive.maximum}: a whole number, or "inf" (also ".inf", dask's YAML) for no limit. */
    static int configuredMaximum() {
        String key = "distributed.adaptive.maximum";
        String v = Config.get(key).trim();
        if (v.equalsIgnoreCase("inf") || v.equalsIgnoreCase(".inf")) {
            return Integer.MAX_VALUE;
        }
        return Config.getInt(key);
    }

    /** Why the last interval failed (the scheduler did not answer, a worker did not stop), or empty. */
    public java.util.Optional<String> lastError() {
        return java.util.Optional.ofNullable(lastError);
    }

    /** Every change of size so far, oldest first (the last 10,000). */
    public List<ScaleEvent> events() {
        lock.lock();
        try {
            return core.events();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "Adaptive(" + core.minimum + ".." + maximumText() + ", target " + target() + ", "
                + (isRunning() ? "running" : "stopped") + ")";
    }

    /** Bounded wait, for callers that want the thread gone (tests). */
    boolean awaitStopped(long timeout, TimeUnit unit) throws InterruptedException {
        return thread.join(Duration.ofNanos(unit.toNanos(timeout)));
    }
}
