package dist.client;

import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Task keys: {@code prefix-hash} for pure calls (same call, same key, on any machine) and
 * {@code prefix-uuid} for impure ones. The prefix names the function, as dask does. Internal.
 */
public final class Keys {
    /** Hex characters kept from the SHA-256 digest: 128 bits, ample against collisions. */
    static final int HASH_HEX_CHARS = 32;

    private Keys() {
    }

    /**
     * The readable name of a function: the implementation method of a method reference
     * ({@code inc} for {@code Demo::inc}), {@code lambda} for a lambda, the simple class name otherwise.
     */
    public static String prefix(Object fn) {
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

    /** {@code prefix-hash} where hash is the first 32 hex digits of SHA-256 over {@code run}. */
    public static String pure(String prefix, byte[] run) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM lacks SHA-256, which every Java SE runtime provides", e);
        }
        md.update(prefix.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        byte[] digest = md.digest(run);
        return prefix + "-" + HexFormat.of().formatHex(digest).substring(0, HASH_HEX_CHARS);
    }

    /** {@code prefix-uuid}: a key no other call shares. */
    public static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID();
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
