package dist.protocol;

import dist.compress.CompressedFrame;
import dist.compress.Compression;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Lays out an {@link Envelope} for a gathering write. Wire format (big-endian):
 *
 * <pre>
 * u32 frame count (n >= 1)
 * u8  kind        (0 one-way, 1 request, 2 reply)
 * u64 request id
 * u64 length of frame 0 .. u64 length of frame n-1   (top byte: codec id, 0 = plain; rest: bytes on the wire)
 * frame 0 bytes .. frame n-1 bytes
 * </pre>
 *
 * A payload frame (any but frame 0) encoded with a {@link Compression} that is worth it travels in the
 * {@link CompressedFrame} layout, its length word carrying the codec id in its top byte.
 *
 * The prefix and small frames share one array; every frame of at least {@link #INLINE_MAX} bytes is
 * wrapped, not copied, and cut into views of at most {@link #CHUNK} bytes so that one write call never
 * makes the JDK stage more than a chunk in a temporary direct buffer.
 *
 * <pre>{@code
 * ByteBuffer[] wire = FrameWriter.encode(new Envelope(Envelope.Kind.ONE_WAY, 0, List.of(header)));
 * while (remaining(wire) > 0) channel.write(wire);
 * }</pre>
 */
public final class FrameWriter {

    /** Frames shorter than this are copied next to the prefix; longer ones are written from their own array. */
    public static final int INLINE_MAX = 8 * 1024;

    /** Largest single buffer handed to the channel. */
    public static final int CHUNK = 256 << 10;

    static final int FIXED_PREFIX = 4 + 1 + 8;

    private FrameWriter() {
    }

    /** Bytes of the prefix for {@code frames} frames. */
    public static int prefixBytes(int frames) {
        return FIXED_PREFIX + 8 * frames;
    }

    /** Bits of a length word that hold the length; the top byte names the frame's codec. */
    public static final long LENGTH_MASK = (1L << 56) - 1;

    /** {@code envelope} with every frame plain. */
    public static ByteBuffer[] encode(Envelope envelope) {
        List<byte[]> frames = envelope.frames();
        int n = frames.size();
        // one block = prefix plus the small frames that follow it up to the first large one
        int first = prefixBytes(n);
        int i = 0;
        while (i < n && frames.get(i).length < INLINE_MAX) {
            first += frames.get(i).length;
            i++;
        }
        ByteBuffer head = ByteBuffer.allocate(first).order(ByteOrder.BIG_ENDIAN);
        head.putInt(n);
        head.put((byte) envelope.kind().ordinal());
        head.putLong(envelope.requestId());
        for (byte[] f : frames) {
            head.putLong(f.length);
        }
        for (int j = 0; j < i; j++) {
            head.put(frames.get(j));
        }
        head.flip();
        if (i == n) {
            return new ByteBuffer[] {head};
        }
        List<ByteBuffer> out = new ArrayList<>();
        out.add(head);
        while (i < n) {
            byte[] f = frames.get(i);
            if (f.length >= INLINE_MAX) {
                for (int off = 0; off < f.length; off += CHUNK) {
                    out.add(ByteBuffer.wrap(f, off, Math.min(CHUNK, f.length - off)));
                }
                i++;
                continue;
            }
            int size = 0;
            int j = i;
            while (j < n && frames.get(j).length < INLINE_MAX) {
                size += frames.get(j).length;
                j++;
            }
            ByteBuffer block = ByteBuffer.allocate(size);
            for (int k = i; k < j; k++) {
                block.put(frames.get(k));
            }
            out.add(block.flip());
            i = j;
        }
        return out.toArray(new ByteBuffer[0]);
    }

    /**
     * {@code envelope} with its payload frames (not frame 0) over {@link Compression#MIN_BYTES}
     * compressed where {@code compression} finds it worth it; the rest as {@link #encode(Envelope)}.
     */
    public static ByteBuffer[] encode(Envelope envelope, Compression compression) {
        List<byte[]> frames = envelope.frames();
        int n = frames.size();
        List<List<ByteBuffer>> packed = null;
        if (compression.enabled()) {
            for (int i = 1; i < n; i++) {
                List<ByteBuffer> p = frames.get(i).length > Compression.MIN_BYTES
                        ? CompressedFrame.pack(compression, frames.get(i)) : null;
                if (p != null) {
                    if (packed == null) {
                        packed = new ArrayList<>(java.util.Collections.nCopies(n, null));
                    }
                    packed.set(i, p);
                }
            }
        }
        if (packed == null) {
            return encode(envelope);
        }
        // the prefix alone, then every frame as views: messages with large payloads gain nothing from joining
        ByteBuffer head = ByteBuffer.allocate(prefixBytes(n)).order(ByteOrder.BIG_ENDIAN);
        head.putInt(n);
        head.put((byte) envelope.kind().ordinal());
        head.putLong(envelope.requestId());
        List<ByteBuffer> out = new ArrayList<>();
        out.add(head);
        long codec = (long) compression.codec().id() << 56;
        for (int i = 0; i < n; i++) {
            List<ByteBuffer> p = packed.get(i);
            if (p == null) {
                byte[] f = frames.get(i);
                head.putLong(f.length);
                for (int off = 0; off < f.length; off += CHUNK) {
                    out.add(ByteBuffer.wrap(f, off, Math.min(CHUNK, f.length - off)));
                }
            } else {
                head.putLong(codec | CompressedFrame.length(p));
                for (ByteBuffer b : p) {
                    for (int off = 0; off < b.remaining(); off += CHUNK) {
                        out.add(b.slice(b.position() + off, Math.min(CHUNK, b.remaining() - off)));
                    }
                }
            }
        }
        head.flip();
        return out.toArray(new ByteBuffer[0]);
    }

    /** Bytes left to write in {@code buffers}. */
    public static long remaining(ByteBuffer[] buffers) {
        long n = 0;
        for (ByteBuffer b : buffers) {
            n += b.remaining();
        }
        return n;
    }
}
