package dist.security;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.ConnectionClosedException;
import dist.comm.EventLoop;
import dist.comm.Handler;
import dist.comm.Security;
import dist.comm.Server;
import dist.comm.StalledPeerException;
import dist.protocol.Message;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Over TLS too, a send never waits for the peer: ciphertext the socket does not take waits for the writer. */
@Timeout(120)
class TlsStalledPeerTest {

    static Certs certs;
    static final byte[] CHUNK = new byte[64 << 10];

    @BeforeAll
    static void makeCertificates() throws Exception {
        certs = Certs.get();
        new Random(3).nextBytes(CHUNK);
    }

    static CommConfig config(Certs.Role r, Duration write, long queueBytes) {
        return SecNet.QUICK.withSecurity(Security.none().withTls(certs.caPem, r.certPem(), r.keyPem())
                        .requireEncryption(true))
                .withLiveness(new CommConfig.Liveness(write, queueBytes, Duration.ofSeconds(10), Duration.ofSeconds(60)));
    }

    static Message chunk(int i) {
        return new Message.KeyInMemory("k" + i, List.of(), CHUNK.length, CHUNK);
    }

    @Test
    void sendsToATlsPeerThatStoppedReadingReturnAndItIsDroppedPastTheWriteDeadline() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (Server s = Server.listen("127.0.0.1", 0, dist.protocol.Role.SCHEDULER,
                config(certs.scheduler, Duration.ofSeconds(1), 64L << 20), c -> (conn, m, id) -> {
                    try {
                        release.await(60, TimeUnit.SECONDS); // its reader stops: the peer reads nothing more
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                })) {
            LinkedBlockingQueue<Object> closed = new LinkedBlockingQueue<>();
            Connection c = Connection.connect("127.0.0.1:" + s.port(), dist.protocol.Role.CLIENT,
                    config(certs.client, Duration.ofSeconds(1), 64L << 20), new Handler() {
                        @Override
                        public void onMessage(Connection connection, Message message, long requestId) {
                        }

                        @Override
                        public void onClose(Connection connection, Throwable cause) {
                            closed.add(cause == null ? "clean" : cause);
                        }
                    });
            try {
                CompletableFuture<Integer> sent = new CompletableFuture<>();
                EventLoop<Integer> loop = new EventLoop<>(batch -> {
                    int i = 0;
                    try {
                        for (; i < 400; i++) {
                            c.send(chunk(i));
                        }
                    } catch (ConnectionClosedException e) {
                        // dropped meanwhile
                    }
                    sent.complete(i);
                }, 16);
                Thread.ofVirtual().start(() -> loop.submit(1));
                assertEquals(400, sent.get(20, TimeUnit.SECONDS), "every send returned");
                Object cause = closed.poll(20, TimeUnit.SECONDS);
                assertInstanceOf(StalledPeerException.class, cause, String.valueOf(cause));
                assertTrue(((Throwable) cause).getMessage().contains("did not read for 1 s"),
                        ((Throwable) cause).getMessage());
            } finally {
                release.countDown();
                c.abort(new java.io.IOException("test over"));
            }
        }
    }

    @Test
    void aSlowTlsReaderGetsEveryChunkIntactAndInOrder() throws Exception {
        LinkedBlockingQueue<Integer> got = new LinkedBlockingQueue<>();
        try (Server s = Server.listen("127.0.0.1", 0, dist.protocol.Role.SCHEDULER,
                config(certs.scheduler, Duration.ofSeconds(2), 256 << 10), c -> (conn, m, id) -> {
                    if (m instanceof Message.KeyInMemory k) {
                        try {
                            Thread.sleep(10);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        got.add(Arrays.equals(k.value(), CHUNK) ? Integer.parseInt(k.key().substring(1)) : -1);
                    } else if (id != 0) {
                        conn.reply(id, m);
                    }
                });
             Connection c = Connection.connect("127.0.0.1:" + s.port(), dist.protocol.Role.CLIENT,
                     config(certs.client, Duration.ofSeconds(2), 256 << 10), SecNet.echo())) {
            for (int i = 0; i < 150; i++) {
                c.send(chunk(i));
            }
            for (int i = 0; i < 150; i++) {
                assertEquals(i, got.poll(20, TimeUnit.SECONDS), "chunk " + i);
            }
            assertEquals(new Message.Ping(1), c.request(new Message.Ping(1)).get(10, TimeUnit.SECONDS));
            assertTrue(c.isOpen());
        }
    }
}
