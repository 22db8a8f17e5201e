package dist.comm;

import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * A bounded busy wait before a thread parks. On a machine whose idle cores sleep, waking a parked
 * thread costs tens of microseconds, often more than the event waited for; a thread that expects
 * an answer soon checks for it for a short while first, yielding its core to any runnable thread.
 *
 * <pre>{@code
 * Task t = SpinWait.poll(queue::poll, 200_000);   // up to 200 µs of polling
 * if (t == null) t = queue.take();                 // then park
 * }</pre>
 */
public final class SpinWait {
    /** Polls between two yields of the core: a yield is a system call, a poll a few loads. */
    private static final int POLLS_PER_YIELD = 64;

    private SpinWait() {
    }

    /** Polls {@code next} for up to {@code nanos}; its first non-null answer, or null. */
    public static <T> T poll(Supplier<T> next, long nanos) {
        T t = next.get();
        if (t != null || nanos <= 0) {
            return t;
        }
        long end = System.nanoTime() + nanos;
        int polls = 0;
        while ((t = next.get()) == null && System.nanoTime() - end < 0) {
            pause(++polls);
        }
        return t;
    }

    /** Checks {@code done} for up to {@code nanos}; whether it became true. */
    public static boolean until(BooleanSupplier done, long nanos) {
        if (done.getAsBoolean()) {
            return true;
        }
        if (nanos <= 0) {
            return false;
        }
        long end = System.nanoTime() + nanos;
        int polls = 0;
        while (System.nanoTime() - end < 0) {
            if (done.getAsBoolean()) {
                return true;
            }
            pause(++polls);
        }
        return done.getAsBoolean();
    }

    /**
     * The value of {@code future}: polled for up to {@code spinNanos}, then waited for up to
     * {@code timeoutNanos} more with the thread parked.
     */
    public static <T> T get(java.util.concurrent.Future<T> future, long spinNanos, long timeoutNanos)
            throws InterruptedException, java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException {
        until(future::isDone, spinNanos);
        return future.get(timeoutNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private static void pause(int polls) {
        if (polls % POLLS_PER_YIELD == 0) {
            Thread.yield(); // lets another thread of this core run; a virtual thread yields its carrier
        } else {
            Thread.onSpinWait();
        }
    }
}
