package dist.protocol;

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
 * u64 length of frame 0 .. u64 length of frame n-1
 * frame 0 bytes .. frame n-1 bytes
 * </pre>
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

    /** Bytes left to write in {@code buffers}. */
    public static long remaining(ByteBuffer[] buffers) {
        long n = 0;
        for (ByteBuffer b : buffers) {
            n += b.remaining();
        }
        return n;
    }
}
