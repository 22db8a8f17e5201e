package dist;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** Small functions that run on workers on behalf of graphs, bags, queues and the executor. Internal. */
final class RemoteOps {
    private RemoteOps() {
    }

    static final Fn1<Object, Object> IDENTITY = RemoteOps::identity;
    static final Fn1<Callable<Object>, Object> CALL = RemoteOps::call;
    static final Fn2<Runnable, Object, Object> RUN = RemoteOps::run;

    static Object identity(Object x) {
        return x;
    }

    static Object call(Callable<Object> c) throws Exception {
        return c.call();
    }

    static Object run(Runnable r, Object result) {
        r.run();
        return result;
    }

    // ------------------------------------------------------------------ bag partitions

    static <T, R> List<R> mapPartition(Fn1<T, R> fn, List<T> part) throws Exception {
        List<R> out = new ArrayList<>(part.size());
        for (T t : part) {
            out.add(fn.apply(t));
        }
        return out;
    }

    static <T> List<T> filterPartition(Fn1<T, Boolean> keep, List<T> part) throws Exception {
        List<T> out = new ArrayList<>();
        for (T t : part) {
            if (Boolean.TRUE.equals(keep.apply(t))) {
                out.add(t);
            }
        }
        return out;
    }

    static <T, R> R foldPartition(Fn2<R, T, R> binop, Object initial, List<T> part) throws Exception {
        @SuppressWarnings("unchecked")
        R acc = (R) initial;
        for (T t : part) {
            acc = binop.apply(acc, t);
        }
        return acc;
    }

    /** Reduces a partition with no initial value; an empty partition gives {@link Empty}. */
    static <T> Object reducePartition(Fn2<T, T, T> binop, List<T> part) throws Exception {
        Object acc = Empty.INSTANCE;
        for (T t : part) {
            acc = acc instanceof Empty ? t : binop.apply(cast(acc), t);
        }
        return acc;
    }

    /** Combines partial results, skipping {@link Empty} ones. */
    static <R> Object combine(Fn2<R, R, R> combine, List<Object> partials) throws Exception {
        Object acc = Empty.INSTANCE;
        for (Object p : partials) {
            if (p instanceof Empty) {
                continue;
            }
            acc = acc instanceof Empty ? p : combine.apply(cast(acc), cast(p));
        }
        return acc;
    }

    static Object finish(Object reduced) {
        if (reduced instanceof Empty) {
            throw new java.util.NoSuchElementException("reduce of an empty bag has no value; use fold with an initial value");
        }
        return reduced;
    }

    static <T> List<T> concat(List<List<T>> parts) {
        List<T> out = new ArrayList<>();
        for (List<T> p : parts) {
            out.addAll(p);
        }
        return out;
    }

    static Number add(Number a, Number b) {
        if (isIntegral(a) && isIntegral(b)) {
            return Math.addExact(a.longValue(), b.longValue());
        }
        return a.doubleValue() + b.doubleValue();
    }

    private static boolean isIntegral(Number n) {
        return n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte;
    }

    static long countPlusOne(long acc, Object ignored) {
        return acc + 1;
    }

    static long addLongs(long a, long b) {
        return a + b;
    }

    @SuppressWarnings("unchecked")
    private static <X> X cast(Object o) {
        return (X) o;
    }

    /** The partial result of a partition with nothing in it. */
    enum Empty implements Serializable {
        INSTANCE
    }
}
