package dist.security;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.protocol.Envelope;
import dist.protocol.FrameWriter;
import dist.protocol.Handshake;
import dist.protocol.Message;
import dist.protocol.MessageCodec;
import dist.protocol.Role;
import dist.protocol.TaskOptions;
import dist.protocol.TaskSpec;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.serial.DecodeException;
import dist.serial.Registry;
import dist.serial.Serializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.Serializable;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The closed serializer: the scheduler (every message decoder) never loads or builds a user class. */
@Timeout(60)
class ClosedDecodingTest {

    /** Counts constructions: a decoder that builds one has run user code. */
    static final AtomicInteger BUILT = new AtomicInteger();

    record Tripwire(int x) {
        Tripwire {
            BUILT.incrementAndGet();
        }
    }

    enum Colour { RED }

    static final class UserFailure extends RuntimeException {
        UserFailure(String m) {
            super(m);
            BUILT.incrementAndGet();
        }
    }

    private final Serializer open = Serializer.defaults();
    private final Serializer closed = new Serializer(Registry.defaults().closed());

    @BeforeEach
    void reset() {
        BUILT.set(0);
    }

    @Test
    void userRecordsEnumsExceptionsAndLambdasAreRefusedUnbuilt() {
        byte[] record = open.encode(List.of(new Tripwire(1)));
        byte[] exception = open.encode(new UserFailure("boom"));
        byte[] en = open.encode(Colour.RED);
        byte[] lambda = open.encode((Supplier<Integer> & Serializable) () -> 42);
        BUILT.set(0);
        for (byte[] b : List.of(record, exception, en, lambda)) {
            DecodeException e = assertThrows(DecodeException.class, () -> closed.decode(b));
            assertTrue(e.getMessage().contains("refused") && e.getMessage().contains("opaque bytes"), e.getMessage());
        }
        assertEquals(0, BUILT.get(), "a refused class was constructed");
        // the open serializer of clients and workers still decodes them
        assertEquals(new Tripwire(1), ((List<?>) open.decode(record)).get(0));
    }

    @Test
    void jdkValuesAndProtocolRecordsStillDecode() {
        Object v = List.of(1, "two", java.util.Map.of("k", new byte[] {3}), new IllegalStateException("x"),
                java.util.concurrent.TimeUnit.SECONDS, new TaskSpec("k", new byte[] {1}, List.of(), 1, TaskOptions.DEFAULT));
        // written as MessageCodec writes: a closed writer keeps no identity, so nothing refers back
        List<?> back = (List<?>) closed.decode(closed.encode(v));
        assertEquals(6, back.size());
        assertInstanceOf(IllegalStateException.class, back.get(3));
        assertEquals(java.util.concurrent.TimeUnit.SECONDS, back.get(4));
        assertInstanceOf(TaskSpec.class, back.get(5));
        // an open writer refers back to a container met twice (the one empty List.of() here): refused
        DecodeException e = assertThrows(DecodeException.class, () -> closed.decode(open.encode(v)));
        assertTrue(e.getMessage().contains("back-reference is refused"), e.getMessage());
        assertEquals(List.of(1, "two"), closed.decode(open.encode(List.of(1, "two"))));
    }

    @Test
    void aMessageHeaderNamingAUserClassDoesNotDecode() {
        byte[] header = open.encode(new Tripwire(5));
        BUILT.set(0);
        DecodeException e = assertThrows(DecodeException.class, () -> MessageCodec.get().decode(List.of(header)));
        assertTrue(e.getMessage().contains(Tripwire.class.getName()), e.getMessage());
        assertEquals(0, BUILT.get());
    }

    @Test
    void theSchedulerDropsAHostileHeaderAndStoresPayloadsUndecoded() throws Exception {
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), SecNet.QUICK)) {
            int port = Integer.parseInt(s.address().substring(s.address().lastIndexOf(':') + 1));
            // a frame whose header names a user record: the connection drops, nothing is built
            byte[] header = open.encode(new Tripwire(9));
            BUILT.set(0);
            try (SocketChannel raw = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
                raw.write(ByteBuffer.wrap(Handshake.encode(Role.CLIENT, Handshake.VERSION)));
                for (ByteBuffer b : FrameWriter.encode(new Envelope(Envelope.Kind.ONE_WAY, 0, List.of(header)))) {
                    while (b.hasRemaining()) {
                        raw.write(b);
                    }
                }
                raw.socket().setSoTimeout(10_000);
                var in = raw.socket().getInputStream();
                byte[] sink = new byte[4096];
                int r;
                do {
                    r = in.read(sink);
                } while (r >= 0);
            }
            // a task whose call bytes hold a user record: stored and forwarded, never decoded here
            byte[] run = open.encode(new Tripwire(10));
            BUILT.set(0);
            try (Connection c = Connection.connect(s.address(), Role.CLIENT, SecNet.QUICK, SecNet.echo())) {
                assertEquals(new Message.Ack(), c.request(new Message.RegisterClient("c1")).get(10, TimeUnit.SECONDS));
                c.send(new Message.UpdateGraph("c1", List.of(new TaskSpec("t", run, List.of(), 0, TaskOptions.DEFAULT)),
                        List.of("t")));
                assertEquals(new Message.Ack(), c.request(new Message.RegisterClient("c1")).get(10, TimeUnit.SECONDS),
                        "the scheduler still serves");
            }
            assertEquals(0, BUILT.get(), "the scheduler built a user object");
        }
    }

    @Test
    void noJavaSerializationAndNoSerializerInTheScheduler() throws IOException {
        Path main = Path.of("src/main/java");
        try (Stream<Path> files = Files.walk(main)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String src = Files.readString(f);
                assertFalse(src.contains("ObjectInputStream") || src.contains("ObjectOutputStream"),
                        f + " uses Java serialization");
                if (f.toString().replace('\\', '/').contains("/dist/scheduler/")) {
                    assertFalse(src.contains("dist.serial.Serializer") || src.contains("new Serializer(")
                                    || src.contains("SerialReader"),
                            f + ": the scheduler must not decode user payloads");
                }
            }
        }
    }
}
