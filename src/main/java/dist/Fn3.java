package dist;

import dist.client.Arity;
import dist.protocol.Invokable;

/**
 * A function of 3 arguments that can run on a worker. Lambdas and method references
 * that target it are serializable (it extends {@link java.io.Serializable} through
 * {@link Invokable}), so they travel with the task.
 *
 * <pre>{@code
 * Fn3<Integer, Integer, Integer, Integer> sum = (x, y, z) -> x + y + z;
 * Future<Integer> f = client.submit(sum, 1, 2, 3);
 * }</pre>
 */
@FunctionalInterface
public interface Fn3<A, B, C, R> extends Invokable {

    R apply(A a, B b, C c) throws Exception;

    @Override
    @SuppressWarnings("unchecked")
    default Object invoke(Object[] args) throws Exception {
        Arity.check(this, args);
        return apply((A) args[0], (B) args[1], (C) args[2]);
    }

    @Override
    default int arity() {
        return 3;
    }
}
