package dist.client;

import dist.Future;

import java.lang.System.Logger.Level;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Moves items from one queue to another through a step, on a virtual thread. Internal: public for
 * the queue methods of {@code dist.Submitter}.
 */
public final class QueuePump {
    private static final System.Logger LOG = System.getLogger("dist.client");
    /** How often an idle or blocked pump checks whether its client closed. */
    private static final long CHECK_MILLIS = 200;
    /** Marks an item the step chose to drop. */
    public static final Object SKIP = new Object();

    public interface Step<I, O> {
        O apply(I item) throws Exception;
    }

    private QueuePump() {
    }

    /**
     * A queue bounded like {@code in}, filled with {@code step(item)} for each item taken from {@code in},
     * until {@code closed} says the client closed.
     */
    @SuppressWarnings("unchecked")
    public static <I, O> BlockingQueue<O> start(BooleanSupplier closed, BlockingQueue<? extends I> in, String name,
                                                Step<I, ?> step) {
        java.util.Objects.requireNonNull(in, "queue");
        int remaining = in.remainingCapacity();
        BlockingQueue<O> out = remaining == Integer.MAX_VALUE ? new LinkedBlockingQueue<>()
                : new LinkedBlockingQueue<>(Math.max(1, remaining + in.size()));
        Thread.ofVirtual().name("dist-queue-" + name).start(() -> {
            try {
                while (!closed.getAsBoolean()) {
                    I item = in.poll(CHECK_MILLIS, TimeUnit.MILLISECONDS);
                    if (item == null) {
                        continue;
                    }
                    Object o;
                    try {
                        o = step.apply(item);
                    } catch (InterruptedException e) {
                        throw e;
                    } catch (Exception e) {
                        if (closed.getAsBoolean()) {
                            return;
                        }
                        LOG.log(Level.WARNING, "queue " + name + " dropped an item: " + e, e);
                        continue;
                    }
                    if (o == SKIP) {
                        continue;
                    }
                    if (o == null) {
                        LOG.log(Level.WARNING, "queue " + name + " dropped a null result: a queue cannot hold null");
                        continue;
                    }
                    while (!out.offer((O) o, CHECK_MILLIS, TimeUnit.MILLISECONDS)) {
                        if (closed.getAsBoolean()) {
                            return;
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return out;
    }

    /** The future's result, or {@link #SKIP} after logging its failure. */
    public static Object resultOrSkip(Future<?> f) throws InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException | IllegalStateException | dist.DistException e) {
            LOG.log(Level.WARNING, "gather from a queue skipped " + f.key() + ": " + e.getMessage());
            return SKIP;
        }
    }
}
