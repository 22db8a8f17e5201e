package dist.client;

import dist.Future;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * Waiting for keys and bringing their values to this process. Deadlines are {@link System#nanoTime()}
 * values; -1 means no bound. Internal: what {@code dist.Future} and {@code dist.Client} need of the core.
 */
public interface Results {

    /** Waits until {@code state} leaves pending, giving up a task's thread slot meanwhile. */
    void await(KeyState state, long deadline) throws InterruptedException, TimeoutException;

    /** {@link #await(KeyState, long)} on {@code future}'s key. */
    void await(Future<?> future, long deadline) throws InterruptedException, TimeoutException;

    /** The decoded result of {@code future}, fetched from a worker if need be. */
    <T> T resultOf(Future<T> future, long deadline) throws InterruptedException, ExecutionException, TimeoutException;

    /** {@code shape} with every Future inside replaced by its result (lists, sets and maps rebuilt). */
    Object gather(Object shape, long deadline) throws InterruptedException, ExecutionException, TimeoutException;

    /** The failure of an erred or lost key, decoded once. */
    Throwable failureOf(KeyState state);

    /** What a wait on a cancelled key throws. */
    CancellationException cancellation(KeyState state);

    /** The {@link System#nanoTime()} deadline {@code timeout} from now (saturating; negative: now). */
    static long deadline(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        long now = System.nanoTime();
        long t;
        try {
            t = timeout.isNegative() ? 0 : timeout.toNanos();
        } catch (ArithmeticException e) {
            t = Long.MAX_VALUE;
        }
        long d = now + t;
        return d < now ? Long.MAX_VALUE : d;
    }

    /** Nanoseconds left until {@code deadline} (negative: none, so all the time there is). */
    static long left(long deadline) {
        return deadline < 0 ? Long.MAX_VALUE : deadline - System.nanoTime();
    }
}
