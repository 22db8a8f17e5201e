package dist.compress;

import java.util.Locale;
import java.util.Objects;

/**
 * Decides whether a payload travels compressed, as dask.distributed does: a payload over
 * {@link #MIN_BYTES} is compressed when that saves at least 10%. Larger payloads are judged first on a
 * sample, five 10 kB slices from spread positions, so incompressible data costs only the compression of
 * that 50 kB sample.
 *
 * <pre>{@code
 * Compression c = Compression.configured();          // -Ddist.comm.compression=lz4|deflate|none
 * byte[] packed = c.compressOrNull(data, 0, data.length);
 * if (packed != null) send(c.codec().id(), data.length, packed); else send(data);
 * }</pre>
 */
public final class Compression {

    /** System property naming the codec for outgoing payloads: lz4 (default), deflate or none. */
    public static final String PROPERTY = "dist.comm.compression";
    public static final String DEFAULT_NAME = "lz4";
    /** Only payloads longer than this are considered. */
    public static final int MIN_BYTES = 1024;
    public static final int SAMPLE_SLICE = 10 * 1024;
    public static final int SAMPLE_SLICES = 5;

    public static final Compression NONE = new Compression(null);
    public static final Compression LZ4 = new Compression(Lz4.INSTANCE);
    public static final Compression DEFLATE = new Compression(Deflate.DEFAULT);

    private static volatile Configured last = new Configured(DEFAULT_NAME, LZ4);

    private record Configured(String value, Compression compression) {
    }

    private final Compressor codec;

    /** @param codec the codec to use, or null to never compress */
    public Compression(Compressor codec) {
        this.codec = codec;
    }

    /**
     * The compression named "lz4", "deflate" or "none" (any case).
     *
     * @throws IllegalArgumentException for any other name
     */
    public static Compression named(String name) {
        Objects.requireNonNull(name, "name");
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "lz4" -> LZ4;
            case "deflate", "zlib" -> DEFLATE;
            case "none", "off", "" -> NONE;
            default -> throw new IllegalArgumentException("unknown compression '" + name
                    + "'; use one of lz4, deflate, none");
        };
    }

    /**
     * The compression the system property {@value #PROPERTY} names, read on every call (cheap: the
     * last answer is kept) so it can be changed at run time; lz4 when the property is unset.
     *
     * @throws IllegalArgumentException when the property names no known codec
     */
    public static Compression configured() {
        String value = System.getProperty(PROPERTY, DEFAULT_NAME);
        Configured c = last;
        if (c.value().equals(value)) {
            return c.compression();
        }
        Compression chosen;
        try {
            chosen = named(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("system property " + PROPERTY + "=" + value + " is not valid: "
                    + e.getMessage(), e);
        }
        last = new Configured(value, chosen);
        return chosen;
    }

    /** The codec with wire id {@code id}, or null when no codec has that id. */
    public static Compressor codecForId(int id) {
        return switch (id) {
            case Lz4.ID -> Lz4.INSTANCE;
            case Deflate.ID -> Deflate.DEFAULT;
            default -> null;
        };
    }

    /** The codec used, or null for none. */
    public Compressor codec() {
        return codec;
    }

    public boolean enabled() {
        return codec != null;
    }

    /** True when {@code compressed} bytes save at least 10% of {@code original}. */
    public static boolean saves(long compressed, long original) {
        return compressed * 10 <= original * 9;
    }

    /**
     * Whether compressing {@code data[off, off+len)} looks worth it. Payloads up to five slices are
     * their own sample, so this answers true for them and leaves the verdict to the full compression.
     */
    public boolean sampleCompresses(byte[] data, int off, int len) {
        Objects.checkFromIndexSize(off, len, data.length);
        if (codec == null || len <= MIN_BYTES) {
            return false;
        }
        int sampleBytes = SAMPLE_SLICE * SAMPLE_SLICES;
        if (len <= sampleBytes) {
            return true;
        }
        byte[] sample = new byte[sampleBytes];
        for (int i = 0; i < SAMPLE_SLICES; i++) {
            long at = off + (long) (len - SAMPLE_SLICE) * i / (SAMPLE_SLICES - 1);
            System.arraycopy(data, (int) at, sample, i * SAMPLE_SLICE, SAMPLE_SLICE);
        }
        // an output 10% short of the input: the codec gives up as soon as it cannot save that much
        return codec.compress(sample, 0, sampleBytes, new byte[sampleBytes * 9 / 10], 0) >= 0;
    }

    /**
     * {@code data[off, off+len)} compressed as one block of {@link #codec()}, or null when it is not
     * worth it: compression is off, the payload is at most {@link #MIN_BYTES}, the sample does not
     * compress, or the result would not save 10%.
     */
    public byte[] compressOrNull(byte[] data, int off, int len) {
        if (!sampleCompresses(data, off, len)) {
            return null;
        }
        byte[] dst = new byte[(int) (len * 9L / 10)];
        int n = codec.compress(data, off, len, dst, 0);
        return n < 0 ? null : java.util.Arrays.copyOf(dst, n);
    }

    @Override
    public String toString() {
        return codec == null ? "none" : codec.name();
    }
}
