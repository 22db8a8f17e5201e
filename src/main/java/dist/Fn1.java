package dist;

import dist.client.Arity;
import dist.protocol.Invokable;

/**
 * A function of 1 argument that can run on a worker. Lambdas and method references
 * that target it are serializable (it extends {@link java.io.Serializable} through
 * {@link Invokable}), so they travel with the task.
 *
 * <pre>{@code
 * Fn1<Integer, Integer> inc = x -> x + 1;
 * Future<Integer> f = client.submit(inc, 10);
 * }</pre>
 */
@FunctionalInterface
public interface Fn1<A, R> extends Invokable {

    R apply(A a) throws Exception;

    @Override
    @SuppressWarnings("unchecked")
    default Object invoke(Object[] args) throws Exception {
        Arity.check(this, args);
        return apply((A) args[0]);
    }

    @Override
    default int arity() {
        return 1;
    }
}
