package dist.protocol;

import java.io.Serializable;

/**
 * What a worker calls to run a task: every public function type ({@code dist.Fn0}..{@code dist.Fn6})
 * extends it and implements {@link #invoke} by casting the arguments to its own arity.
 */
public interface Invokable extends Serializable {

    /** Calls the function with {@code args} (already resolved: no futures or refs left). */
    Object invoke(Object[] args) throws Exception;

    /** How many arguments {@link #invoke} expects. */
    int arity();
}
