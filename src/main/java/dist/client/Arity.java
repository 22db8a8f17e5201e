package dist.client;

import dist.protocol.Invokable;

/** Argument-count checks shared by the function types. Internal. */
public final class Arity {
    private Arity() {
    }

    /** Throws a clear error when {@code args} does not match the function's arity. */
    public static void check(Invokable fn, Object[] args) {
        int n = args == null ? 0 : args.length;
        if (n != fn.arity()) {
            throw new IllegalArgumentException("function " + fn.getClass().getName() + " takes " + fn.arity()
                    + " argument(s) but was called with " + n);
        }
    }
}
