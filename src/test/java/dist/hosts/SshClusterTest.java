package dist.hosts;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code dist ssh} against real sshd daemons (Debian's openssh-server, installed when missing)
 * on three test hosts, started from a fourth: the quickstart runs on the cluster it made, and
 * SIGINT to the ssh role leaves no remote process behind.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class SshClusterTest {
    static final Duration T = Duration.ofSeconds(60);
    static NetHosts net;
    static Path dir;

    @BeforeAll
    static void hostsWithSshd() throws Exception {
        String why = NetHosts.unavailableReason();
        Assumptions.assumeTrue(why == null, why);
        String noSshd = ensureSshd();
        Assumptions.assumeTrue(noSshd == null, noSshd);
        dir = Files.createTempDirectory("dist-ssh-test");
        net = NetHosts.create(4);
        net.sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("host_key").toString());
        net.sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("user_key").toString());
        Files.copy(dir.resolve("user_key.pub"), dir.resolve("authorized_keys"));
        Files.createDirectories(Path.of("/run/sshd")); // sshd's privilege separation directory
        for (int i = 0; i < 3; i++) {
            NetHosts.Host h = net.host(i);
            NetHosts.Proc sshd = net.exec(h, List.of("/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null",
                    "-h", dir.resolve("host_key").toString(),
                    "-o", "ListenAddress=" + h.address(), "-o", "Port=22",
                    "-o", "AuthorizedKeysFile=" + dir.resolve("authorized_keys"),
                    "-o", "PermitRootLogin=prohibit-password", "-o", "PasswordAuthentication=no",
                    "-o", "StrictModes=no", "-o", "UsePAM=no", "-o", "PidFile=none"));
            sshd.awaitLine(l -> l.contains("Server listening on " + h.address()), T);
        }
    }

    /** Null when sshd is there (installing Debian's openssh-server if needed), else why not. */
    static String ensureSshd() throws IOException, InterruptedException {
        if (Files.isExecutable(Path.of("/usr/sbin/sshd"))) {
            return null;
        }
        if (!Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
            return "no /usr/sbin/sshd and no apt-get to install openssh-server";
        }
        for (List<String> cmd : List.of(List.of("apt-get", "update", "-qq"),
                List.of("apt-get", "install", "-y", "-qq", "--no-install-recommends", "openssh-server"))) {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Process p = pb.start();
            if (!p.waitFor(90, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return String.join(" ", cmd) + " did not finish within 90 s";
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin/sshd")) ? null
                : "openssh-server could not be installed with apt-get (offline?); the ssh role test needs sshd";
    }

    @AfterAll
    static void removeHosts() throws IOException {
        if (net != null) {
            net.close();
        }
        if (dir != null) {
            try (var s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    static List<ProcessHandle> marked(String marker) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains("-Ddist-ssh-cluster=" + marker)).orElse(false))
                .toList();
    }

    @Test
    void aClusterStartedOverSshRunsTheQuickstartAndCtrlCStopsEveryRemoteProcess() throws Exception {
        Path hostfile = dir.resolve("hosts");
        Files.writeString(hostfile, "# scheduler first\ndhost1\n\nroot@dhost2   # a worker\ndhost3\n");
        // the cluster asks every peer for its token: the program below gets it from the same file
        Path token = Files.writeString(dir.resolve("token"), "ssh-cluster-token-0123456789\n");
        NetHosts.Proc role = net.java(net.host(3), List.of(), "dist.Main", "ssh", "--hostfile", hostfile.toString(),
                "--scheduler-port", "8790", "--nthreads", "1", "--token-file", token.toString(),
                "--ssh-private-key", dir.resolve("user_key").toString(),
                "--ssh-options", "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR");
        String marker = role.awaitLine(l -> l.startsWith("cluster "), T).split("[ :]")[1];
        assertEquals("dhost1:8790", role.awaitPrefix("scheduler at:", T), role.output());
        NetHosts.Proc q = net.java(net.host(3), List.of("-Ddist.comm.token-file=" + token), "dist.hosts.HostProgram",
                "dhost1:8790", "quickstart");
        assertEquals("-285", q.awaitPrefix("TOTAL", T), q.output() + "\n" + role.output());
        assertEquals("11", q.awaitPrefix("INC", T));
        assertTrue(NetHosts.eventually(T, () -> role.output().contains("worker at: dhost2:")
                && role.output().contains("worker at: dhost3:")), "workers advertise their host names: " + role.output());
        // scheduler, two nannies and their two workers
        assertTrue(NetHosts.eventually(T, () -> marked(marker).size() >= 3), role.output());

        net.sh("kill", "-INT", String.valueOf(role.process.pid()));
        assertTrue(role.process.waitFor(60, TimeUnit.SECONDS), role.output());
        assertTrue(role.output().contains("cluster " + marker + " stopped"), role.output());
        assertTrue(NetHosts.eventually(T, () -> marked(marker).isEmpty()),
                "left running: " + marked(marker).stream().map(p -> p.info().commandLine().orElse("?")).toList());
        assertTrue(NetHosts.eventually(T, () -> ProcessHandle.allProcesses()
                .noneMatch(p -> p.info().commandLine().map(c -> c.contains("dhost1:8790")).orElse(false))),
                "no worker of the stopped cluster is left");
    }
}
