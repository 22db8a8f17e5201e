package dist.client;

import dist.Fn1;
import dist.Fn2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Small functions that run on workers on behalf of graphs, bags, queues and the executor. Internal:
 * public only so the API classes in {@code dist} can name them; not for users.
 */
public final class RemoteOps {
    private RemoteOps() {
    }

    public static final Fn1<Object, Object> IDENTITY = RemoteOps::identity;
    public static final Fn1<Callable<Object>, Object> CALL = RemoteOps::call;
    public static final Fn2<Runnable, Object, Object> RUN = RemoteOps::run;

    public static Object identity(Object x) {
        return x;
    }

    /** The task a queue's scatter makes for each item. */
    @SuppressWarnings("unchecked")
    public static <T> T scatterItem(Object item) {
        return (T) item;
    }

    public static Object call(Callable<Object> c) throws Exception {
        return c.call();
    }

    public static Object run(Runnable r, Object result) {
        r.run();
        return result;
    }

    // ------------------------------------------------------------------ bag partitions (untyped: Bag keeps the types)

    public static Object foldPartition(Fn2<Object, Object, Object> binop, Object initial, List<Object> part) throws Exception {
        Object acc = initial;
        for (Object t : part) {
            acc = binop.apply(acc, t);
        }
        return acc;
    }

    /** Reduces a partition with no initial value; an empty partition gives {@link Empty}. */
    public static Object reducePartition(Fn2<Object, Object, Object> binop, List<Object> part) throws Exception {
        Object acc = Empty.INSTANCE;
        for (Object t : part) {
            acc = acc instanceof Empty ? t : binop.apply(acc, t);
        }
        return acc;
    }

    /** Combines partial results, skipping {@link Empty} ones (all empty gives Empty). */
    public static Object combine(Fn2<Object, Object, Object> combine, List<Object> partials) throws Exception {
        Object acc = Empty.INSTANCE;
        for (Object p : partials) {
            if (p instanceof Empty) {
                continue;
            }
            acc = acc instanceof Empty ? p : combine.apply(acc, p);
        }
        return acc;
    }

    public static Object finish(Object reduced) {
        if (reduced instanceof Empty) {
            throw new java.util.NoSuchElementException("reduce of an empty bag has no value; use fold with an initial value");
        }
        return reduced;
    }

    /** Sum of two numbers: exact long arithmetic for integral types, double otherwise. */
    public static Object add(Object a, Object b) {
        Number x = (Number) a;
        Number y = (Number) b;
        if (isIntegral(x) && isIntegral(y)) {
            return Math.addExact(x.longValue(), y.longValue());
        }
        return x.doubleValue() + y.doubleValue();
    }

    private static boolean isIntegral(Number n) {
        return n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte;
    }

    public static Object countOne(Object acc, Object ignored) {
        return (Long) acc + 1;
    }

    @SuppressWarnings("unchecked")
    private static <X> X cast(Object o) {
        return (X) o;
    }

    /** The partial result of a partition with nothing in it. */
    public enum Empty implements Serializable {
        INSTANCE
    }
}
