package dist.nanny;

import dist.comm.CommConfig;
import dist.config.Config;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 90, unit = TimeUnit.SECONDS)
class NannyTest {

    @Test
    void exitDescriptions() {
        assertEquals("exit code 1", Nanny.describeExit(1));
        assertEquals("killed by signal 9 (SIGKILL), exit code 137", Nanny.describeExit(137));
        assertEquals("killed by signal 15 (SIGTERM), exit code 143", Nanny.describeExit(143));
    }

    @Test
    void residentMemoryOfThisProcessIsReadable() {
        long rss = Nanny.residentBytes(ProcessHandle.current().pid());
        assertTrue(rss > 1 << 20, "resident bytes " + rss);
        assertEquals(-1, Nanny.residentBytes(-5));
    }

    @Test
    void restartsAKilledWorkerAndTheWorkerDiesWithTheNanny() throws Exception {
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT)) {
            Nanny n = Nanny.start(new Nanny.Options(s.address(), List.of("--nthreads", "1"), 0, List.of(), null, ""));
            try {
                String first = n.awaitWorker(Duration.ofSeconds(60));
                assertNotNull(first, "the worker registered");
                assertTrue(s.awaitWorkers(1, 30, TimeUnit.SECONDS));
                long pid = n.workerPid();
                ProcessHandle.of(pid).orElseThrow().destroyForcibly();
                assertTrue(dist.Wait.until(Duration.ofSeconds(60), () -> n.restarts() >= 1 && n.workerAddress() != null),
                        "no restart within 60 s");
                assertNotEquals(pid, n.workerPid());
                assertTrue(s.awaitWorkers(1, 30, TimeUnit.SECONDS));
                pid = n.workerPid();
                n.close();
                long p = pid;
                assertTrue(dist.Wait.until(Duration.ofSeconds(30),
                        () -> !ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false)), "worker outlived its nanny");
            } finally {
                n.close();
            }
        }
    }

    @Test
    void givesUpAfterTheRestartLimitOfFailedStarts() throws Exception {
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
             Config.Override a = Config.set("distributed.nanny.restart-limit", 1);
             Config.Override b = Config.set("distributed.nanny.restart-backoff", "50ms")) {
            // a worker name another worker holds: every start is refused (exit code 1), which a restart
            // might cure once the other leaves
            dist.worker.WorkerServer holder = dist.worker.WorkerServer.start(new dist.worker.WorkerServer.Options(
                    s.address(), "127.0.0.1", 0, 1, "taken", 0, 8 * 1024, CommConfig.DEFAULT));
            Nanny n = Nanny.start(new Nanny.Options(s.address(), List.of("--nthreads", "1", "--name", "taken",
                    "--no-dashboard"), 0, List.of(), null, ""));
            try {
                assertTrue(n.awaitClose(60, TimeUnit.SECONDS), "the nanny gave up");
                assertTrue(n.gaveUpReason().contains("2 times in a row") && n.gaveUpReason().contains("exit code 1"),
                        n.gaveUpReason());
                assertEquals(2, n.starts());
                assertFalse(n.workerCannotStart());
            } finally {
                n.close();
                holder.close();
            }
        }
    }

    @Test
    void aWorkerWithABadOptionStopsTheNannyAtOnceWithTheReason() throws Exception {
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT)) {
            // a worker option the worker refuses (exit code 2): no restart can cure it
            Nanny n = Nanny.start(new Nanny.Options(s.address(), List.of("--nthreads", "0"), 0, List.of(), null, ""));
            try {
                assertTrue(n.awaitClose(60, TimeUnit.SECONDS), "the nanny stopped");
                assertTrue(n.gaveUpReason().contains("--nthreads") && n.gaveUpReason().contains("exit code 2"),
                        n.gaveUpReason());
                assertTrue(n.workerCannotStart());
                assertEquals(1, n.starts());
                assertEquals(0, n.restarts());
            } finally {
                n.close();
            }
        }
    }

    @Test
    void aWorkerWithABadConfigValueStopsTheNannyAtOnceNamingTheKey() throws Exception {
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT)) {
            // read by the worker only, so the nanny starts one and hears exit code 78
            Nanny n = Nanny.start(new Nanny.Options(s.address(), List.of("--nthreads", "1"), 0,
                    List.of("-Ddist.worker.idle-spin-us=lots"), null, ""));
            try {
                assertTrue(n.awaitClose(60, TimeUnit.SECONDS), "the nanny stopped");
                assertTrue(n.gaveUpReason().contains("distributed.worker.idle-spin-us")
                        && n.gaveUpReason().contains("exit code 78"), n.gaveUpReason());
                assertTrue(n.workerCannotStart());
                assertEquals(1, n.starts());
            } finally {
                n.close();
            }
        }
    }
}
