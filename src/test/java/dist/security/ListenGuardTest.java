package dist.security;

import dist.SchedulerUnavailableException;
import dist.Client;
import dist.comm.CommConfig;
import dist.comm.Security;
import dist.it.Processes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The roles as real processes: none serves peers beyond loopback that need prove nothing unless told
 * to, and a scheduler with TLS but no token refuses plain peers unless plaintext is allowed, in which
 * case it says so.
 */
@Timeout(180)
class ListenGuardTest {
    private static final Duration T = Duration.ofSeconds(60);
    private final Processes procs = new Processes();

    @AfterEach
    void cleanup() {
        procs.close();
    }

    static int inc(int x) {
        return x + 1;
    }

    private static String address(Processes.Proc scheduler) throws Exception {
        return scheduler.awaitLine(l -> l.startsWith("scheduler at:"), T).substring("scheduler at:".length()).strip();
    }

    @Test
    void aTlsSchedulerWithoutATokenRefusesAPlainTokenlessPeer() throws Exception {
        Certs c = Certs.get();
        Processes.Proc scheduler = procs.dist("scheduler", "--port", "0", "--no-dashboard",
                "--tls-ca-file", c.caPem.toString(), "--tls-cert", c.scheduler.certPem().toString(),
                "--tls-key", c.scheduler.keyPem().toString());
        String address = address(scheduler);
        CommConfig plain = CommConfig.DEFAULT.withSecurity(Security.none()).withConnectTimeout(Duration.ofSeconds(10));
        SchedulerUnavailableException e = assertThrows(SchedulerUnavailableException.class, () -> Client.connect(address, plain).close());
        assertTrue(e.getMessage().contains("requires TLS"), e.getMessage());
        // a peer with a certificate of the cluster's CA is served
        CommConfig tls = plain.withSecurity(Security.none().withTls(c.caP12, c.client.p12(), null, Certs.PASSWORD));
        try (Client client = Client.connect(address, tls)) {
            assertTrue(client.ncores().isEmpty(), "served: no worker yet");
        }
        assertTrue(scheduler.process.isAlive(), scheduler.output());
        assertFalse(scheduler.output().contains("WARNING: the scheduler"), "nothing to warn of: " + scheduler.output());
        assertTrue(scheduler.output().contains("refused peer"), "the refusal is logged: " + scheduler.output());
    }

    @Test
    void allowingPlaintextExplicitlyServesPlainPeersAndWarnsNamingTheCase() throws Exception {
        Certs c = Certs.get();
        Processes.Proc scheduler = procs.dist("scheduler", "--port", "0", "--no-dashboard", "--allow-plaintext",
                "--tls-ca-file", c.caPem.toString(), "--tls-cert", c.scheduler.certPem().toString(),
                "--tls-key", c.scheduler.keyPem().toString());
        String address = address(scheduler);
        String out = scheduler.output();
        assertTrue(out.contains("WARNING") && out.contains("plain peers are allowed") && out.contains("no token"), out);
        CommConfig plain = CommConfig.DEFAULT.withSecurity(Security.none()).withConnectTimeout(Duration.ofSeconds(10));
        try (Client client = Client.connect(address, plain)) {
            assertTrue(client.ncores().isEmpty());
        }
        Processes.Proc contradiction = procs.dist("scheduler", "--port", "0", "--allow-plaintext",
                "--require-encryption", "--tls-ca-file", c.caPem.toString(), "--tls-cert",
                c.scheduler.certPem().toString(), "--tls-key", c.scheduler.keyPem().toString());
        assertEquals(2, contradiction.awaitExit(T), contradiction.output());
        assertTrue(contradiction.output().contains("contradict"), contradiction.output());
    }

    @Test
    void everyRoleRefusesToListenBeyondLoopbackWithNeitherTokenNorTls() throws Exception {
        Processes.Proc scheduler = procs.dist("scheduler", "--host", "0.0.0.0", "--port", "0");
        assertEquals(2, scheduler.awaitExit(T), scheduler.output());
        String out = scheduler.output();
        assertTrue(out.contains("0.0.0.0") && out.contains("--token-file") && out.contains("--insecure"), out);

        Processes.Proc worker = procs.dist("worker", "127.0.0.1:9", "--no-nanny", "--host", "0.0.0.0",
                "--contact-address", "127.0.0.1", "--connect-timeout", "1");
        assertEquals(2, worker.awaitExit(T), worker.output());
        assertTrue(worker.output().contains("--insecure"), worker.output());

        Processes.Proc nanny = procs.dist("nanny", "127.0.0.1:9", "--host", "0.0.0.0", "--contact-address",
                "127.0.0.1", "--connect-timeout", "1");
        assertEquals(2, nanny.awaitExit(T), nanny.output());
        assertTrue(nanny.output().contains("--insecure"), nanny.output());

        // the dashboard is plain HTTP: beyond loopback only with a token
        Processes.Proc dashboard = procs.dist("scheduler", "--port", "0", "--dashboard-host", "0.0.0.0");
        assertEquals(2, dashboard.awaitExit(T), dashboard.output());
        assertTrue(dashboard.output().contains("beyond this machine"), dashboard.output());
    }

    @Test
    void insecureListensAnywayAndWarnsAndATokenNeedsNoFlag() throws Exception {
        Processes.Proc open = procs.dist("scheduler", "--host", "0.0.0.0", "--port", "0", "--dashboard-port", "0",
                "--insecure");
        // its dashboard stays on loopback, having no token to ask for
        open.awaitLine(l -> l.startsWith("dashboard at: http://127.0.0.1:"), T);
        String out = open.output();
        assertTrue(out.contains("WARNING") && out.contains("--token-file") && out.contains("--tls-cert"), out);

        java.nio.file.Path token = java.nio.file.Files.createTempFile("dist-token", ".txt");
        try {
            java.nio.file.Files.writeString(token, "listen-guard-token-0123456789\n");
            Processes.Proc guarded = procs.dist("scheduler", "--host", "0.0.0.0", "--port", "0",
                    "--dashboard-port", "0", "--token-file", token.toString());
            guarded.awaitLine(l -> l.startsWith("dashboard at: http://0.0.0.0:"), T);
            assertFalse(guarded.output().contains("WARNING"), guarded.output());
        } finally {
            java.nio.file.Files.deleteIfExists(token);
        }
    }
}
