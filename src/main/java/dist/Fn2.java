package dist;

import dist.client.Arity;
import dist.protocol.Invokable;

/**
 * A function of 2 arguments that can run on a worker. Lambdas and method references
 * that target it are serializable (it extends {@link java.io.Serializable} through
 * {@link Invokable}), so they travel with the task.
 *
 * <pre>{@code
 * Future<Integer> f = client.submit(Integer::sum, 1, 2);
 * }</pre>
 */
@FunctionalInterface
public interface Fn2<A, B, R> extends Invokable {

    R apply(A a, B b) throws Exception;

    @Override
    @SuppressWarnings("unchecked")
    default Object invoke(Object[] args) throws Exception {
        Arity.check(this, args);
        return apply((A) args[0], (B) args[1]);
    }

    @Override
    default int arity() {
        return 2;
    }
}
