package dist.protocol;

import dist.serial.DecodeException;
import dist.serial.Serializer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The bytes of a task's call ({@link TaskSpec#run()}): {@code [0xD1][varint n][n bytes: the
 * function][the arguments, a list]}. The function is encoded once per {@code map} and shared by
 * every task of it; a worker decodes a function once and keeps it, keyed by its bytes, so a
 * thousand tasks of one function cost one function decode.
 */
public final class RunCodec {
    private static final byte MAGIC = (byte) 0xD1;
    /** Decoded functions kept per worker; cleared when full (functions are few in practice). */
    private static final int CACHE_LIMIT = 4096;
    /** Bytes of function keys kept per worker: a function that captured a large value is large. */
    private static final long CACHE_BYTES = 64L << 20;

    private RunCodec() {
    }

    /** The function's own bytes, to pass to {@link #join} for each task. */
    public static byte[] encodeFunction(Serializer serializer, Invokable fn, UnaryOperator<Object> replacer) {
        return serializer.encode(fn, null, replacer);
    }

    /** A task's run bytes from its function's bytes and its arguments. */
    public static byte[] join(Serializer serializer, byte[] function, List<Object> args, UnaryOperator<Object> replacer) {
        byte[] a = serializer.encode(args instanceof ArrayList<?> ? args : new ArrayList<>(args), null, replacer);
        return joinEncoded(function, a);
    }

    /** Run bytes from a function's bytes and its already encoded argument list. */
    public static byte[] joinEncoded(byte[] function, byte[] a) {
        int n = function.length;
        int head = 1 + varintSize(n);
        byte[] run = new byte[head + n + a.length];
        run[0] = MAGIC;
        int p = 1;
        int v = n;
        while ((v & ~0x7F) != 0) {
            run[p++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        run[p] = (byte) v;
        System.arraycopy(function, 0, run, head, n);
        System.arraycopy(a, 0, run, head + n, a.length);
        return run;
    }

    /**
     * Where the function's bytes sit in {@code run}: {@code {offset, length}}, or null when the bytes
     * are not of this format (the scheduler then keeps them whole).
     */
    public static int[] functionSlice(byte[] run) {
        if (run == null || run.length < 2 || run[0] != MAGIC) {
            return null;
        }
        int p = 1;
        int n = 0;
        int shift = 0;
        while (true) {
            if (p >= run.length || shift > 28) {
                return null;
            }
            byte b = run[p++];
            n |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
            shift += 7;
        }
        return n < 0 || n > run.length - p ? null : new int[]{p, n};
    }

    private static int varintSize(int v) {
        int n = 1;
        while ((v & ~0x7F) != 0) {
            n++;
            v >>>= 7;
        }
        return n;
    }

    /** Decoded functions by their bytes: one per worker (or per class loader). */
    public static final class FunctionCache {
        private final Map<Bytes, Invokable> byBytes = new ConcurrentHashMap<>();
        private final java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();

        Invokable get(Bytes b) {
            return byBytes.get(b);
        }

        void put(Bytes b, Invokable fn) {
            if (b.len > CACHE_BYTES / 16) {
                return; // decoded again each time rather than held
            }
            if (byBytes.size() >= CACHE_LIMIT || bytes.get() + b.len > CACHE_BYTES) {
                byBytes.clear();
                bytes.set(0);
            }
            if (byBytes.put(b, fn) == null) {
                bytes.addAndGet(b.len);
            }
        }

        public int size() {
            return byBytes.size();
        }
    }

    /**
     * Decodes run bytes into the call: refs (futures given as arguments) resolve through
     * {@code refs}. A function that captured no future is taken from {@code cache} when seen before.
     *
     * @throws DecodeException when the bytes are not a run of this format or do not decode
     */
    public static TaskCall decode(Serializer serializer, byte[] run, ClassLoader loader,
                                  Function<String, Object> refs, FunctionCache cache) {
        if (run == null || run.length < 2 || run[0] != MAGIC) {
            throw new DecodeException("not a task's run bytes (expected the 0xD1 marker)");
        }
        int p = 1;
        int n = 0;
        int shift = 0;
        while (true) {
            if (p >= run.length || shift > 28) {
                throw new DecodeException("task run bytes: bad function length");
            }
            byte b = run[p++];
            n |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
            shift += 7;
        }
        if (n < 0 || n > run.length - p) {
            throw new DecodeException("task run bytes: function length " + n + " exceeds the " + (run.length - p)
                    + " bytes left");
        }
        Bytes key = new Bytes(run, p, n);
        Invokable fn = cache == null ? null : cache.get(key);
        if (fn == null) {
            int[] resolved = {0};
            Function<String, Object> counting = refs == null ? null : k -> {
                resolved[0]++;
                return refs.apply(k);
            };
            Object f = serializer.decode(run, p, n, null, loader, counting);
            if (!(f instanceof Invokable inv)) {
                throw new DecodeException("task run bytes: the function decoded to "
                        + (f == null ? "null" : f.getClass().getName()) + ", not a dist function type");
            }
            fn = inv;
            if (cache != null && resolved[0] == 0) {
                cache.put(key.copy(), fn); // a function holding resolved futures is per task
            }
        }
        Object a = serializer.decode(run, p + n, run.length - p - n, null, loader, refs);
        if (!(a instanceof List<?> list)) {
            throw new DecodeException("task run bytes: the arguments decoded to "
                    + (a == null ? "null" : a.getClass().getName()) + ", not a list");
        }
        @SuppressWarnings("unchecked")
        List<Object> args = (List<Object>) list;
        return new TaskCall(fn, args);
    }

    /** A slice of bytes compared by content. */
    static final class Bytes {
        private final byte[] array;
        private final int off;
        private final int len;
        private final int hash;

        Bytes(byte[] array, int off, int len) {
            this.array = array;
            this.off = off;
            this.len = len;
            int h = 1;
            for (int i = off; i < off + len; i++) {
                h = 31 * h + array[i];
            }
            this.hash = h;
        }

        Bytes copy() {
            byte[] c = new byte[len];
            System.arraycopy(array, off, c, 0, len);
            return new Bytes(c, 0, len);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Bytes b && b.len == len && b.hash == hash
                    && java.util.Arrays.equals(array, off, off + len, b.array, b.off, b.off + b.len);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
