package dist;

import java.time.Duration;

/**
 * An operation did not finish within its deadline. The message names the operation, the deadline,
 * and the parameter or setting that sets it (e.g. {@code dist.comm.request-timeout} for requests to
 * the scheduler, {@code distributed.client.restart-timeout} for {@link Client#restart()}).
 * The operation may still complete on the cluster; a {@link Future} stays usable.
 *
 * <pre>{@code
 * try {
 *     int v = future.result(Duration.ofSeconds(5));
 * } catch (DistTimeoutException e) {
 *     System.err.println(e.getMessage());   // "result of inc-3f1c... did not finish within 5s (set by the timeout parameter of Future.result(Duration)) ..."
 * }
 * }</pre>
 */
public class DistTimeoutException extends DistException {
    private final String operation;
    private final Duration deadline;
    private final String setBy;

    /**
     * @param operation what did not finish, e.g. "result of inc-3f1c" or "Client.restart"
     * @param deadline  how long it was given (null when unknown)
     * @param setBy     the parameter or setting that sets that deadline
     * @param detail    what was still missing (may be null)
     */
    public DistTimeoutException(String operation, Duration deadline, String setBy, String detail, Throwable cause) {
        super(operation + " did not finish within " + (deadline == null ? "its deadline" : format(deadline))
                + " (set by " + setBy + ")" + (detail == null || detail.isEmpty() ? "" : ": " + detail), cause);
        this.operation = operation;
        this.deadline = deadline;
        this.setBy = setBy;
    }

    /** What did not finish, e.g. "Client.restart". */
    public String operation() {
        return operation;
    }

    /** The deadline it had, or null when unknown. */
    public Duration deadline() {
        return deadline;
    }

    /** The parameter or setting that sets the deadline, e.g. "dist.comm.request-timeout". */
    public String setBy() {
        return setBy;
    }

    static String format(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + " s" : ms + " ms";
    }
}
