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
class SshClusterTest {
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

                List<Future<Integer>> fs = client.map(SshClusterTest::square, IntStream.range(0, 20).boxed().toList());
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
}
