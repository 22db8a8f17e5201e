package dist.security;

import dist.SchedulerUnavailableException;
import dist.Client;
import dist.comm.CommConfig;
import dist.comm.Security;
import dist.it.Processes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The ssh role on this machine, with a stand-in for ssh that runs the remote command here: the
 * cluster it starts asks every peer for a fresh token, which reached the remote processes through
 * the session's input (their environment), never through a command line.
 */
@Timeout(240)
class SshTokenTest {
    private static final Duration T = Duration.ofSeconds(90);
    private final Processes procs = new Processes();

    @TempDir
    Path tmp;

    @AfterEach
    void cleanup() {
        procs.close();
    }

    static int inc(int x) {
        return x + 1;
    }

    private static List<ProcessHandle> marked(String marker) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains("-Ddist-ssh-cluster=" + marker)).orElse(false))
                .toList();
    }

    @Test
    void theSshRoleGivesItsClusterATokenThroughTheSessionNotTheCommandLine() throws Exception {
        Path fakeSsh = tmp.resolve("fake-ssh");
        // stands in for ssh: the last argument is the remote command, run here with the session's input
        Files.writeString(fakeSsh, "#!/bin/sh\nfor last; do :; done\nexec /bin/sh -c \"$last\"\n");
        Files.setPosixFilePermissions(fakeSsh, PosixFilePermissions.fromString("rwx------"));
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        Processes.Proc role = procs.dist("ssh", "127.0.0.1", "--scheduler-port", String.valueOf(port),
                "--nthreads", "1", "--ssh-program", fakeSsh.toString(), "--jvm-options", "-Xmx200m");
        String marker = role.awaitLine(l -> l.startsWith("cluster "), T).split("[ :]")[1];
        String tokenLine = role.awaitLine(l -> l.startsWith("token for clients in "), T);
        Path tokenFile = Path.of(tokenLine.substring("token for clients in ".length()).split(" ")[0]);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)));
        String token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
        assertTrue(token.length() >= 32, token);
        String dashboard = role.awaitLine(l -> l.contains("dashboard at: http://0.0.0.0:"), T);
        int dashboardPort = Integer.parseInt(dashboard.replaceAll(".*http://0\\.0\\.0\\.0:(\\d+)/.*", "$1"));
        assertEquals("scheduler at: 127.0.0.1:" + port, role.awaitLine(l -> l.startsWith("scheduler at:"), T));
        String address = "127.0.0.1:" + port;

        // the token is in the remote processes' environment, in no command line
        List<ProcessHandle> cluster = marked(marker);
        assertFalse(cluster.isEmpty(), role.output());
        for (ProcessHandle p : ProcessHandle.allProcesses().toList()) {
            String line = p.info().commandLine().orElse("");
            assertFalse(line.contains(token), "the token shows in the command line of " + p.pid() + ": " + line);
        }
        String environ = Files.readString(Path.of("/proc/" + cluster.get(0).pid() + "/environ"),
                StandardCharsets.ISO_8859_1);
        assertTrue(environ.contains("DIST_TOKEN=" + token), "the remote process got the token in its environment");

        // without the token the scheduler refuses; with it the cluster works
        CommConfig none = CommConfig.DEFAULT.withSecurity(Security.none()).withConnectTimeout(Duration.ofSeconds(10));
        SchedulerUnavailableException refused = assertThrows(SchedulerUnavailableException.class, () -> Client.connect(address, none).close());
        assertTrue(refused.getMessage().contains("requires a token"), refused.getMessage());
        CommConfig withToken = none.withSecurity(Security.none().withTokenFile(tokenFile));
        try (Client client = Client.connect(address, withToken)) {
            assertTrue(dist.Wait.until(T, () -> {
                try {
                    return client.ncores().size() == 1;
                } catch (Exception e) {
                    return false;
                }
            }), role.output());
            assertEquals(11, client.submit(SshTokenTest::inc, 10).result(T));
        }
        // and so does its dashboard, which listens beyond loopback only because the token guards it
        HttpClient http = HttpClient.newHttpClient();
        URI status = URI.create("http://127.0.0.1:" + dashboardPort + "/api/status");
        assertEquals(401, http.send(HttpRequest.newBuilder(status).timeout(T).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode());
        assertEquals(200, http.send(HttpRequest.newBuilder(status).header("Authorization", "Bearer " + token)
                .timeout(T).build(), HttpResponse.BodyHandlers.discarding()).statusCode());

        // SIGTERM stops every process of the cluster (through the handle: Process.destroy would close the pipe too)
        role.process.toHandle().destroy();
        role.awaitExit(T);
        assertTrue(role.output().contains("cluster " + marker + " stopped"), role.output());
        assertTrue(dist.Wait.until(T, () -> marked(marker).isEmpty()), "left running: " + marked(marker));
        assertFalse(Files.exists(tokenFile), "the token file goes with the cluster");
    }
}
