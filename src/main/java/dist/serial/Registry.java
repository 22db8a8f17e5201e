package dist.serial;

/**
 * What a {@link Serializer} may encode and decode beyond its built-in types: user codecs,
 * allow-listed classes, compact numeric aliases for frequent classes, and limits.
 *
 * <pre>{@code
 * Registry r = Registry.defaults()
 *     .register(Point.class, new PointCodec())
 *     .allow("com.acme.model.*");
 * Serializer s = new Serializer(r);
 * }</pre>
 */
public final class Registry {

    /** A new registry with the built-in types only. */
    public static Registry defaults() {
        throw new UnsupportedOperationException("not yet");
    }

    /** Adds a compact numeric alias for {@code type} (both ends must register the same alias). */
    public Registry alias(Class<?> type, int id) {
        throw new UnsupportedOperationException("not yet");
    }

    /** Allows a class ("com.acme.Point") or a package ("com.acme.*") to be encoded field by field. */
    public Registry allow(String classOrPackage) {
        throw new UnsupportedOperationException("not yet");
    }

    /** byte[] of at least this many bytes go out of band when the caller collects them. */
    public int oobThreshold() {
        throw new UnsupportedOperationException("not yet");
    }
}
