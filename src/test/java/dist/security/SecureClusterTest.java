package dist.security;

import dist.SchedulerUnavailableException;
import dist.Client;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;
import dist.comm.CommConfig;
import dist.comm.Security;
import dist.it.Processes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/** The quickstart on a real cluster with TLS and a token; the CLI's warning; LocalCluster on loopback only. */
@Timeout(180)
class SecureClusterTest {

    private final Processes procs = new Processes();

    @AfterEach
    void cleanup() {
        procs.close();
    }

    static int square(int x) {
        return x * x;
    }

    static int neg(int x) {
        return -x;
    }

    static int inc(int x) {
        return x + 1;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    @Test
    void theQuickstartPassesWithTlsAndToken() throws Exception {
        Certs c = Certs.get();
        Path token = Files.createTempFile("dist-token", ".txt");
        Files.writeString(token, "quickstart-token-0123456789\n");
        try {
            Processes.Proc scheduler = procs.dist("scheduler", "--port", "0", "--token-file", token.toString(),
                    "--tls-ca-file", c.caPem.toString(), "--tls-cert", c.scheduler.certPem().toString(),
                    "--tls-key", c.scheduler.keyPem().toString(), "--require-encryption");
            String line = scheduler.awaitLine(l -> l.startsWith("scheduler at:"), Duration.ofSeconds(60));
            String address = line.substring("scheduler at:".length()).strip();
            assertFalse(scheduler.output().contains("WARNING"), scheduler.output());
            for (int i = 0; i < 2; i++) {
                Processes.Proc w = procs.dist("worker", address, "--nthreads", "1", "--token-file", token.toString(),
                        "--tls-ca-file", c.caPem.toString(), "--tls-cert", c.worker.certPem().toString(),
                        "--tls-key", c.worker.keyPem().toString(), "--require-encryption");
                w.awaitLine(l -> l.startsWith("registered with scheduler"), Duration.ofSeconds(60));
            }
            CommConfig secure = CommConfig.DEFAULT.withConnectTimeout(Duration.ofSeconds(20)).withSecurity(
                    Security.none().withTokenFile(token)
                            .withTls(c.caP12, c.client.p12(), null, Certs.PASSWORD).requireEncryption(true));
            try (Client client = Client.connect(address, secure)) {
                List<Future<Integer>> a = client.map(SecureClusterTest::square, IntStream.range(0, 10).boxed().toList());
                List<Future<Integer>> b = client.map(SecureClusterTest::neg, a);
                assertEquals(-285, client.submit(SecureClusterTest::sum, Futures.all(b)).result(Duration.ofSeconds(60)));
                assertEquals(List.of(0, 1, 4, 9, 16, 25, 36, 49, 64, 81), client.gather(a));
                assertEquals(11, client.submit(SecureClusterTest::inc, 10).result(Duration.ofSeconds(60)));
            }
            // without the token, or without TLS, the same scheduler refuses
            CommConfig noToken = secure.withSecurity(Security.none()
                    .withTls(c.caP12, c.client.p12(), null, Certs.PASSWORD));
            SchedulerUnavailableException e = assertThrows(SchedulerUnavailableException.class, () -> Client.connect(address, noToken).close());
            assertTrue(e.getMessage().contains("requires a token"), e.getMessage());
            CommConfig plain = secure.withSecurity(Security.none().withTokenFile(token));
            e = assertThrows(SchedulerUnavailableException.class, () -> Client.connect(address, plain).close());
            assertTrue(e.getMessage().contains("requires TLS"), e.getMessage());
        } finally {
            Files.deleteIfExists(token);
        }
    }

    @Test
    void theSchedulerWarnsWhenItListensBeyondLoopbackUnprotected() throws Exception {
        Processes.Proc open = procs.dist("scheduler", "--host", "0.0.0.0", "--port", "0", "--insecure");
        open.awaitLine(l -> l.startsWith("scheduler at:"), Duration.ofSeconds(60));
        String out = open.output();
        assertTrue(out.contains("WARNING") && out.contains("--token-file") && out.contains("--tls-cert"), out);

        Processes.Proc local = procs.dist("scheduler", "--port", "0");
        local.awaitLine(l -> l.startsWith("scheduler at:"), Duration.ofSeconds(60));
        assertFalse(local.output().contains("WARNING"), local.output());

        Processes.Proc badTls = procs.dist("scheduler", "--port", "0", "--tls-cert", "/no/such/cert.pem");
        assertEquals(2, badTls.awaitExit(Duration.ofSeconds(30)));
        assertTrue(badTls.output().contains("--tls-ca-file"), badTls.output());
    }

    @Test
    void localClusterListensOnLoopbackOnly() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).start();
             Client client = cluster.client()) {
            assertTrue(cluster.schedulerAddress().startsWith("127.0.0.1:"), cluster.schedulerAddress());
            List<String> workers = List.copyOf(client.ncores().keySet());
            assertEquals(2, workers.size());
            for (String w : workers) {
                assertTrue(w.startsWith("127.0.0.1:"), w);
            }
            // from another local address the ports are closed
            InetAddress other = nonLoopbackAddress();
            if (other != null) {
                List<String> all = new java.util.ArrayList<>(workers);
                all.add(cluster.schedulerAddress());
                for (String a : all) {
                    int port = Integer.parseInt(a.substring(a.lastIndexOf(':') + 1));
                    try (Socket s = new Socket()) {
                        assertThrows(IOException.class, () -> s.connect(new InetSocketAddress(other, port), 2000),
                                a + " is reachable on " + other);
                    }
                }
            }
        }
    }

    private static InetAddress nonLoopbackAddress() throws IOException {
        for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!ni.isUp() || ni.isLoopback()) {
                continue;
            }
            for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                    return a;
                }
            }
        }
        return null;
    }
}
