package dist;

/**
 * A task was running on workers that died too often (more than the scheduler's
 * {@code allowed-failures}), so the scheduler gave up on it rather than kill more workers.
 * The message names the task and the workers. It reaches the caller as the cause of a
 * {@link TaskFailedException} (the task failed, for a reason the cluster gave), hence a {@link DistException}.
 *
 * <pre>{@code
 * try {
 *     future.result();
 * } catch (TaskFailedException e) {
 *     if (e.getCause() instanceof KilledWorkerException k) {
 *         System.err.println("gave up: " + k.getMessage());
 *     }
 * }
 * }</pre>
 */
public class KilledWorkerException extends DistException {
    public KilledWorkerException(String message) {
        super(message);
    }

    public KilledWorkerException(String message, Throwable cause) {
        super(message, cause);
    }
}
