package dist;

/**
 * The calling thread was interrupted while it waited for the cluster. The thread's interrupt flag is
 * set again before this is thrown, so code further up still sees the interrupt; the cause is the
 * original {@link InterruptedException}.
 *
 * <pre>{@code
 * try {
 *     future.result();
 * } catch (DistInterruptedException e) {
 *     return;   // Thread.currentThread().isInterrupted() is still true: let the caller stop
 * }
 * }</pre>
 */
public class DistInterruptedException extends DistException {
    /** Restores the current thread's interrupt flag, then makes the exception. */
    public DistInterruptedException(String message, InterruptedException cause) {
        super(message, cause);
        Thread.currentThread().interrupt();
    }
}
