package dist.nanny;

import dist.Wait;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** A failure inside the nanny's loop (here: its output throws) does not stop it from restarting its worker. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NannyLoopTest {

    /** Output that throws on each line the nanny writes itself (a closed pipe, a full disk). */
    static final class FailingOutput extends PrintStream {
        final AtomicInteger failures = new AtomicInteger();

        FailingOutput() {
            super(OutputStream.nullOutputStream(), true);
        }

        @Override
        public void println(String line) {
            if (line != null && line.startsWith("nanny: ")) {
                failures.incrementAndGet();
                throw new IllegalStateException("the output is gone");
            }
            super.println(line);
        }
    }

    @Test
    void aFailureInTheLoopLeavesTheWorkerWatchedAndRestarted() throws Exception {
        FailingOutput out = new FailingOutput();
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT)) {
            Nanny n = Nanny.start(new Nanny.Options(s.address(), List.of("--nthreads", "1"), 0, List.of(), out, ""));
            try {
                assertNotNull(n.awaitWorker(Duration.ofSeconds(60)), "the worker registered");
                long pid = n.workerPid();
                ProcessHandle.of(pid).orElseThrow().destroyForcibly();
                // the nanny writes "worker ... died ...; restarting it", which throws here
                assertTrue(Wait.until(Duration.ofSeconds(60), () -> n.restarts() >= 1 && n.workerAddress() != null),
                        "no restart within 60 s; output failures: " + out.failures.get());
                assertTrue(out.failures.get() >= 1, "the output never failed: the test proved nothing");
                assertNotEquals(pid, n.workerPid());
                // once more: the loop is still there
                long second = n.workerPid();
                ProcessHandle.of(second).orElseThrow().destroyForcibly();
                assertTrue(Wait.until(Duration.ofSeconds(60), () -> n.restarts() >= 2 && n.workerAddress() != null),
                        "no second restart within 60 s");
            } finally {
                n.close();
            }
        }
    }
}
