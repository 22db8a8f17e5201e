package dist.conformance;

import dist.Client;
import dist.Delayed;
import dist.Future;
import dist.Options;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * dask's test_call_stack, on a scheduler and two workers of its own: the test reads every task
 * running on the cluster, so no other test's task may be running meanwhile.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientExtrasCallStackConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static SchedulerServer scheduler;
    static WorkerServer a, b;
    static Client client;

    static final CountDownLatch e1 = new CountDownLatch(1), e2 = new CountDownLatch(1), e3 = new CountDownLatch(1);
    static final CountDownLatch ew = new CountDownLatch(1);

    /** dask's f(es, ew): sets its own event, then waits for ew (bounded here). */
    static int f(int which) throws InterruptedException {
        (which == 1 ? e1 : which == 2 ? e2 : e3).countDown();
        return ew.await(30, TimeUnit.SECONDS) ? which : -which;
    }

    @BeforeAll
    static void start() throws Exception {
        scheduler = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        a = WorkerServer.start(WorkerServer.Options.of(scheduler.address(), 2));
        b = WorkerServer.start(WorkerServer.Options.of(scheduler.address(), 2));
        client = Client.connect(scheduler.address());
        assertTrue(scheduler.awaitWorkers(2, 30, TimeUnit.SECONDS), "two workers");
    }

    @AfterAll
    static void stop() {
        ew.countDown();
        if (client != null) client.close();
        if (a != null) a.close();
        if (b != null) b.close();
        if (scheduler != null) scheduler.close();
    }

    /**
     * dask: test_client.py::test_call_stack — f1 held on a, f2 and a persisted delayed d3 held on b:
     * the call stack of f1 (asked by future) has a's address only, with f1 only, and its frames show
     * the wait (dask: "event.py"); that of d3 has b with d3 only; that of everything has a with f1
     * and b with f2 and d3.
     */
    @Test
    void callStack() throws Exception {
        Future<Integer> f1 = client.with(Options.defaults().key("f1").workers(a.address()))
                .submit(ClientExtrasCallStackConformanceTest::f, 1);
        Future<Integer> f2 = client.with(Options.defaults().key("f2").workers(b.address()))
                .submit(ClientExtrasCallStackConformanceTest::f, 2);
        Delayed<Integer> d3 = client.with(Options.defaults().workers(b.address()))
                .persist(Delayed.of(ClientExtrasCallStackConformanceTest::f, 3));
        String k3 = d3.future().key();
        assertTrue(e1.await(30, TimeUnit.SECONDS) && e2.await(30, TimeUnit.SECONDS) && e3.await(30, TimeUnit.SECONDS));

        Map<String, Map<String, List<String>>> r1 = client.callStack(List.of(f1));
        assertEquals(Set.of(a.address()), r1.keySet());
        assertEquals(Set.of("f1"), r1.get(a.address()).keySet());
        assertTrue(r1.get(a.address()).get("f1").stream().anyMatch(frame -> frame.contains("CountDownLatch.await")),
                r1.toString());
        assertTrue(r1.get(a.address()).get("f1").stream().anyMatch(frame -> frame.contains(".f(")), r1.toString());

        Map<String, Map<String, List<String>>> r3 = client.callStack(List.of(d3.future()));
        assertEquals(Set.of(b.address()), r3.keySet());
        assertEquals(Set.of(k3), r3.get(b.address()).keySet());

        Map<String, Map<String, List<String>>> r4 = client.callStack();
        assertEquals(Set.of(a.address(), b.address()), r4.keySet());
        assertEquals(Set.of("f1"), r4.get(a.address()).keySet());
        assertEquals(Set.of("f2", k3), r4.get(b.address()).keySet());

        ew.countDown();
        assertEquals(1, f1.result(T));
        assertEquals(2, f2.result(T));
        assertEquals(3, d3.future().result(T));
        assertEquals(Map.of(), client.callStack()); // nothing runs any more
    }
}
