package dist.client;

import dist.Future;
import dist.protocol.Message;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * Questions and one-way messages to the scheduler, and requests to workers, over the core's
 * links. Internal: what {@link DataOps} and {@link Operability} need of the core.
 */
public interface SchedulerLink {

    /** The client's id, as the scheduler knows it. */
    String id();

    /** How long one request may wait for its answer. */
    Duration requestTimeout();

    /** Asks the scheduler and waits (at most the request timeout) for its answer. */
    Message request(Message m) throws InterruptedException, ExecutionException, TimeoutException;

    /** Sends {@code m}, an update that asks for the keys of {@code asked}, and marks them sent. */
    void sendToScheduler(Message m, Collection<? extends Future<?>> asked);

    /** A request to a worker, over a connection opened on first use; never blocks the caller. */
    CompletableFuture<Message> requestWorker(String worker, Message m);

    /** Which workers hold each of {@code keys}, as the scheduler knows it. */
    Map<String, List<String>> whoHasKeys(List<String> keys, long deadline)
            throws InterruptedException, TimeoutException, ExecutionException;

    /** The cluster's workers as the scheduler sees them. */
    List<Message.WorkerInfo> workersInfo() throws InterruptedException, ExecutionException, TimeoutException;
}
