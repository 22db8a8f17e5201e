package dist.hosts;

import dist.Client;
import dist.Future;
import dist.Options;
import dist.Main;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** A worker listens in one place and advertises another: peers and the scheduler use the advertised one. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ContactAddressTest {
    static final Duration T = Duration.ofSeconds(20);

    static long[] block(int n) {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    static long total(long[] a) {
        long s = 0;
        for (long x : a) {
            s += x;
        }
        return s;
    }

    static WorkerServer worker(String scheduler, String name, String contact) throws Exception {
        return WorkerServer.start(new WorkerServer.Options(scheduler, "0.0.0.0", 0, 1, name, 0, 8 * 1024,
                CommConfig.DEFAULT, contact));
    }

    @Test
    void workersListeningEverywhereAdvertiseAHostNameAndPeersFetchThroughIt() throws Exception {
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
             WorkerServer alice = worker(s.address(), "alice", "localhost");
             WorkerServer bob = worker(s.address(), "bob", "localhost");
             Client client = Client.connect(s.address())) {
            assertTrue(alice.address().startsWith("localhost:"), alice.address());
            assertTrue(s.awaitWorkers(2, 10, TimeUnit.SECONDS));
            List<String> advertised = client.workersInfo().stream().map(w -> w.address()).sorted().toList();
            assertEquals(List.of(alice.address(), bob.address()).stream().sorted().toList(), advertised);
            // made on alice, summed on bob: bob fetches 400 KB from alice's advertised name
            Future<long[]> a = client.with(Options.defaults().workers("alice")).submit(ContactAddressTest::block, 50_000);
            Future<Long> b = client.with(Options.defaults().workers("bob")).submit(ContactAddressTest::total, a);
            assertEquals(50_000L * 49_999 / 2, b.result(T));
            Map<String, List<String>> who = client.whoHas(List.of(a));
            assertTrue(who.get(a.key()).contains(bob.address()), "bob holds a copy after the fetch: " + who);
        }
    }

    @Test
    void aContactAddressWithAPortIsAdvertisedAsGiven() throws Exception {
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
             WorkerServer w = WorkerServer.start(new WorkerServer.Options(s.address(), "127.0.0.1", 0, 1, "nat", 0,
                     8 * 1024, CommConfig.DEFAULT, "gateway.example:7000"))) {
            assertEquals("gateway.example:7000", w.address());
        }
    }

    static String run(int expectCode, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        assertEquals(expectCode, code, text);
        return text;
    }

    @Test
    void badContactAddressesAndListeningEverywhereWithoutOneAreUsageErrors() {
        assertTrue(run(2, "worker", "127.0.0.1:1", "--no-nanny", "--contact-address", "host:notaport")
                .contains("--contact-address"));
        assertTrue(run(2, "worker", "127.0.0.1:1", "--no-nanny", "--contact-address", ":9000")
                .contains("--contact-address must be HOST or HOST:PORT"));
        assertTrue(run(2, "worker", "127.0.0.1:1", "--no-nanny", "--host", "0.0.0.0")
                .contains("add --contact-address"));
        assertTrue(run(2, "nanny", "127.0.0.1:1", "--contact-address", "a b").contains("--contact-address"));
        assertTrue(run(0, "worker", "--help").contains("--contact-address"));
    }
}
