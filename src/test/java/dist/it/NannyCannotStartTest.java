package dist.it;

import dist.comm.CommConfig;
import dist.nanny.NannyMachine;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A nanny process whose worker cannot start for a reason no restart cures stops at once with that
 * reason, rather than after its restart limit.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NannyCannotStartTest {
    private final Processes procs = new Processes();

    @AfterEach
    void cleanup() {
        procs.close();
    }

    @Test
    void aNannyWhoseWorkerPortIsTakenStopsAtOnceNamingThePort() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
             SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT)) {
            int port = taken.getLocalPort();
            Processes.Proc nanny = procs.dist("nanny", s.address(), "--host", "127.0.0.1", "--port",
                    String.valueOf(port), "--nthreads", "1", "--no-dashboard");
            assertEquals(NannyMachine.CANNOT_START, nanny.awaitExit(Duration.ofSeconds(90)), nanny.output());
            String out = nanny.output();
            assertTrue(out.lines().anyMatch(l -> l.startsWith("nanny: the worker cannot start")
                    && l.contains("127.0.0.1:" + port)), out);
            // each start of the worker says why it cannot start: once, so it started once
            assertEquals(1, out.lines().filter(l -> l.startsWith("worker: cannot start:")).count(), out);
            assertFalse(out.contains("restarting it"), out);
            // the nanny's decision is one line, not repeated in its log or on its way out
            assertEquals(1, out.lines().filter(l -> l.contains("the worker cannot start")).count(), out);
        }
    }
}
