package dist.comm;

import dist.protocol.Envelope;
import dist.protocol.FrameLimits;
import dist.protocol.FrameReader;
import dist.protocol.FrameWriter;
import dist.protocol.Message;
import dist.protocol.MessageCodec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A small message through the whole codec: Message to frames to wire bytes and back. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CodecBench {

    private final MessageCodec codec = MessageCodec.get();
    private final ByteBuffer wire = ByteBuffer.allocate(1 << 16);
    private final Replay channel = new Replay(wire);
    private final FrameReader reader = new FrameReader(channel, FrameLimits.DEFAULT);
    private final Message ping = new Message.Ping(123_456_789L);
    private Message compute;

    @Setup
    public void setUp() {
        compute = new Message.ComputeTask("inc-3f2a9c", new byte[200], Map.of("x-1", List.of("10.0.0.7:40211")),
                Map.of("x-1", 28L), 17);
    }

    @Benchmark
    public Message pingEncodeDecode() throws IOException {
        return roundTrip(ping);
    }

    @Benchmark
    public Message computeTaskEncodeDecode() throws IOException {
        return roundTrip(compute);
    }

    @Benchmark
    public ByteBuffer[] pingEncodeOnly() {
        return FrameWriter.encode(new Envelope(Envelope.Kind.REQUEST, 42, codec.encode(ping)));
    }

    private Message roundTrip(Message m) throws IOException {
        wire.clear();
        for (ByteBuffer b : FrameWriter.encode(new Envelope(Envelope.Kind.REQUEST, 42, codec.encode(m)))) {
            wire.put(b);
        }
        wire.flip();
        return codec.decode(reader.read().frames());
    }

    /** Hands out what was put in {@code src}, then reports nothing more until refilled. */
    private record Replay(ByteBuffer src) implements ReadableByteChannel {
        @Override
        public int read(ByteBuffer dst) {
            if (!src.hasRemaining()) {
                return 0;
            }
            int n = Math.min(dst.remaining(), src.remaining());
            ByteBuffer part = src.slice(src.position(), n);
            dst.put(part);
            src.position(src.position() + n);
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }
}
