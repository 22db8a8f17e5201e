package dist.security;

import dist.comm.Connection;
import dist.it.Processes;
import dist.protocol.Handshake;
import dist.protocol.HostileFrames;
import dist.protocol.Message;
import dist.protocol.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A scheduler process with a 256 MB heap under the memory attacks a review found: many peers that
 * announce big frames and stall, 2 GB announcements, compression bombs and a 140 MB long[] message.
 * It drops the hostile peers, runs out of nothing, and still serves an honest client.
 */
@Timeout(240)
class HostilePeersMemoryTest {

    static final Duration T = Duration.ofSeconds(60);

    private static SocketChannel handshaken(int port) throws IOException {
        SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
        writeAll(ch, Handshake.encode(Role.CLIENT, Handshake.VERSION));
        return ch;
    }

    private static void writeAll(SocketChannel ch, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Sends {@code bytes}; the peer may drop the connection before it has them all. */
    private static void writeUntilDropped(SocketChannel ch, byte[] bytes) {
        try {
            writeAll(ch, bytes);
        } catch (IOException dropped) {
            // the scheduler closed the connection part way: what the test expects
        }
    }

    /** True when the scheduler closed the connection: its handshake, then the end of the stream. */
    private static boolean dropped(SocketChannel ch) throws IOException {
        ch.socket().setSoTimeout((int) T.toMillis());
        InputStream in = ch.socket().getInputStream();
        byte[] sink = new byte[4096];
        try {
            while (true) {
                if (in.read(sink) < 0) {
                    return true;
                }
            }
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    @Test
    void aSmallHeapSchedulerDropsMemoryAttacksAndStillServes() throws Exception {
        List<SocketChannel> stalled = new ArrayList<>();
        try (Processes procs = new Processes()) {
            Processes.Proc scheduler = procs.dist("scheduler", "--port", "0", "--no-dashboard"); // -Xmx256m
            String address = scheduler.awaitLine(l -> l.startsWith("scheduler at: "), T)
                    .substring("scheduler at: ".length()).trim();
            int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
            try {
                // 80 peers announce 100 MB frames (within the limit), send 4 KB and go silent: together
                // they announced 8 GB to a 256 MB heap
                for (int i = 0; i < 80; i++) {
                    SocketChannel ch = handshaken(port);
                    stalled.add(ch);
                    writeAll(ch, HostileFrames.announcement(100_000_000));
                    writeAll(ch, new byte[4096]);
                }
                // 21-byte announcements of 2 GB frames, several at once: over the message limit
                List<SocketChannel> huge = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    SocketChannel ch = handshaken(port);
                    huge.add(ch);
                    writeAll(ch, HostileFrames.announcement(2_000_000_000L));
                }
                for (SocketChannel ch : huge) {
                    assertTrue(dropped(ch), "a peer that announced a 2 GB frame was not dropped");
                    ch.close();
                }
                // compression bombs: 2.1 MB that would be 2040 MiB, 0.94 MB that would be 900 MiB
                for (int blocks : new int[] {2040, 900}) {
                    try (SocketChannel ch = handshaken(port)) {
                        writeUntilDropped(ch, HostileFrames.compressedMessage(new byte[] {1},
                                HostileFrames.deflateBomb(blocks)));
                        assertTrue(dropped(ch), "a compression bomb of " + blocks + " MiB was not refused");
                    }
                }
                // a 140 MB long[] message
                try (SocketChannel ch = handshaken(port)) {
                    writeUntilDropped(ch, HostileFrames.plainMessage(List.of(HostileFrames.longArrayHeader(140_000_000))));
                    assertTrue(dropped(ch), "a 140 MB long[] message was not refused");
                }
                // an honest client is served while the 80 still hold their connections
                try (Connection c = Connection.connect(address, Role.CLIENT, SecNet.QUICK, SecNet.echo())) {
                    assertEquals(new Message.Ack(), c.request(new Message.RegisterClient("honest"))
                            .get(T.toSeconds(), TimeUnit.SECONDS));
                    assertInstanceOf(Message.WorkersReply.class, c.request(new Message.WorkersRequest())
                            .get(T.toSeconds(), TimeUnit.SECONDS));
                }
                assertTrue(scheduler.process.isAlive(), scheduler.output());
                String log = scheduler.output();
                assertFalse(log.contains("OutOfMemoryError"), log);
                assertTrue(log.contains("maxMessageBytes"), "the drops say why:\n" + log);
            } finally {
                for (SocketChannel ch : stalled) {
                    ch.close();
                }
            }
        }
    }
}
