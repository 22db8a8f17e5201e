package dist;

import dist.comm.CommConfig;
import dist.config.Config;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The workers' sampling profiler, as the scheduler keeps it and {@link Client#profile} reads it. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProfilerTest {
    static final Duration T = Duration.ofSeconds(30);
    static SchedulerServer scheduler;
    static WorkerServer a, b;
    static Client client;

    /** Work for the sampler to find: about {@code millis} of arithmetic. */
    static double slowinc(int millis) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        double x = 1;
        while (System.nanoTime() < end) {
            x = spin(x);
        }
        return x;
    }

    static double spin(double x) {
        for (int i = 0; i < 1000; i++) {
            x = Math.sqrt(x + i);
        }
        // a stack is sampled where the thread stops for it; compiled, with spin inlined and its counted
        // loop free of such stops, that was only ever in slowinc's loop. The yield stops it inside spin.
        Thread.yield();
        return x;
    }

    static int inc(int x) {
        return x + 1;
    }

    static WorkerServer worker(String schedulerAddress, String name) throws IOException {
        return WorkerServer.start(new WorkerServer.Options(schedulerAddress, "127.0.0.1", 0, 2, name, 0,
                8 * 1024, CommConfig.DEFAULT));
    }

    @BeforeAll
    static void start() throws Exception {
        scheduler = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        a = worker(scheduler.address(), "a");
        b = worker(scheduler.address(), "b");
        client = Client.connect(scheduler.address());
        assertTrue(scheduler.awaitWorkers(2, 30, TimeUnit.SECONDS), "two workers");
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (a != null) a.close();
        if (b != null) b.close();
        if (scheduler != null) scheduler.close();
    }

    /** Runs {@code n} tasks of group {@code group}, each about {@code millis} of work, and waits for them. */
    static void run(Client c, String group, int n, int millis) {
        List<Future<Double>> fs = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            fs.add(c.with(Options.defaults().key(group + "-" + i)).submit(ProfilerTest::slowinc, millis));
        }
        for (Future<Double> f : fs) {
            f.result(T);
        }
    }

    /** The profile of {@code group} once it holds a sample in {@code method}. */
    static Profile profileWith(Client c, String group, String method) throws InterruptedException {
        Profile p = Wait.value(T, () -> c.profile(group), x -> x.find(method).isPresent());
        assertTrue(p.find(method).isPresent(), "the profile of " + group + " never showed " + method + ":\n" + p.format());
        return p;
    }

    /**
     * dask: test_client.py::test_profile, test_scheduler.py::test_statistical_profiling — after tasks ran, the client's profile counts samples, and
     * every frame's count is at least the sum of its children's (a profile is a tree of counts).
     */
    @Test
    void profile() throws Exception {
        run(client, "slowinc", 4, 300);
        Profile p = profileWith(client, null, "ProfilerTest.slowinc(");
        assertTrue(p.count() > 0);
        assertEquals("all", p.frame());
        assertTrue(p.groups().contains("slowinc"), p.groups().toString());
        assertCounts(p);
        Profile task = p.find("ProfilerTest.slowinc(").orElseThrow();
        assertTrue(task.find("ProfilerTest.spin(").isPresent(), "slowinc's callee is under it:\n" + p.format());
    }

    static void assertCounts(Profile p) {
        long sum = 0;
        for (Profile c : p.children()) {
            sum += c.count();
            assertCounts(c);
        }
        assertTrue(p.count() >= sum, p.frame() + " counts " + p.count() + " but its children " + sum);
    }

    /**
     * dask: test_client.py::test_profile_keys — a profile of one task group holds its tasks' samples
     * only; a group that never ran has none.
     */
    @Test
    void profileKeys() throws Exception {
        run(client, "first", 2, 300);
        run(client, "second", 2, 300);
        Profile first = profileWith(client, "first", "ProfilerTest.slowinc(");
        assertEquals(List.of("first"), first.groups());
        profileWith(client, "second", "ProfilerTest.slowinc(");
        Profile all = client.profile(null);
        assertTrue(all.count() >= first.count());
        Profile none = client.profile("never-ran");
        assertEquals(0, none.count());
        assertTrue(none.children().isEmpty());
    }

    /**
     * dask: test_worker.py::test_statistical_profiling_cycle — the profile keeps cycles with their
     * times: a window that ends before the work began holds none of it, one around it holds it.
     */
    @Test
    void statisticalProfilingCycle() throws Exception {
        Instant before = Instant.now().minusSeconds(1);
        run(client, "cycled", 2, 300);
        profileWith(client, "cycled", "ProfilerTest.slowinc(");
        assertEquals(0, client.profile(Instant.EPOCH, before.minusSeconds(3600), "cycled").count());
        assertTrue(client.profile(before, Instant.now().plusSeconds(60), "cycled").count() > 0);
    }

    /**
     * dask: test_worker.py::test_statistical_profiling — a task's frames come root first from the task's
     * own function: the worker's machinery below it is not in the tree.
     */
    @Test
    void statisticalProfiling() throws Exception {
        run(client, "rooted", 2, 300);
        Profile p = profileWith(client, "rooted", "ProfilerTest.slowinc(");
        for (Profile top : p.children()) {
            assertFalse(top.frame().startsWith("dist.worker."), "worker frames are cut: " + top.frame());
        }
        assertTrue(p.children().stream().anyMatch(c -> c.frame().contains("ProfilerTest.slowinc(")),
                "slowinc is an outermost frame:\n" + p.format());
    }

    /**
     * dask: test_client.py::test_profile_disabled — with distributed.worker.profile.enabled false the
     * workers take no samples, so the profile is empty after work ran.
     */
    @Test
    void profileDisabled() throws Exception {
        SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        WorkerServer w;
        try (Config.Override off = Config.set("distributed.worker.profile.enabled", false)) {
            w = worker(s.address(), "quiet");
        }
        try (Client c = Client.connect(s.address())) {
            run(c, "quiet", 2, 300);
            // a worker that sampled would report within a cycle (1 s)
            Wait.until(Duration.ofMillis(1500), () -> c.profile(null).count() > 0);
            assertEquals(0, c.profile(null).count());
        } finally {
            w.close();
            s.close();
        }
    }
}
