package dist;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** The one bounded wait of the tests: polls a condition until it holds or the bound passes. */
public final class Wait {
    private static final long POLL_NANOS = 20_000_000L;

    private Wait() {
    }

    /** True as soon as {@code condition} holds; false when {@code bound} passed first. */
    public static boolean until(Duration bound, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + bound.toNanos();
        while (!condition.getAsBoolean()) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return condition.getAsBoolean();
            }
            java.util.concurrent.locks.LockSupport.parkNanos(Math.min(left, POLL_NANOS));
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while waiting");
            }
        }
        return true;
    }

    /** The first value of {@code read} that {@code accept} takes, or the last one read when the bound passed. */
    public static <T> T value(Duration bound, Supplier<T> read, java.util.function.Predicate<T> accept)
            throws InterruptedException {
        Object[] last = new Object[1];
        until(bound, () -> {
            T v = read.get();
            last[0] = v;
            return accept.test(v);
        });
        @SuppressWarnings("unchecked")
        T t = (T) last[0];
        return t;
    }
}
