package dist.compress;

import java.util.Objects;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * Deflate in the zlib wrapper (whose Adler-32 checksum catches corruption) through the JDK's
 * {@link Deflater} and {@link Inflater}: denser and slower than {@link Lz4}.
 *
 * <pre>{@code
 * Compressor deflate = Deflate.DEFAULT;
 * byte[] packed = deflate.compress(text, 0, text.length);
 * }</pre>
 */
public final class Deflate implements Compressor {

    public static final byte ID = 2;
    /** Level 6, zlib's own default balance of speed and size. */
    public static final Deflate DEFAULT = new Deflate(Deflater.DEFAULT_COMPRESSION);

    /** Deflate's largest expansion: a 258-byte match from about a quarter of a byte, plus headers. */
    private static final long MAX_RATIO = 1032;
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 16;

    private final int level;

    /** @param level 1 (fastest) to 9 (smallest), or -1 for zlib's default */
    public Deflate(int level) {
        if (level != Deflater.DEFAULT_COMPRESSION && (level < 1 || level > 9)) {
            throw new IllegalArgumentException("deflate level must be 1..9 or -1 (default), got " + level);
        }
        this.level = level;
    }

    @Override
    public String name() {
        return "deflate";
    }

    @Override
    public byte id() {
        return ID;
    }

    @Override
    public int maxCompressedLength(int len) {
        if (len < 0) {
            throw new IllegalArgumentException("negative length " + len);
        }
        // zlib's deflateBound plus the wrapper's header and checksum, with room to spare
        long bound = (long) len + (len >>> 12) + (len >>> 14) + (len >>> 25) + 64;
        return (int) Math.min(MAX_ARRAY, bound);
    }

    @Override
    public long maxExpansion(int compressedLength) {
        return MAX_RATIO * compressedLength;
    }

    @Override
    public int compress(byte[] src, int off, int len, byte[] dst, int dstOff) {
        Objects.checkFromIndexSize(off, len, src.length);
        Objects.checkIndex(dstOff, dst.length + 1);
        Deflater d = new Deflater(level);
        try {
            d.setInput(src, off, len);
            d.finish();
            int n = 0;
            while (!d.finished()) {
                int room = dst.length - dstOff - n;
                if (room == 0) {
                    return -1;
                }
                n += d.deflate(dst, dstOff + n, room);
            }
            return n;
        } finally {
            d.end();
        }
    }

    @Override
    public int decompress(byte[] src, int off, int len, byte[] dst, int dstOff, int originalLength) {
        Objects.checkFromIndexSize(off, len, src.length);
        Objects.checkFromIndexSize(dstOff, originalLength, dst.length);
        Inflater inf = new Inflater();
        try {
            inf.setInput(src, off, len);
            int n = 0;
            while (n < originalLength) {
                int before = inf.getRemaining();
                int k = inf.inflate(dst, dstOff + n, originalLength - n);
                n += k;
                if (k == 0) {
                    if (inf.finished()) {
                        throw corrupt("ends after " + n + " bytes, not the declared " + originalLength);
                    }
                    if (inf.needsDictionary()) {
                        throw corrupt("asks for a preset dictionary, which this format never uses");
                    }
                    if (inf.needsInput()) {
                        throw corrupt("is truncated: its " + len + " bytes end after " + n + " of "
                                + originalLength + " output bytes");
                    }
                    if (inf.getRemaining() == before) {
                        throw corrupt("makes no progress at output byte " + n);
                    }
                }
            }
            if (!inf.finished()) {
                // the output is full: the stream must end here, with nothing more to give
                byte[] probe = new byte[1];
                if (inf.inflate(probe) > 0) {
                    throw corrupt("decodes to more than the declared " + originalLength + " bytes");
                }
                if (!inf.finished()) {
                    throw corrupt("is truncated: it ends before its checksum");
                }
            }
            if (inf.getRemaining() > 0) {
                throw corrupt("is followed by " + inf.getRemaining() + " stray bytes");
            }
            return originalLength;
        } catch (DataFormatException e) {
            throw new CorruptDataException("deflate stream is not valid zlib data: " + e.getMessage(), e);
        } finally {
            inf.end();
        }
    }

    private static CorruptDataException corrupt(String what) {
        return new CorruptDataException("deflate stream " + what);
    }

    @Override
    public String toString() {
        return "deflate(level " + level + ")";
    }
}
