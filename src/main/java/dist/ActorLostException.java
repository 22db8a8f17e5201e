package dist;

/**
 * An actor's worker died (or could not be reached) and the actor was not built again, or a call was
 * under way when it died. The message names the actor and the worker, and says when restarts ran
 * out. It reaches the caller as the cause of a {@link TaskFailedException}, as a task's failure does.
 *
 * <pre>{@code
 * try {
 *     counter.call(c -> c.increment()).result();
 * } catch (TaskFailedException e) {
 *     if (e.getCause() instanceof ActorLostException lost) {
 *         System.err.println(lost.getMessage());   // actor Counter (...) was lost with worker tcp://...
 *     }
 * }
 * }</pre>
 */
public class ActorLostException extends DistException {
    public ActorLostException(String message) {
        super(message);
    }

    public ActorLostException(String message, Throwable cause) {
        super(message, cause);
    }
}
