package dist.client;

import dist.Future;

import java.lang.System.Logger.Level;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Runs completion callbacks on virtual threads, away from the threads that read from the scheduler.
 * Internal: public for {@code dist.Future}.
 */
public final class Callbacks {
    private static final System.Logger LOG = System.getLogger("dist.client");
    private static final Executor VIRTUAL = r -> Thread.ofVirtual().name("dist-callback").start(r);

    private Callbacks() {
    }

    /** Calls {@code callback} with {@code future} once {@code state} is done. */
    public static <T> void whenDone(Future<T> future, KeyState state, Consumer<? super Future<T>> callback) {
        Objects.requireNonNull(callback, "callback");
        state.done.thenRunAsync(() -> {
            try {
                callback.accept(future);
            } catch (RuntimeException | Error e) {
                // a failing callback must not take others or the client down
                LOG.log(Level.WARNING, "a done-callback of " + future.key() + " threw", e);
            }
        }, VIRTUAL);
    }
}
