package dist;

import dist.client.Arity;
import dist.protocol.Invokable;

/**
 * A function of 5 arguments that can run on a worker. Lambdas and method references
 * that target it are serializable (it extends {@link java.io.Serializable} through
 * {@link Invokable}), so they travel with the task.
 *
 * <pre>{@code
 * Fn5<Integer, Integer, Integer, Integer, Integer, Integer> sum = (x, y, z, u, v) -> x + y + z + u + v;
 * Future<Integer> f = client.submit(sum, 1, 2, 3, 4, 5);
 * }</pre>
 */
@FunctionalInterface
public interface Fn5<A, B, C, D, E, R> extends Invokable {

    R apply(A a, B b, C c, D d, E e) throws Exception;

    @Override
    @SuppressWarnings("unchecked")
    default Object invoke(Object[] args) throws Exception {
        Arity.check(this, args);
        return apply((A) args[0], (B) args[1], (C) args[2], (D) args[3], (E) args[4]);
    }

    @Override
    default int arity() {
        return 5;
    }
}
