package dist.security;

import dist.serial.Encoded;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.Security;
import dist.comm.Server;
import dist.protocol.HandshakeException;
import dist.protocol.Message;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Mutual TLS over real sockets, with certificates made by keytool at test time. */
@Timeout(120)
class TlsTest {

    static Certs certs;

    @BeforeAll
    static void makeCertificates() throws Exception {
        certs = Certs.get();
    }

    static Security pem(Certs.Role r) {
        return Security.none().withTls(certs.caPem, r.certPem(), r.keyPem());
    }

    static CommConfig config(Security s) {
        return SecNet.QUICK.withSecurity(s);
    }

    @Test
    void pemAndPkcs12PeersTalkAndLargeMessagesArriveIntact() throws Exception {
        CommConfig server = config(pem(certs.scheduler).requireEncryption(true));
        CommConfig client = config(Security.none().withTls(certs.caP12, certs.client.p12(), null, Certs.PASSWORD));
        CompletableFuture<byte[]> got = new CompletableFuture<>();
        try (Server s = Server.listen("127.0.0.1", 0, dist.protocol.Role.SCHEDULER, server, c -> (conn, m, id) -> {
            if (m instanceof Message.PutData p) {
                got.complete(p.data().get("x").head());
            } else if (id != 0) {
                conn.reply(id, m);
            }
        }); Connection c = SecNet.connect(s.port(), client)) {
            assertEquals(new Message.Ping(1), c.request(new Message.Ping(1)).get(10, TimeUnit.SECONDS));
            byte[] big = new byte[20 << 20];
            new Random(7).nextBytes(big);
            c.send(new Message.PutData(Map.of("x", Encoded.of(big))));
            assertArrayEquals(big, got.get(30, TimeUnit.SECONDS));
            for (int i = 0; i < 200; i++) {
                assertEquals(new Message.Ping(i), c.request(new Message.Ping(i)).get(10, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void aPlainPeerIsRefusedWhenEncryptionIsRequired() throws Exception {
        try (SecNet.LogCapture log = new SecNet.LogCapture();
             Server s = SecNet.server(config(pem(certs.scheduler).requireEncryption(true)))) {
            HandshakeException e = assertThrows(HandshakeException.class, () -> SecNet.connect(s.port(), SecNet.QUICK));
            assertTrue(e.getMessage().contains("requires TLS") && e.getMessage().contains("--tls-cert"), e.getMessage());
            assertTrue(log.waitFor(Duration.ofSeconds(10), "refused peer 127.0.0.1:", "requires encryption"),
                    log.lines.toString());
            assertTrue(s.connections().isEmpty());
        }
    }

    /** Configured TLS with no token and nothing said about plain peers: they are refused, not served unproven. */
    @Test
    void aTlsListenerWithoutATokenRefusesAPlainPeerUnlessToldOtherwise() throws Exception {
        try (SecNet.LogCapture log = new SecNet.LogCapture();
             Server s = SecNet.server(config(pem(certs.scheduler)));
             Connection tls = SecNet.connect(s.port(), config(pem(certs.worker)))) {
            HandshakeException e = assertThrows(HandshakeException.class, () -> SecNet.connect(s.port(), SecNet.QUICK));
            assertTrue(e.getMessage().contains("requires TLS"), e.getMessage());
            assertTrue(log.waitFor(Duration.ofSeconds(10), "refused peer 127.0.0.1:", "requires encryption"),
                    log.lines.toString());
            assertEquals(new Message.Ping(2), tls.request(new Message.Ping(2)).get(10, TimeUnit.SECONDS));
            assertEquals(1, s.connections().size(), "only the TLS peer is served");
        }
    }

    @Test
    void plainPeersAreServedOnlyWhenExplicitlyAllowedAndTheCaseIsLogged() throws Exception {
        Security allowing = pem(certs.scheduler).requireEncryption(false);
        assertFalse(allowing.authenticatesPeers());
        assertTrue(allowing.unauthenticatedCase().contains("plain peers are allowed"), allowing.unauthenticatedCase());
        assertTrue(pem(certs.scheduler).authenticatesPeers(), "TLS alone requires it of every peer");
        try (SecNet.LogCapture log = new SecNet.LogCapture();
             Server s = SecNet.server(config(allowing));
             Connection plain = SecNet.connect(s.port(), SecNet.QUICK);
             Connection tls = SecNet.connect(s.port(), config(pem(certs.worker)))) {
            assertEquals(new Message.Ping(1), plain.request(new Message.Ping(1)).get(10, TimeUnit.SECONDS));
            assertEquals(new Message.Ping(2), tls.request(new Message.Ping(2)).get(10, TimeUnit.SECONDS));
            assertTrue(log.waitFor(Duration.ofSeconds(10), "served plain peer 127.0.0.1:", "no token is set"),
                    log.lines.toString());
        }
    }

    @Test
    void aCertificateFromAnotherCaIsRefused() throws Exception {
        try (SecNet.LogCapture log = new SecNet.LogCapture();
             Server s = SecNet.server(config(pem(certs.scheduler).requireEncryption(true)))) {
            CommConfig rogue = config(Security.none().withTls(certs.dir.resolve("rogue-ca.pem"), certs.rogue.certPem(),
                    certs.rogue.keyPem()));
            HandshakeException e = assertThrows(HandshakeException.class, () -> SecNet.connect(s.port(), rogue));
            assertTrue(e.getMessage().contains("TLS failed"), e.getMessage());
            // the rogue trusting our CA still presents a certificate the listener does not trust
            CommConfig rogue2 = config(Security.none().withTls(certs.caPem, certs.rogue.certPem(), certs.rogue.keyPem()));
            assertThrows(HandshakeException.class, () -> SecNet.connect(s.port(), rogue2));
            assertTrue(log.waitFor(Duration.ofSeconds(10), "refused peer 127.0.0.1:", "TLS failed"), log.lines.toString());
            assertTrue(s.connections().isEmpty());
        }
    }

    @Test
    void aTlsClientWithoutACertificateIsRefused() throws Exception {
        try (SecNet.LogCapture log = new SecNet.LogCapture();
             Server s = SecNet.server(config(pem(certs.scheduler).requireEncryption(true)))) {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(Files.newInputStream(certs.caPem)));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            try (SSLSocket sock = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", s.port())) {
                sock.setSoTimeout(10_000);
                assertThrows(IOException.class, () -> {
                    sock.startHandshake();
                    sock.getOutputStream().write(dist.protocol.Handshake.encode(dist.protocol.Role.CLIENT,
                            dist.protocol.Handshake.VERSION));
                    sock.getOutputStream().flush();
                    if (sock.getInputStream().read() < 0) {
                        throw new IOException("closed");
                    }
                    sock.getInputStream().readNBytes(100);
                });
            }
            assertTrue(log.waitFor(Duration.ofSeconds(10), "refused peer 127.0.0.1:", "TLS failed"), log.lines.toString());
            assertTrue(s.connections().isEmpty());
        }
    }

    @Test
    void aTlsClientToAPlainListenerSaysSo() throws Exception {
        try (Server s = SecNet.server(SecNet.QUICK)) {
            HandshakeException e = assertThrows(HandshakeException.class,
                    () -> SecNet.connect(s.port(), config(pem(certs.client))));
            assertTrue(e.getMessage().contains("TLS"), e.getMessage());
        }
    }

    @Test
    void tlsAndTokenTogether() throws Exception {
        Security server = pem(certs.scheduler).withToken("tls-and-token-1234").requireEncryption(true);
        try (Server s = SecNet.server(config(server))) {
            try (Connection c = SecNet.connect(s.port(), config(pem(certs.client).withToken("tls-and-token-1234")))) {
                assertEquals(new Message.Ping(5), c.request(new Message.Ping(5)).get(10, TimeUnit.SECONDS));
            }
            HandshakeException e = assertThrows(HandshakeException.class,
                    () -> SecNet.connect(s.port(), config(pem(certs.client).withToken("another-token-00"))));
            assertTrue(e.getMessage().contains("refused our token"), e.getMessage());
        }
    }

    @Test
    void badFilesAreNamed() throws Exception {
        Path missing = certs.dir.resolve("missing.pem");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Security.none().withTls(certs.caPem, missing, certs.client.keyPem()));
        assertTrue(e.getMessage().contains("missing.pem"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Security.none().withTls(certs.caPem, certs.client.certPem(), certs.caPem));
        assertTrue(e.getMessage().contains("PRIVATE KEY"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Security.none().withTls(certs.caPem, certs.client.certPem(), null));
        assertTrue(e.getMessage().contains("--tls-key"), e.getMessage());
        IllegalStateException required = assertThrows(IllegalStateException.class,
                () -> SecNet.server(config(Security.none().requireEncryption(true))));
        assertTrue(required.getMessage().contains("--tls-cert"), required.getMessage());
    }
}
