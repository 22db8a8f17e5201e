package dist;

import dist.client.Arity;
import dist.protocol.Invokable;

/**
 * A function of 0 arguments that can run on a worker. Lambdas and method references
 * that target it are serializable (it extends {@link java.io.Serializable} through
 * {@link Invokable}), so they travel with the task.
 *
 * <pre>{@code
 * Fn0<Long> now = System::nanoTime;
 * Future<Long> f = client.submit(now);
 * }</pre>
 */
@FunctionalInterface
public interface Fn0<R> extends Invokable {

    R apply() throws Exception;

    @Override
    default Object invoke(Object[] args) throws Exception {
        Arity.check(this, args);
        return apply();
    }

    @Override
    default int arity() {
        return 0;
    }
}
