package dist.compress;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A payload cut into independently compressed blocks, the form a compressed frame takes on the wire.
 * Blocks bound the extra memory a sender needs (one block's scratch, never a second copy of a huge
 * payload) and let a block that does not compress travel as it is. Layout (big-endian):
 *
 * <pre>
 * u32 original length
 * per block of {@link #BLOCK_BYTES} original bytes (the last may be shorter):
 *   u32 bit 31 set: stored as is; bits 0..30: bytes that follow
 *   the block's bytes, compressed by the frame's codec unless stored
 * </pre>
 *
 * <pre>{@code
 * List<ByteBuffer> wire = CompressedFrame.pack(Compression.LZ4, payload);   // null: send it plain
 * byte[] back = CompressedFrame.unpack(Lz4.ID, received, 256 << 20);
 * }</pre>
 */
public final class CompressedFrame {

    /** Original bytes per block. */
    public static final int BLOCK_BYTES = 1 << 20;
    private static final int STORED = 0x8000_0000;

    private CompressedFrame() {
    }

    /**
     * The packed form of {@code payload} with {@code compression}'s codec, as buffers to write in
     * order (stored blocks are views of {@code payload}, not copies), or null when the payload should
     * travel plain: compression is off, the payload is small, its sample does not compress, or the
     * whole would not save 10%.
     */
    public static List<ByteBuffer> pack(Compression compression, byte[] payload) {
        int len = payload.length;
        if (!compression.sampleCompresses(payload, 0, len)) {
            return null;
        }
        Compressor codec = compression.codec();
        List<ByteBuffer> out = new ArrayList<>(2 + len / BLOCK_BYTES);
        out.add(ByteBuffer.allocate(4).putInt(0, len));
        long total = 4;
        long budget = len * 9L / 10;
        byte[] scratch = null;
        for (int at = 0; at < len; at += BLOCK_BYTES) {
            int n = Math.min(BLOCK_BYTES, len - at);
            // room for one byte less than the block: a block that does not shrink is stored
            if (scratch == null || scratch.length != 4 + n - 1) {
                scratch = new byte[4 + n - 1];
            }
            int c = codec.compress(payload, at, n, scratch, 4);
            if (c < 0) {
                out.add(ByteBuffer.allocate(4).putInt(0, STORED | n));
                out.add(ByteBuffer.wrap(payload, at, n));
                total += 4 + n;
            } else {
                // an exact copy: keeping the scratch would hold a block's worth per block
                byte[] block = java.util.Arrays.copyOf(scratch, 4 + c);
                ByteBuffer.wrap(block).putInt(0, c);
                out.add(ByteBuffer.wrap(block));
                total += 4 + c;
            }
            if (total > budget) {
                return null; // not worth it after all; the sample misjudged this payload
            }
        }
        return out;
    }

    /** Bytes in {@code buffers} (what {@link #pack} returned). */
    public static long length(List<ByteBuffer> buffers) {
        long n = 0;
        for (ByteBuffer b : buffers) {
            n += b.remaining();
        }
        return n;
    }

    /** Joins packed buffers into one array (for tests and for channels that want one array). */
    public static byte[] toArray(List<ByteBuffer> buffers) {
        long n = length(buffers);
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("packed frame of " + n + " bytes does not fit in one array");
        }
        byte[] all = new byte[(int) n];
        int p = 0;
        for (ByteBuffer b : buffers) {
            int r = b.remaining();
            b.duplicate().get(all, p, r);
            p += r;
        }
        return all;
    }

    /**
     * The original length a packed frame declares (its first four bytes), or -1 when it is too short
     * to declare one; read before {@link #unpack} so a caller can take room for it first.
     */
    public static long declaredLength(byte[] packed) {
        return packed.length < 4 ? -1 : Integer.toUnsignedLong(ByteBuffer.wrap(packed).getInt(0));
    }

    /**
     * The original length {@code packed} declares, once checked (nothing allocated): the codec is known,
     * the length is within {@code maxOriginalBytes} and within what the packed bytes can expand to.
     *
     * @throws CorruptDataException naming the check that failed
     */
    public static long checkedLength(int codecId, byte[] packed, long maxOriginalBytes) {
        Objects.requireNonNull(packed, "packed");
        Compressor codec = Compression.codecForId(codecId);
        if (codec == null) {
            throw new CorruptDataException("compressed frame names codec id " + codecId
                    + ", which this version does not know (known: " + Lz4.ID + " lz4, " + Deflate.ID + " deflate)");
        }
        if (packed.length < 4) {
            throw new CorruptDataException("compressed frame of " + packed.length
                    + " bytes is shorter than its 4-byte original length");
        }
        long original = declaredLength(packed);
        if (original > maxOriginalBytes) {
            throw new CorruptDataException("compressed frame declares " + original
                    + " original bytes, over the limit of " + maxOriginalBytes
                    + " (raise CommConfig.maxFrameBytes if the peer is trusted)");
        }
        long blocks = (original + BLOCK_BYTES - 1) / BLOCK_BYTES;
        long body = packed.length - 4 - 4 * blocks;
        if (body < 0 || original > Math.max(body, codec.maxExpansion((int) body))) {
            throw new CorruptDataException("compressed frame declares " + original + " original bytes, more than "
                    + packed.length + " " + codec.name() + " bytes can hold");
        }
        return original;
    }

    /** The block headers agree with the lengths, checked before the output is allocated. */
    private static void checkBlocks(ByteBuffer in, int packedLength, long original) {
        long p = 4;
        for (long at = 0; at < original; at += BLOCK_BYTES) {
            if (packedLength - p < 4) {
                throw new CorruptDataException("compressed frame ends before the header of the block at original byte "
                        + at + " of " + original);
            }
            int word = in.getInt((int) p);
            p += 4;
            int n = word & ~STORED;
            if (n > packedLength - p) {
                throw new CorruptDataException("compressed frame's block at original byte " + at + " announces "
                        + n + " bytes, but only " + (packedLength - p) + " follow");
            }
            long want = Math.min(BLOCK_BYTES, original - at);
            if ((word & STORED) != 0 && n != want) {
                throw new CorruptDataException("compressed frame's stored block at original byte " + at
                        + " holds " + n + " bytes, not " + want);
            }
            p += n;
        }
        if (p != packedLength) {
            throw new CorruptDataException("compressed frame has " + (packedLength - p)
                    + " stray bytes after its last block");
        }
    }

    /**
     * The original payload of a packed frame written with codec {@code codecId}.
     *
     * @param maxOriginalBytes the largest original length accepted, checked before anything is allocated
     * @throws CorruptDataException when the codec id is unknown, the declared length is over the limit or
     *                              over what the packed bytes can expand to, or any block is corrupt
     */
    public static byte[] unpack(int codecId, byte[] packed, long maxOriginalBytes) {
        long original = checkedLength(codecId, packed, maxOriginalBytes);
        Compressor codec = Compression.codecForId(codecId);
        ByteBuffer in = ByteBuffer.wrap(packed);
        checkBlocks(in, packed.length, original);
        byte[] out = new byte[(int) original];
        int p = 4;
        for (int at = 0; at < original; at += BLOCK_BYTES) {
            int want = (int) Math.min(BLOCK_BYTES, original - at);
            if (packed.length - p < 4) {
                throw new CorruptDataException("compressed frame ends before the header of the block at original byte "
                        + at + " of " + original);
            }
            int word = in.getInt(p);
            p += 4;
            int n = word & ~STORED;
            if (n > packed.length - p) {
                throw new CorruptDataException("compressed frame's block at original byte " + at + " announces "
                        + n + " bytes, but only " + (packed.length - p) + " follow");
            }
            if ((word & STORED) != 0) {
                if (n != want) {
                    throw new CorruptDataException("compressed frame's stored block at original byte " + at
                            + " holds " + n + " bytes, not " + want);
                }
                System.arraycopy(packed, p, out, at, n);
            } else {
                codec.decompress(packed, p, n, out, at, want);
            }
            p += n;
        }
        if (p != packed.length) {
            throw new CorruptDataException("compressed frame has " + (packed.length - p)
                    + " stray bytes after its last block");
        }
        return out;
    }
}
