package dist.cli;

import dist.Adaptive;
import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.Wait;
import dist.WorkerInfo;
import dist.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The ssh launcher's workers as a cluster manager, on this machine: a stand-in for ssh runs the
 * remote command here (as SshTokenTest's does), and two host names of this machine
 * ({@code 127.0.0.1}, {@code localhost}) take the workers in turn. Scaling down retires a worker
 * and its remote process ends; adapting sizes the workers by the load.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class SshClusterManagerTest {
    static final Duration T = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    static int square(int x) {
        return x * x;
    }

    private static List<ProcessHandle> marked(String mark) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains(mark)).orElse(false)).toList();
    }

    @Test
    void scaleGoesRoundRobinOverTheHostsAndDownThroughRetirement() throws Exception {
        Path fakeSsh = tmp.resolve("fake-ssh");
        // stands in for ssh: the last argument is the remote command, run here with the session's input
        Files.writeString(fakeSsh, "#!/bin/sh\nfor last; do :; done\nexec /bin/sh -c \"$last\"\n");
        Files.setPosixFilePermissions(fakeSsh, PosixFilePermissions.fromString("rwx------"));
        String marker = UUID.randomUUID().toString();
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
        SshCommand.Cluster sessions = new SshCommand.Cluster(List.of(fakeSsh.toString()), marker, null, out, out);
        List<String> base = List.of(SshCommand.quote(ProcessHandle.current().info().command().orElse("java")),
                "-D" + SshCommand.MARKER + "=" + marker, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                "dist.Main");
        try (var interval = Config.set("distributed.adaptive.interval", "100ms");
             LocalCluster scheduler = LocalCluster.builder().workers(0).output(null).start();
             Client client = scheduler.client();
             SshCluster workers = new SshCluster(client, sessions, List.of(SshCommand.Target.parse("127.0.0.1"),
                     SshCommand.Target.parse("localhost")), base, scheduler.schedulerAddress(),
                     // the scheduler here has no token: the workers on 0.0.0.0 of this machine run without one
                    List.of("--nthreads", "1", "--insecure"), marker)) {
            try {
                workers.scale(2);
                assertEquals(List.of("worker-0", "worker-1"), workers.workers());
                assertTrue(Wait.until(T, () -> scheduler.workerCount() == 2), output.toString());
                Map<String, String> addressOf = client.workersInfo().stream()
                        .collect(Collectors.toMap(WorkerInfo::name, WorkerInfo::address));
                assertTrue(addressOf.get("worker-0").startsWith("127.0.0.1:"), addressOf.toString());
                assertTrue(addressOf.get("worker-1").startsWith("localhost:"), addressOf.toString());

                List<Future<Integer>> fs = client.map(SshClusterManagerTest::square, IntStream.range(0, 20).boxed().toList());
                client.gather(fs);
                workers.scale(1);
                assertEquals(1, workers.workers().size());
                String gone = addressOf.keySet().stream().filter(n -> !workers.workers().contains(n)).findFirst()
                        .orElseThrow();
                assertTrue(Wait.until(T, () -> scheduler.workerCount() == 1));
                assertTrue(Wait.until(T, () -> marked(SshCluster.WORKER_MARKER + "=" + marker + "." + gone + " ").isEmpty()),
                        "the retired worker's remote process ended");
                assertEquals(IntStream.range(0, 20).map(i -> i * i).boxed().toList(), client.gather(fs));

                fs.forEach(Future::release);
                Adaptive a = workers.adapt(0, 2);
                assertTrue(Wait.until(T, () -> workers.workers().isEmpty() && scheduler.workerCount() == 0),
                        workers.workers() + " " + a.events());
                assertEquals(0, a.events().getLast().to());
                assertTrue(Wait.until(T, () -> marked(SshCluster.WORKER_MARKER + "=" + marker).isEmpty()),
                        "no worker process left");
            } finally {
                sessions.stop();
            }
        }
        assertTrue(Wait.until(T, () -> marked(SshCommand.MARKER + "=" + marker).isEmpty()), output.toString());
    }

    @Test
    void adaptBoundsAreChecked() throws Exception {
        assertArrayEquals(new int[]{1, 8}, SshCommand.adaptBounds("1:8"));
        assertNull(SshCommand.adaptBounds(null));
        for (String bad : List.of("8:1", "x:2", "3", "-1:2")) {
            UsageException e = assertThrows(UsageException.class, () -> SshCommand.adaptBounds(bad));
            assertTrue(e.getMessage().contains("--adapt"), e.getMessage());
        }
    }

    static int slowinc(int x) throws InterruptedException {
        Thread.sleep(200); // the task's work
        return x + 1;
    }

    /**
     * {@code dist ssh HOST --adapt 0:2}: no worker until there is work, one for a task, none again
     * after; the launcher's output shows each step, and SIGTERM leaves no process behind.
     */
    @Test
    void theSshCommandAdaptsItsWorkersToTheLoad() throws Exception {
        Path fakeSsh = tmp.resolve("fake-ssh");
        Files.writeString(fakeSsh, "#!/bin/sh\nfor last; do :; done\nexec /bin/sh -c \"$last\"\n");
        Files.setPosixFilePermissions(fakeSsh, PosixFilePermissions.fromString("rwx------"));
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        try (dist.it.Processes procs = new dist.it.Processes()) {
            dist.it.Processes.Proc role = procs.javaWith(List.of("-Ddist.adaptive.interval=200ms"), "dist.Main", "ssh",
                    "127.0.0.1", "--scheduler-port", String.valueOf(port), "--nthreads", "1", "--ssh-program",
                    fakeSsh.toString(), "--jvm-options", "-Xmx200m", "--adapt", "0:2");
            String marker = role.awaitLine(l -> l.startsWith("cluster "), T).split("[ :]")[1];
            String tokenLine = role.awaitLine(l -> l.startsWith("token for clients in "), T);
            Path tokenFile = Path.of(tokenLine.substring("token for clients in ".length()).split(" ")[0]);
            role.awaitLine(l -> l.startsWith("adapting between 0 and 2 workers"), T);
            dist.comm.CommConfig config = dist.comm.CommConfig.DEFAULT.withSecurity(
                    dist.comm.Security.none().withTokenFile(tokenFile)).withConnectTimeout(Duration.ofSeconds(10));
            try (Client client = Client.connect("127.0.0.1:" + port, config)) {
                assertEquals(0, client.workersInfo().size());
                Future<Integer> f = client.submit(SshClusterManagerTest::slowinc, 10);
                assertEquals(11, f.result(T), role.output());
                role.awaitLine(l -> l.contains("scaling from 0 to 1 workers"), T);
                f.release();
                role.awaitLine(l -> l.contains("scaling from 1 to 0 workers"), T);
                assertTrue(Wait.until(T, () -> client.workersInfo().isEmpty()), role.output());
            }
            role.process.toHandle().destroy();
            role.awaitExit(T);
            assertTrue(role.output().contains("cluster " + marker + " stopped"), role.output());
            assertTrue(Wait.until(T, () -> marked(SshCommand.MARKER + "=" + marker).isEmpty()), role.output());
        }
    }
}
