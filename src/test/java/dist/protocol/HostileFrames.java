package dist.protocol;

import dist.compress.Deflate;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.List;

/** Hostile wire bytes for tests: frame announcements, compression bombs, headers that expand. */
public final class HostileFrames {

    /** Bytes of one original block of a compressed frame. */
    public static final int BLOCK = 1 << 20;
    /** The type tag of a long[] in the serializer's format. */
    static final int LONGS_TAG = 17;

    private HostileFrames() {
    }

    /** The 21 bytes that announce a one-frame message whose frame has {@code length} bytes. */
    public static byte[] announcement(long length) {
        return ByteBuffer.allocate(21).putInt(1).put((byte) 0).putLong(0).putLong(length).array();
    }

    /**
     * A compressed frame (the {@link dist.compress.CompressedFrame} layout, deflate) of {@code blocks}
     * blocks of 1 MiB of zeros: about 1 KiB each on the wire, {@code blocks} MiB once decompressed.
     */
    public static byte[] deflateBomb(int blocks) {
        byte[] block = Deflate.DEFAULT.compress(new byte[BLOCK], 0, BLOCK);
        ByteBuffer b = ByteBuffer.allocate(4 + blocks * (4 + block.length));
        b.putInt((int) ((long) blocks * BLOCK));
        for (int i = 0; i < blocks; i++) {
            b.putInt(block.length).put(block);
        }
        return b.array();
    }

    /** A one-way message: a plain header frame, then {@code packed} as a frame compressed with deflate. */
    public static byte[] compressedMessage(byte[] header, byte[] packed) {
        ByteBuffer b = ByteBuffer.allocate(FrameWriter.prefixBytes(2) + header.length + packed.length);
        b.putInt(2).put((byte) 0).putLong(0).putLong(header.length)
                .putLong((long) Deflate.ID << 56 | packed.length).put(header).put(packed);
        return b.array();
    }

    /** A header frame holding one long[] of {@code n} zeros, each a one-byte varint: n + 6 bytes. */
    public static byte[] longArrayHeader(int n) {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        head.write(LONGS_TAG);
        long v = n;
        while ((v & ~0x7FL) != 0) {
            head.write((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        head.write((int) v);
        byte[] h = head.toByteArray();
        byte[] frame = new byte[h.length + n];
        System.arraycopy(h, 0, frame, 0, h.length);
        return frame;
    }

    /** The wire bytes of a one-way message with these frames, all plain. */
    public static byte[] plainMessage(List<byte[]> frames) {
        ByteBuffer[] parts = FrameWriter.encode(new Envelope(Envelope.Kind.ONE_WAY, 0, frames));
        ByteBuffer all = ByteBuffer.allocate((int) FrameWriter.remaining(parts));
        for (ByteBuffer p : parts) {
            all.put(p);
        }
        return all.array();
    }

    /** Bytes this thread has allocated so far (HotSpot counts them per thread). */
    public static long allocatedByThisThread() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
