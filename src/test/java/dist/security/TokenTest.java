package dist.security;

import dist.TcpRelay;
import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.Security;
import dist.comm.Server;
import dist.protocol.HandshakeException;
import dist.protocol.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The shared token over real sockets: the right one is served, a missing or wrong one is refused and logged. */
@Timeout(60)
class TokenTest {

    static final String TOKEN = "k7R2pZ0-the-cluster-token-9Qx";
    static final CommConfig WITH_TOKEN = SecNet.QUICK.withSecurity(Security.none().withToken(TOKEN));

    @Test
    void theSameTokenIsServed() throws Exception {
        try (Server s = SecNet.server(WITH_TOKEN); Connection c = SecNet.connect(s.port(), WITH_TOKEN)) {
            assertEquals(new Message.Ping(7), c.request(new Message.Ping(7)).get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aPeerWithoutTheTokenIsRefusedAndLoggedWithItsAddress() throws Exception {
        try (SecNet.LogCapture log = new SecNet.LogCapture(); Server s = SecNet.server(WITH_TOKEN)) {
            HandshakeException e = assertThrows(HandshakeException.class, () -> SecNet.connect(s.port(), SecNet.QUICK));
            assertTrue(e.getMessage().contains("requires a token") && e.getMessage().contains("DIST_TOKEN"),
                    e.getMessage());
            assertTrue(log.waitFor(Duration.ofSeconds(10), "refused peer 127.0.0.1:", "presented no token"),
                    log.lines.toString());
            assertTrue(s.connections().isEmpty());
        }
    }

    @Test
    void aWrongTokenIsRefusedAndLogged() throws Exception {
        CommConfig wrong = SecNet.QUICK.withSecurity(Security.none().withToken(TOKEN + "x"));
        try (SecNet.LogCapture log = new SecNet.LogCapture(); Server s = SecNet.server(WITH_TOKEN)) {
            HandshakeException e = assertThrows(HandshakeException.class, () -> SecNet.connect(s.port(), wrong));
            assertTrue(e.getMessage().contains("refused our token"), e.getMessage());
            assertTrue(log.waitFor(Duration.ofSeconds(10), "refused peer 127.0.0.1:", "wrong token"),
                    log.lines.toString());
            // and the honest client is still served
            try (Connection c = SecNet.connect(s.port(), WITH_TOKEN)) {
                assertEquals(new Message.Ping(1), c.request(new Message.Ping(1)).get(10, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void aClientWithATokenRefusesAServerWithout() throws Exception {
        try (Server s = SecNet.server(SecNet.QUICK)) {
            HandshakeException e = assertThrows(HandshakeException.class, () -> SecNet.connect(s.port(), WITH_TOKEN));
            assertTrue(e.getMessage().contains("presented no token"), e.getMessage());
        }
    }

    @Test
    void theTokenNeverCrossesTheWire() throws Exception {
        try (Server s = SecNet.server(WITH_TOKEN); TcpRelay relay = new TcpRelay(s.port(), true)) {
            try (Connection c = SecNet.connect(relay.port(), WITH_TOKEN)) {
                assertEquals(new Message.Ping(3), c.request(new Message.Ping(3)).get(10, TimeUnit.SECONDS));
            }
            String wire = new String(relay.recorded(), StandardCharsets.ISO_8859_1);
            assertTrue(wire.contains("DIST"), "the relay saw the handshake");
            assertFalse(wire.contains(TOKEN), "the token itself travelled");
        }
    }

    @Test
    void tokensComeFromAFileAndBadFilesAreNamed() throws Exception {
        Path f = Files.createTempFile("dist-token", ".txt");
        try {
            Files.writeString(f, "  " + TOKEN + "\n");
            CommConfig fromFile = SecNet.QUICK.withSecurity(Security.none().withTokenFile(f));
            try (Server s = SecNet.server(WITH_TOKEN); Connection c = SecNet.connect(s.port(), fromFile)) {
                assertEquals(new Message.Ping(2), c.request(new Message.Ping(2)).get(10, TimeUnit.SECONDS));
            }
            Files.writeString(f, "\n");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Security.none().withTokenFile(f));
            assertTrue(e.getMessage().contains("is empty") && e.getMessage().contains(f.toString()), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Security.none().withTokenFile(f.resolveSibling("no-such-token-file")));
            assertTrue(e.getMessage().contains("cannot read the token file"), e.getMessage());
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @Test
    void theSecurityDescriptionHidesTheToken() {
        String s = Security.none().withToken(TOKEN).toString();
        assertFalse(s.contains(TOKEN), s);
        assertTrue(s.contains("token=set"), s);
    }
}
