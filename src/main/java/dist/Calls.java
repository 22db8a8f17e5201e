package dist;

import dist.client.KeyCancellation;
import dist.client.KeyFailure;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * Turns what the client's core throws (the JDK's checked exceptions) into the API's unchecked ones:
 * one place, so every operation reports a timeout, an interrupt, a lost scheduler, a failed or a
 * cancelled task the same way.
 */
final class Calls {
    /** The setting behind every request to the scheduler or a worker. */
    static final String REQUEST_TIMEOUT = "dist.comm.request-timeout, or CommConfig.requestTimeout at Client.connect";

    private Calls() {
    }

    /** An operation of the client's core. */
    interface Op<T> {
        T run() throws InterruptedException, ExecutionException, TimeoutException;
    }

    /** An operation with no result. */
    interface VoidOp {
        void run() throws InterruptedException, ExecutionException, TimeoutException;
    }

    /** Where an operation ran: the scheduler's address and, once it is gone for good, why. */
    interface Link {
        String address();

        /** Non-null when the client is closed or lost its scheduler past the reconnect window. */
        String gone();
    }

    static <T> T call(Link link, String operation, Duration deadline, String setBy, Op<T> op) {
        try {
            return op.run();
        } catch (InterruptedException e) {
            throw interrupted(operation, e);
        } catch (TimeoutException e) {
            throw new DistTimeoutException(operation, deadline, setBy, e.getMessage(), e);
        } catch (ExecutionException e) {
            throw failed(link, operation, e);
        } catch (CancellationException e) {
            throw cancelled(e);
        }
    }

    static void exec(Link link, String operation, Duration deadline, String setBy, VoidOp op) {
        call(link, operation, deadline, setBy, () -> {
            op.run();
            return null;
        });
    }

    static DistInterruptedException interrupted(String operation, InterruptedException e) {
        return new DistInterruptedException("interrupted while waiting for " + operation, e);
    }

    static TaskCancelledException cancelled(CancellationException e) {
        String key = e instanceof KeyCancellation k ? k.key : null;
        return new TaskCancelledException(key, e.getMessage(), e);
    }

    /** A failed task, a lost scheduler, or a failure the cluster reported for {@code operation}. */
    static DistException failed(Link link, String operation, ExecutionException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        if (e instanceof KeyFailure k) {
            return k.lost ? new SchedulerUnavailableException(link.address(), e.getMessage(), cause)
                    : new TaskFailedException(k.key, cause);
        }
        if (cause instanceof SchedulerUnavailableException s) {
            return s;
        }
        String gone = link.gone();
        if (gone != null) {
            return new SchedulerUnavailableException(link.address(), operation + " failed: " + gone, cause);
        }
        String m = e.getMessage();
        boolean ownMessage = m != null && !m.equals(String.valueOf(cause));
        return new DistException(ownMessage ? m : operation + " failed: " + cause.getMessage(), cause);
    }
}
