package dist.comm;

import dist.protocol.Message;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A connection's requests waiting for their replies: each has an id, a deadline past which it fails
 * with {@link TimeoutException}, and fails with {@link ConnectionClosedException} when the connection
 * ends first, so no caller waits forever. One timer sweeps them, not one per request.
 *
 * <pre>{@code
 * long id = pending.open(future, timeout, "GetData");   // then write the request with this id
 * pending.complete(id, reply);                          // from the reader
 * }</pre>
 */
final class PendingRequests {
    private static final System.Logger LOG = System.getLogger("dist.comm");

    /** A request waiting for its reply. */
    private record Pending(CompletableFuture<Message> future, long deadline, Duration timeout, String what) {
    }

    private final String peerAddress;
    private final AtomicLong nextId = new AtomicLong();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextSweepAt = new AtomicLong();

    PendingRequests(String peerAddress) {
        this.peerAddress = peerAddress;
    }

    /** Registers {@code future} as waiting for the reply to a request about to be written; its id. */
    long open(CompletableFuture<Message> future, Duration timeout, String what) {
        long id = nextId.incrementAndGet();
        Pending p = new Pending(future, System.nanoTime() + timeout.toNanos(), timeout, what);
        pending.put(id, p);
        armSweep(p.deadline);
        return id;
    }

    /** The request {@code id} was never written: it waits no more. */
    void abandon(long id) {
        pending.remove(id);
    }

    /** The reply to {@code id} came: its future completes (a reply to none, one timed out, is dropped). */
    void complete(long id, Message reply) {
        Pending p = pending.remove(id);
        if (p != null) {
            p.future.complete(reply);
        } else {
            LOG.log(System.Logger.Level.DEBUG, () -> "reply " + id + " from " + peerAddress
                    + " matches no waiting request (timed out?); dropped");
        }
    }

    /** The connection ended ({@code cause} null: closed on purpose): every waiting request fails, saying so. */
    void failAll(Throwable cause) {
        for (Long id : List.copyOf(pending.keySet())) {
            Pending p = pending.remove(id);
            if (p != null) {
                p.future.completeExceptionally(cause == null
                        ? new ConnectionClosedException("connection to " + peerAddress + " closed before the reply came")
                        : new ConnectionClosedException("connection to " + peerAddress + " failed before the reply came: "
                        + Connection.reason(cause), cause));
            }
        }
    }

    /**
     * Makes sure a sweep runs by {@code deadline}. One timer per connection, not one per request:
     * scheduling a timer that becomes the earliest wakes the timer thread, a cost every request would pay.
     */
    private void armSweep(long deadline) {
        while (true) {
            long at = nextSweepAt.get();
            if (at != 0 && at - deadline <= 0) {
                return; // a sweep already comes in time
            }
            if (nextSweepAt.compareAndSet(at, deadline)) {
                Timers.TIMER.schedule(() -> sweep(deadline), Math.max(0, deadline - System.nanoTime()),
                        TimeUnit.NANOSECONDS);
                return;
            }
        }
    }

    /** Fails the requests past their deadline and arms the next sweep for the earliest one left. */
    private void sweep(long scheduledFor) {
        if (!nextSweepAt.compareAndSet(scheduledFor, 0)) {
            return; // an earlier sweep was armed and took over
        }
        long now = System.nanoTime();
        long earliest = 0;
        boolean any = false;
        for (Map.Entry<Long, Pending> e : pending.entrySet()) {
            Pending p = e.getValue();
            if (p.deadline - now <= 0) {
                if (pending.remove(e.getKey(), p)) {
                    p.future.completeExceptionally(new TimeoutException("no reply from " + peerAddress + " to "
                            + p.what + " within " + Connection.format(p.timeout)));
                }
            } else if (!any || p.deadline - earliest < 0) {
                earliest = p.deadline;
                any = true;
            }
        }
        if (any) {
            armSweep(earliest);
        }
    }
}
