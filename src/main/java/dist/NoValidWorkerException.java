package dist;

/**
 * No worker could take a task for longer than the scheduler's
 * {@code distributed.scheduler.no-workers-timeout}: none was connected, or none matched its worker
 * or resource restrictions. The message names the task and the restrictions. It reaches the caller
 * as the cause of a {@link TaskFailedException}, as {@link KilledWorkerException} does.
 *
 * <pre>{@code
 * try {
 *     client.with(Options.defaults().workers("10.0.0.9:7000")).submit(() -> 1).result();
 * } catch (TaskFailedException e) {
 *     if (e.getCause() instanceof NoValidWorkerException n) {
 *         System.err.println("nowhere to run: " + n.getMessage());
 *     }
 * }
 * }</pre>
 */
public class NoValidWorkerException extends DistException {
    public NoValidWorkerException(String message) {
        super(message);
    }
}
