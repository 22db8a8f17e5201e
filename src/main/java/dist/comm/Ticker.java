package dist.comm;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Calls {@code onTick(nowNanos)} every {@code period} on a virtual thread of its own, until closed.
 * A tick hands time to its owner's event loop as a value (the owner's state machine reads no clock);
 * it should only submit an event, never wait. A tick that throws is reported to {@code onFailure}
 * (by default: logged once per kind of failure) and the ticks go on: heartbeats and deadlines
 * must outlive any one failure.
 *
 * <pre>{@code
 * Ticker t = Ticker.start("dist-worker-tick", Duration.ofMillis(100), now -> events.submit(new Tick(now)));
 * ...
 * t.close();
 * }</pre>
 */
public final class Ticker implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dist.comm");

    private final String name;
    private final long periodNanos;
    private final LongConsumer onTick;
    private final Consumer<Throwable> onFailure;
    private final Set<String> logged = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private final Thread thread;

    private Ticker(String name, Duration period, LongConsumer onTick, Consumer<Throwable> onFailure) {
        if (period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("a ticker's period must be positive, got " + period);
        }
        this.name = Objects.requireNonNull(name, "name");
        this.periodNanos = period.toNanos();
        this.onTick = Objects.requireNonNull(onTick, "onTick");
        this.onFailure = onFailure != null ? onFailure : this::logOnce;
        this.thread = Thread.ofVirtual().name(name).unstarted(this::run);
    }

    /** Starts ticking: the first tick comes one {@code period} from now. */
    public static Ticker start(String name, Duration period, LongConsumer onTick) {
        return start(name, period, onTick, null);
    }

    /**
     * As {@link #start(String, Duration, LongConsumer)}; a tick that throws is handed to {@code onFailure}
     * (null: logged once per kind), whose own failure is logged, and the ticks go on.
     */
    public static Ticker start(String name, Duration period, LongConsumer onTick, Consumer<Throwable> onFailure) {
        Ticker t = new Ticker(name, period, onTick, onFailure);
        t.thread.start();
        return t;
    }

    private void run() {
        long next = System.nanoTime() + periodNanos;
        while (!closed) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(this, wait);
                continue; // woken early (close, spurious): look again
            }
            long now = System.nanoTime();
            // a late tick does not bunch up ticks behind it
            next = Math.max(next + periodNanos, now + periodNanos / 2);
            try {
                onTick.accept(now);
            } catch (Throwable t) {
                try {
                    onFailure.accept(t);
                } catch (Throwable u) {
                    logOnce(u);
                }
            }
        }
    }

    private void logOnce(Throwable t) {
        if (logged.add(t.getClass().getName())) {
            LOG.log(Level.ERROR, "a tick of " + name + " failed (logged once per kind of failure); it ticks on", t);
        }
    }

    /** Whether this ticker still ticks. */
    public boolean isOpen() {
        return !closed;
    }

    /** Stops the ticks; a tick under way finishes. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
    }
}
