package dist.client;

import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Task keys: {@code prefix-hash} for pure calls (same call, same key, on any machine) and
 * {@code prefix-uuid} for impure ones. The prefix names the function, as dask does. Internal.
 */
public final class Keys {
    /** Hex characters of the hash: 128 bits, ample against accidental collisions. */
    static final int HASH_HEX_CHARS = 32;

    private Keys() {
    }

    /**
     * A function object that names its tasks' keys itself, as {@code name-index}, so the scheduler
     * can read an index from the key as dask reads it from a {@code (name, i)} key: the p2p
     * shuffle's outputs are {@code p2pShuffleUnpack-<j>-<hash>}. The name is used as it is.
     */
    public interface Named {
        String keyPrefix();
    }

    /**
     * The readable name of a function: the implementation method of a method reference
     * ({@code inc} for {@code Demo::inc}), {@code lambda} for a lambda, the simple class name otherwise.
     */
    public static String prefix(Object fn) {
        if (fn instanceof Named n) {
            return n.keyPrefix();
        }
        SerializedLambda sl = serializedLambda(fn);
        if (sl != null) {
            String m = sl.getImplMethodName();
            if (m.startsWith("lambda$")) {
                return "lambda";
            }
            if (m.equals("<init>") || m.equals("<clinit>")) {
                String owner = sl.getImplClass();
                return sanitize(owner.substring(owner.lastIndexOf('/') + 1));
            }
            return sanitize(m);
        }
        String simple = fn.getClass().getSimpleName();
        return sanitize(simple.isEmpty() ? fn.getClass().getName() : simple);
    }

    /**
     * {@code prefix-hash} where hash is 128 bits (32 hex digits) of a fast deterministic hash over
     * the prefix and {@code run}: equal on every machine for the same call. Not a cryptographic
     * hash: keys need to be unique among honest calls, and only trusted clients submit.
     */
    public static String pure(String prefix, byte[] run) {
        byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
        long h1 = 0x9E3779B97F4A7C15L ^ run.length;
        long h2 = 0xC2B2AE3D27D4EB4FL ^ p.length;
        for (byte b : p) {
            h1 = (h1 ^ b) * 0x100000001B3L;
        }
        h2 ^= h1;
        int i = 0;
        for (; i + 8 <= run.length; i += 8) {
            long w = (long) LONGS.get(run, i);
            h1 = Long.rotateLeft(h1 ^ mix(w), 27) * 0x9E3779B97F4A7C15L + 0x52DCE729;
            h2 = Long.rotateLeft(h2 ^ mix(w + 0x632BE59BD9B4E019L), 31) * 0xC2B2AE3D27D4EB4FL + 0x38495AB5;
        }
        long tail = 0;
        for (int k = 0; i < run.length; i++, k += 8) {
            tail |= (run[i] & 0xFFL) << k;
        }
        h1 = fmix(h1 ^ mix(tail) ^ h2);
        h2 = fmix(h2 ^ mix(tail ^ 0x165667B19E3779F9L) ^ h1);
        return prefix + "-" + HEX.toHexDigits(h1) + HEX.toHexDigits(h2);
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final HexFormat HEX = HexFormat.of();

    private static long mix(long w) {
        w *= 0x87C37B91114253D5L;
        w = Long.rotateLeft(w, 31);
        return w * 0x4CF5AD432745937FL;
    }

    private static long fmix(long k) {
        k ^= k >>> 33;
        k *= 0xFF51AFD7ED558CCDL;
        k ^= k >>> 33;
        k *= 0xC4CEB9FE1A85EC53L;
        return k ^ (k >>> 33);
    }

    /** Random once per process: keys of two processes differ in it. */
    private static final long PROCESS_HI;
    private static final long PROCESS_LO;
    private static final java.util.concurrent.atomic.AtomicLong UNIQUE = new java.util.concurrent.atomic.AtomicLong();

    static {
        java.security.SecureRandom r = new java.security.SecureRandom();
        PROCESS_HI = r.nextLong();
        PROCESS_LO = r.nextLong();
    }

    /**
     * {@code prefix-uuid}: a key no other call shares. The uuid is this process's random half and a
     * counter put through a bijective mix, so two calls never share one; UUID.randomUUID cost a lock and a
     * SecureRandom digest per task (4% of an in-process run's samples).
     */
    public static String unique(String prefix) {
        return prefix + "-" + new UUID(PROCESS_HI, fmix(PROCESS_LO + UNIQUE.getAndIncrement()));
    }

    /** The {@link SerializedLambda} javac gives a serializable lambda, or null for any other object. */
    static SerializedLambda serializedLambda(Object fn) {
        Class<?> c = fn.getClass();
        if (!c.isSynthetic() && !c.isHidden()) {
            return null;
        }
        try {
            Method m = c.getDeclaredMethod("writeReplace");
            m.setAccessible(true);
            return m.invoke(fn) instanceof SerializedLambda sl ? sl : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            // not a serializable lambda, or its module does not open it: fall back to the class name
            return null;
        }
    }

    private static String sanitize(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            b.append(Character.isLetterOrDigit(ch) || ch == '_' || ch == '.' ? ch : '_');
        }
        return b.isEmpty() ? "task" : b.toString();
    }
}
