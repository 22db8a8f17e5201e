package dist.scheduler;

import dist.config.Config;
import dist.protocol.Message;
import dist.protocol.Message.LockAcquire;
import dist.protocol.Message.LockGranted;
import dist.protocol.Message.LockRelease;
import dist.protocol.Message.LockReleaseAll;
import dist.protocol.Message.LockReleased;
import dist.protocol.Message.LockRenew;
import dist.protocol.Message.SemaphoreCreate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The lock extension as a state machine: requests, ticks and disconnects at chosen times, no clock. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LockExtensionTest {
    static final long S = 1_000_000_000L;
    private Config.Override lease;
    private Config.Override waiters;
    private Config.Override names;
    private Harness h;
    private long rid = 1;

    @BeforeEach
    void setUp() {
        lease = Config.set("distributed.scheduler.locks.lease-timeout", "10s");
        waiters = Config.set("distributed.scheduler.locks.max-waiters", "3");
        names = Config.set("distributed.scheduler.locks.max-names", "4");
        h = new Harness();
    }

    @AfterEach
    void tearDown() {
        names.close();
        waiters.close();
        lease.close();
    }

    /** Sends a request; returns what was answered to it now (null: nothing yet). */
    private Message ask(String client, Message m, long id) {
        for (Outgoing o : h.event(new SchedulerEvent.FromClient(client, m, id))) {
            if (o.replyTo() == id) {
                return o.message();
            }
        }
        return null;
    }

    private Message acquire(String client, String lease, long timeout, String... names) {
        return ask(client, new LockAcquire("lock", List.of(names), lease, timeout), rid++);
    }

    private static boolean granted(Message m) {
        return m instanceof LockGranted g && g.granted();
    }

    private List<Outgoing> tick(long at) {
        h.now = at;
        return h.event(new SchedulerEvent.Tick());
    }

    private LockExtension ext() {
        return h.s.extension(LockExtension.class);
    }

    @Test
    void aLockHasOneHolderAndTheNextWaiterGetsItOnRelease() {
        assertTrue(granted(acquire("c1", "a", 0, "x")));
        assertFalse(granted(acquire("c2", "b", 0, "x")), "try-lock of a held lock fails at once");
        long waitId = rid;
        assertNull(acquire("c2", "b2", 5 * S, "x"), "a wait is answered later");
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c1", new LockRelease("a"), 99));
        assertTrue(out.contains(new Outgoing("c1", new LockReleased("a", true), 99)), out.toString());
        assertTrue(out.contains(new Outgoing("c2", new LockGranted("b2", true), waitId)), out.toString());
        assertEquals(java.util.Set.of("b2"), ext().holders("lock", "x"));
    }

    @Test
    void aWaitEndsOnTheTickPastItsDeadline() {
        assertTrue(granted(acquire("c1", "a", 0, "x")));
        long waitId = rid;
        assertNull(acquire("c2", "b", 2 * S, "x"));
        long t = h.now;
        assertTrue(tick(t + S).isEmpty());
        assertTrue(tick(t + 2 * S).contains(new Outgoing("c2", new LockGranted("b", false), waitId)));
        assertEquals(0, ext().waiting());
    }

    @Test
    void aHoldNotRenewedIsFreedAfterTheLeaseAndARenewedOneIsNot() {
        long t = h.now;
        assertTrue(granted(acquire("c1", "a", 0, "x")));
        assertTrue(granted(acquire("c2", "b", 0, "y")));
        long waitId = rid;
        assertNull(acquire("c3", "c", 60 * S, "x"));
        h.now = t + 6 * S;
        assertInstanceOf(Message.Ack.class, ask("c2", new LockRenew(List.of("b")), 50));
        assertTrue(tick(t + 9 * S).isEmpty());
        List<Outgoing> out = tick(t + 10 * S);
        assertTrue(out.contains(new Outgoing("c3", new LockGranted("c", true), waitId)), out.toString());
        assertEquals(java.util.Set.of("b"), ext().holders("lock", "y"), "renewed at 6 s: held until 16 s");
        tick(t + 16 * S);
        assertTrue(ext().holders("lock", "y").isEmpty());
    }

    /** dask: test_locks.py::test_locks_inf_lease_timeout — holds have a lease timeout, unless it is configured as inf. */
    @Test
    void anInfiniteLeaseTimeoutKeepsHoldsThatAreNotRenewed() {
        long t = h.now;
        assertTrue(granted(acquire("c1", "a", 0, "x")));
        tick(t + 10 * S);
        assertTrue(ext().holders("lock", "x").isEmpty(), "10 s without renewal: freed");
        try (Config.Override inf = Config.set("distributed.scheduler.locks.lease-timeout", "inf")) {
            assertEquals(java.time.temporal.ChronoUnit.FOREVER.getDuration(),
                    Config.getDuration("distributed.scheduler.locks.lease-timeout"));
            h = new Harness();
            t = h.now;
            assertTrue(granted(acquire("c1", "b", 0, "y")));
            tick(t + 365L * 24 * 3600 * S);
            assertEquals(java.util.Set.of("b"), ext().holders("lock", "y"), "never renewed, still held");
            assertEquals(new LockReleased("b", true), ask("c1", new LockRelease("b"), 3));
        }
        assertThrows(IllegalArgumentException.class,
                () -> Config.set("distributed.scheduler.worker-ttl", "inf"), "only keys that allow no limit take inf");
    }

    @Test
    void aCountedMultiLockTakesFreeNamesButNoneAnEarlierWaiterWaitsFor() {
        assertTrue(granted(acquire("c1", "a", 0, "x")));
        long waitId = rid;
        assertNull(ask("c2", new LockAcquire("lock", List.of("x", "y"), "b", 5 * S), rid++), "x is taken: b waits");
        assertFalse(granted(ask("c3", new LockAcquire("lock", List.of("y", "z"), "c", 0, 2), rid++)),
                "y is b's next: two of y, z are not free");
        assertTrue(granted(ask("c3", new LockAcquire("lock", List.of("y", "z"), "d", 0, 1), rid++)), "z is");
        assertEquals(java.util.Set.of("d"), ext().holders("lock", "z"));
        assertTrue(ext().holders("lock", "y").isEmpty());
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c1", new LockRelease("a"), 99));
        assertTrue(out.contains(new Outgoing("c2", new LockGranted("b", true), waitId)), out.toString());
        Message m = ask("c3", new LockAcquire("lock", List.of("y", "z"), "e", 0, 3), rid++);
        assertInstanceOf(Message.ErrorReply.class, m);
    }

    @Test
    void aClosedSemaphoreEndsItsHoldsAndWaitsAndIsUnknown() {
        assertInstanceOf(Message.Ack.class, ask("c1", new SemaphoreCreate("s", 1), 1));
        assertTrue(granted(ask("c1", new LockAcquire("semaphore", List.of("s"), "a", 0), 2)));
        assertEquals(new Message.SharedCount(1), ask("c2", new Message.SemaphoreValue("s"), 3));
        assertNull(ask("c2", new LockAcquire("semaphore", List.of("s"), "b", 5 * S), 4));
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c3", new Message.SemaphoreClose("s"), 5));
        assertTrue(out.contains(new Outgoing("c2", new LockGranted("b", false), 4)), out.toString());
        assertTrue(out.contains(new Outgoing("c3", new Message.SharedCount(2), 5)), out.toString());
        assertEquals(0, ext().waiting());
        assertEquals(new LockReleased("a", false), ask("c1", new LockRelease("a"), 6));
        assertEquals(new Message.SharedCount(0), ask("c3", new Message.SemaphoreClose("s"), 7));
        Message m = ask("c2", new Message.SemaphoreValue("s"), 8);
        assertTrue(m instanceof Message.ErrorReply e && e.message().contains("not known"), String.valueOf(m));
    }

    @Test
    void aConnectionThatEndsKeepsHoldsUntilTheLeaseButACleanCloseFreesAtOnce() {
        assertTrue(granted(acquire("c1", "a", 0, "x")));
        assertTrue(granted(acquire("c2", "b", 0, "y")));
        assertNull(acquire("c1", "w", 5 * S, "y"));
        h.event(new SchedulerEvent.ClientGone("c1"));
        assertEquals(java.util.Set.of("a"), ext().holders("lock", "x"), "kept: the client may come back");
        assertEquals(0, ext().waiting(), "its wait can no longer be answered");
        // the same client back: its hold is still its own, and asking again with the lease is granted
        assertTrue(granted(acquire("c1", "a", 0, "x")));
        assertInstanceOf(Message.Ack.class, ask("c2", new LockReleaseAll(), 51));
        assertTrue(ext().holders("lock", "y").isEmpty());
    }

    /** dask: test_multi_locks.py::test_multiple_locks — no partial holding, first come first served. */
    @Test
    void aMultiLockTakesAllItsNamesAtOnceAndWaitsBehindEarlierWaiters() {
        assertTrue(granted(acquire("c1", "a", 0, "x")));
        long abId = rid;
        assertNull(acquire("c2", "ab", 60 * S, "x", "y"));
        assertTrue(ext().holders("lock", "y").isEmpty(), "no partial hold while x is taken");
        assertFalse(granted(acquire("c3", "y1", 0, "y")), "y waits behind the earlier multi-lock");
        long yzId = rid;
        assertNull(acquire("c3", "yz", 60 * S, "y", "z"));
        assertTrue(granted(acquire("c3", "w", 0, "w")), "an unrelated name goes at once");
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c1", new LockRelease("a"), 7));
        assertTrue(out.contains(new Outgoing("c2", new LockGranted("ab", true), abId)));
        assertFalse(out.stream().anyMatch(o -> o.replyTo() == yzId));
        out = h.event(new SchedulerEvent.FromClient("c2", new LockRelease("ab"), 8));
        assertTrue(out.contains(new Outgoing("c3", new LockGranted("yz", true), yzId)));
    }

    /** dask: test_semaphore.py::test_semaphore_trivial, test_semaphore.py::test_access_semaphore_by_name — a count fixed at creation. */
    @Test
    void aSemaphoreHasItsPermitsAndRefusesAnotherCount() {
        assertInstanceOf(Message.Ack.class, ask("c1", new SemaphoreCreate("s", 2), 1));
        assertInstanceOf(Message.Ack.class, ask("c2", new SemaphoreCreate("s", 2), 2));
        Message refused = ask("c2", new SemaphoreCreate("s", 3), 3);
        assertInstanceOf(Message.ErrorReply.class, refused);
        assertTrue(((Message.ErrorReply) refused).message().contains("2 permits"), refused.toString());
        assertTrue(((Message.ErrorReply) refused).message().contains("3"), refused.toString());
        for (String l : List.of("p", "q")) {
            assertTrue(granted(ask("c1", new LockAcquire("semaphore", List.of("s"), l, 0), rid++)));
        }
        assertFalse(granted(ask("c1", new LockAcquire("semaphore", List.of("s"), "r", 0), rid++)));
        assertEquals(2, ext().holders("semaphore", "s").size());
        assertInstanceOf(Message.ErrorReply.class, ask("c1", new LockAcquire("semaphore", List.of("nope"), "z", 0), rid++),
                "an unknown semaphore is refused");
    }

    @Test
    void waitsAreBoundedAndTheOneTooManyIsRefused() {
        assertTrue(granted(acquire("c1", "a", 0, "x")));
        for (int i = 0; i < 3; i++) {
            assertNull(acquire("c2", "w" + i, 5 * S, "x"));
        }
        Message m = acquire("c2", "w3", 5 * S, "x");
        assertInstanceOf(Message.ErrorReply.class, m);
        assertTrue(((Message.ErrorReply) m).message().contains("max-waiters"), m.toString());
    }

    @Test
    void namesInUseAreBoundedAndFreedLockNamesAreForgotten() {
        assertInstanceOf(Message.Ack.class, ask("c1", new SemaphoreCreate("s", 1), 1));
        assertTrue(granted(acquire("c1", "a", 0, "x", "y")));
        assertTrue(granted(acquire("c1", "b", 0, "z")));
        Message m = acquire("c1", "c", 0, "w");
        assertInstanceOf(Message.ErrorReply.class, m);
        assertTrue(((Message.ErrorReply) m).message().contains("max-names"), m.toString());
        assertEquals(new LockReleased("b", true), ask("c1", new LockRelease("b"), 2));
        assertTrue(granted(acquire("c1", "c", 0, "w")), "z was forgotten when freed");
    }

    @Test
    void releasingAWaitWithdrawsItAndReleasingTwiceSaysItWasNotHeld() {
        assertTrue(granted(acquire("c1", "a", 0, "x")));
        long waitId = rid;
        assertNull(acquire("c2", "b", 5 * S, "x"));
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c2", new LockRelease("b"), 9));
        assertTrue(out.contains(new Outgoing("c2", new LockGranted("b", false), waitId)));
        assertTrue(out.contains(new Outgoing("c2", new LockReleased("b", false), 9)));
        assertEquals(new LockReleased("a", true), ask("c1", new LockRelease("a"), 10));
        assertEquals(new LockReleased("a", false), ask("c1", new LockRelease("a"), 11));
    }
}
