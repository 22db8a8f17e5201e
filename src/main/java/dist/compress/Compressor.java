package dist.compress;

import java.util.Arrays;
import java.util.Objects;

/**
 * A block compressor: one array in, one array out, no framing of its own. The decoder is told the
 * original length and never writes past it; every inconsistency is a {@link CorruptDataException}.
 * Implementations are stateless and thread-safe.
 *
 * <pre>{@code
 * Compressor lz4 = Lz4.INSTANCE;
 * byte[] packed = lz4.compress(data, 0, data.length);
 * byte[] back = lz4.decompress(packed, 0, packed.length, data.length, 64 << 20);
 * }</pre>
 */
public interface Compressor {

    /** Name used in configuration: "lz4", "deflate". */
    String name();

    /** Wire id, 1..127 (0 means "not compressed"). */
    byte id();

    /** An output size that always suffices for {@code len} input bytes (capped at the largest array). */
    int maxCompressedLength(int len);

    /**
     * Compresses {@code src[off, off+len)} into {@code dst} from {@code dstOff}, using at most
     * {@code dst.length - dstOff} bytes.
     *
     * @return the bytes written, or -1 when they do not fit (a caller can pass a small {@code dst} to
     *         give up early on data that does not compress well enough)
     */
    int compress(byte[] src, int off, int len, byte[] dst, int dstOff);

    /** Compresses {@code src[off, off+len)} into a new array of exactly the compressed size. */
    default byte[] compress(byte[] src, int off, int len) {
        Objects.checkFromIndexSize(off, len, src.length);
        byte[] dst = new byte[maxCompressedLength(len)];
        int n = compress(src, off, len, dst, 0);
        if (n < 0) {
            throw new IllegalStateException(name() + ": " + len + " bytes did not fit in their bound "
                    + dst.length);
        }
        return Arrays.copyOf(dst, n);
    }

    /**
     * Decodes {@code src[off, off+len)} into exactly {@code originalLength} bytes of {@code dst} from
     * {@code dstOff}. Bytes of {@code dst} outside that range are never touched.
     *
     * @return {@code originalLength}
     * @throws CorruptDataException when the input does not decode to exactly {@code originalLength} bytes
     */
    int decompress(byte[] src, int off, int len, byte[] dst, int dstOff, int originalLength);

    /**
     * Decodes into a new array of {@code originalLength} bytes, after checking that length against
     * {@code maxLength} and against what {@code len} input bytes can possibly expand to, so a lying
     * header cannot make this allocate much.
     *
     * @throws CorruptDataException when the length is negative or over a bound, or the input is corrupt
     */
    default byte[] decompress(byte[] src, int off, int len, int originalLength, long maxLength) {
        Objects.checkFromIndexSize(off, len, src.length);
        if (originalLength < 0 || originalLength > maxLength) {
            throw new CorruptDataException(name() + " data declares " + originalLength
                    + " original bytes, outside the allowed 0.." + maxLength);
        }
        if (originalLength > maxExpansion(len)) {
            throw new CorruptDataException(name() + " data declares " + originalLength + " original bytes from "
                    + len + " compressed bytes, more than " + name() + " can expand to (" + maxExpansion(len) + ")");
        }
        byte[] dst = new byte[originalLength];
        decompress(src, off, len, dst, 0, originalLength);
        return dst;
    }

    /** The most bytes {@code compressedLength} bytes can decode to in this format. */
    long maxExpansion(int compressedLength);
}
