package dist.code;

import dist.Client;
import dist.Fn1;
import dist.Future;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Worker processes started from the main classes only (no test classes on their class path) run
 * functions that live in the test classes: every class crosses a socket on demand.
 */
class ProcessShippingTest {
    private static final Duration T = Duration.ofSeconds(60);

    @Test
    void plainWorkerProcessesRunTestClassFunctionsWithNothingDoneByHand() throws Exception {
        List<Process> procs = new ArrayList<>();
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT)) {
            for (int i = 0; i < 2; i++) {
                List<String> cmd = List.of(ProcessHandle.current().info().command().orElseThrow(), "-Xmx128m",
                        "-cp", Javac.mainClasses().toString(), "dist.Main", "worker", s.address(), "--nthreads", "1");
                procs.add(new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
            }
            assertTrue(s.awaitWorkers(2, 30, TimeUnit.SECONDS), "two worker processes should register");
            try (Client c = Client.connect(s.address())) {
                assertEquals(new Funcs.Point(2, 4), c.submit(Funcs::shift, new Funcs.Point(1, 2)).result(T));
                Fn1<Integer, Integer> triple = Funcs.triple();
                assertEquals(List.of(3, 6, 9, 12), c.gather(c.map(triple, List.of(1, 2, 3, 4))));
                // sub-tasks launched inside tasks run on the other process too; their classes come from the worker
                Future<Long> fib = c.submit(Funcs::fib, 12);
                assertEquals(144L, fib.result(T));
            }
        } finally {
            for (Process p : procs) {
                p.destroyForcibly();
            }
            for (Process p : procs) {
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
