package dist.comm;

import dist.config.Config;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Reaching a peer again after its link went away: attempts on a virtual thread of their own, with
 * capped exponential back-off between them ({@code distributed.comm.reconnect-backoff-max}), until
 * one succeeds, the stop condition holds or the deadline passed. The caller's threads (an event
 * loop, a reader) never wait for it; one run at a time per instance: starting it while it runs
 * returns the run under way.
 *
 * <pre>{@code
 * Reconnect again = new Reconnect("dist-worker-reconnect", Reconnect.Policy.fromConfig(Duration.ofSeconds(60)),
 *         () -> closing, timeout -> register(Connection.connect(address, Role.WORKER, comm.withConnectTimeout(timeout), h)));
 * again.start().thenAccept(outcome -> { if (outcome == Reconnect.Outcome.TIMED_OUT) close(); });
 * }</pre>
 */
public final class Reconnect {
    private static final System.Logger LOG = System.getLogger("dist.comm");

    /** How a run ended. */
    public enum Outcome {
        /** An attempt succeeded. */
        CONNECTED,
        /** The stop condition held (the owner is closing, or another link took over). */
        STOPPED,
        /** The deadline passed before an attempt succeeded. */
        TIMED_OUT
    }

    /** One try: returns when linked again, throws when not (yet); given how long it may wait to connect. */
    @FunctionalInterface
    public interface Attempt {
        void attempt(Duration connectTimeout) throws Exception;
    }

    /**
     * @param firstPause     the pause after the first failed attempt; it doubles after each
     * @param maxPause       the longest pause
     * @param timeout        how long to keep trying; zero or negative: until stopped
     * @param attemptTimeout the longest connect timeout of one attempt (less when the deadline is nearer)
     */
    public record Policy(Duration firstPause, Duration maxPause, Duration timeout, Duration attemptTimeout) {
        public Policy {
            Objects.requireNonNull(firstPause, "firstPause");
            Objects.requireNonNull(maxPause, "maxPause");
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(attemptTimeout, "attemptTimeout");
            if (firstPause.isNegative() || maxPause.compareTo(firstPause) < 0 || !attemptTimeout.isPositive()) {
                throw new IllegalArgumentException("bad reconnect policy: first pause " + firstPause + ", max pause "
                        + maxPause + ", attempt timeout " + attemptTimeout);
            }
        }

        /** 50 ms first, at most {@code distributed.comm.reconnect-backoff-max}, 1 s per attempt, for {@code timeout}. */
        public static Policy fromConfig(Duration timeout) {
            Duration max = Config.getDuration("distributed.comm.reconnect-backoff-max");
            Duration first = Duration.ofMillis(50);
            return new Policy(first.compareTo(max) < 0 ? first : max, max, timeout, Duration.ofSeconds(1));
        }

        /** The pause after {@code failures} failed attempts in a row (1: the first pause). */
        public Duration pauseAfter(int failures) {
            long first = firstPause.toNanos();
            long max = maxPause.toNanos();
            int shift = Math.min(40, Math.max(0, failures - 1));
            long p = first > (max >> shift) ? max : first << shift;
            return Duration.ofNanos(Math.min(p, max));
        }
    }

    private final String name;
    private final Policy policy;
    private final BooleanSupplier stop;
    private final Attempt attempt;
    private final LongSupplier clock;
    private final AtomicReference<CompletableFuture<Outcome>> running = new AtomicReference<>();
    private final Set<String> logged = ConcurrentHashMap.newKeySet();

    /**
     * @param name    of the thread and in the log
     * @param stop    checked before each attempt and each pause: true ends the run ({@link Outcome#STOPPED})
     * @param attempt one try
     */
    public Reconnect(String name, Policy policy, BooleanSupplier stop, Attempt attempt) {
        this(name, policy, stop, attempt, System::nanoTime);
    }

    Reconnect(String name, Policy policy, BooleanSupplier stop, Attempt attempt, LongSupplier clock) {
        this.name = Objects.requireNonNull(name, "name");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.stop = Objects.requireNonNull(stop, "stop");
        this.attempt = Objects.requireNonNull(attempt, "attempt");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Starts trying, unless a run is under way (then returns that one). The future completes on the
     * attempts' thread; exceptionally only when an attempt ran out of memory, which ends the run:
     * the process is not to be trusted any more.
     */
    public CompletableFuture<Outcome> start() {
        CompletableFuture<Outcome> mine = new CompletableFuture<>();
        CompletableFuture<Outcome> under = running.compareAndExchange(null, mine);
        if (under != null) {
            return under;
        }
        Thread.ofVirtual().name(name).start(() -> {
            Outcome o;
            try {
                o = run();
            } catch (Throwable t) {
                running.set(null);
                mine.completeExceptionally(t);
                return;
            }
            running.set(null);
            mine.complete(o);
        });
        return mine;
    }

    /** Whether a run is under way. */
    public boolean isRunning() {
        return running.get() != null;
    }

    private Outcome run() {
        long start = clock.getAsLong();
        boolean bounded = policy.timeout().isPositive();
        long deadline = start + policy.timeout().toNanos();
        int failures = 0;
        while (true) {
            if (stop.getAsBoolean()) {
                return Outcome.STOPPED;
            }
            long left = deadline - clock.getAsLong();
            if (bounded && left <= 0) {
                return Outcome.TIMED_OUT;
            }
            long cap = policy.attemptTimeout().toNanos();
            Duration connectTimeout = Duration.ofNanos(Math.max(1_000_000, bounded ? Math.min(left, cap) : cap));
            try {
                attempt.attempt(connectTimeout);
                return Outcome.CONNECTED;
            } catch (OutOfMemoryError e) {
                throw e;
            } catch (Exception e) {
                LOG.log(Level.DEBUG, name + ": not back yet: " + e.getMessage());
            } catch (Throwable e) {
                // a bug in one attempt: the next may still succeed, and the link matters more
                if (logged.add(e.getClass().getName())) {
                    LOG.log(Level.ERROR, name + ": an attempt failed (logged once per kind); trying again", e);
                }
            }
            failures++;
            long pauseEnd = clock.getAsLong() + policy.pauseAfter(failures).toNanos();
            if (bounded && pauseEnd - deadline > 0) {
                pauseEnd = deadline;
            }
            for (long wait = pauseEnd - clock.getAsLong(); wait > 0 && !stop.getAsBoolean();
                 wait = pauseEnd - clock.getAsLong()) {
                LockSupport.parkNanos(this, Math.min(wait, 50_000_000L));
            }
        }
    }
}
