package dist.worker;

import dist.protocol.Message;

import java.util.Set;

/**
 * A capability of a worker beside running the scheduler's tasks (running a function for a client;
 * actors and the like): it names the request types it answers from clients and peers, and answers
 * each on a virtual thread of its own, at most {@link WorkerServer#THREADS_PER_KIND} at once per
 * extension (past that the caller gets an error saying so). Adding one is a file and one line in
 * {@link WorkerServer}'s list.
 *
 * <pre>{@code
 * final class EchoExtension implements WorkerExtension {
 *     public void start(WorkerServices worker) { }
 *     public Set<Class<? extends Message>> requests() { return Set.of(Message.Ping.class); }
 *     public Message answer(Message request) { return request; }
 * }
 * }</pre>
 */
public interface WorkerExtension {

    /** Called once, before the worker serves requests; keep {@code worker} for later. */
    void start(WorkerServices worker);

    /** The request types this extension answers; no two extensions share one. */
    Set<Class<? extends Message>> requests();

    /**
     * Answers one request of a type in {@link #requests()}; returns the reply, or null when none is
     * due. What it throws goes back to the caller as an error naming it.
     */
    Message answer(Message request) throws Exception;

    /** A short name for logs and errors. */
    default String name() {
        return getClass().getSimpleName();
    }
}
