package dist.comm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ReconnectTest {
    static final Reconnect.Policy QUICK = new Reconnect.Policy(Duration.ofMillis(1), Duration.ofMillis(4),
            Duration.ZERO, Duration.ofSeconds(1));

    @Test
    void pausesDoubleUpToTheCap() {
        Reconnect.Policy p = new Reconnect.Policy(Duration.ofMillis(50), Duration.ofSeconds(2), Duration.ZERO,
                Duration.ofSeconds(1));
        assertEquals(Duration.ofMillis(50), p.pauseAfter(1));
        assertEquals(Duration.ofMillis(100), p.pauseAfter(2));
        assertEquals(Duration.ofMillis(1600), p.pauseAfter(6));
        assertEquals(Duration.ofSeconds(2), p.pauseAfter(7));
        assertEquals(Duration.ofSeconds(2), p.pauseAfter(10_000));
    }

    @Test
    void triesUntilAnAttemptSucceeds() throws Exception {
        AtomicInteger tries = new AtomicInteger();
        Reconnect r = new Reconnect("test-reconnect", QUICK, () -> false, timeout -> {
            if (tries.incrementAndGet() < 4) {
                throw new IOException("not yet");
            }
        });
        assertEquals(Reconnect.Outcome.CONNECTED, r.start().get(10, TimeUnit.SECONDS));
        assertEquals(4, tries.get());
        assertFalse(r.isRunning());
    }

    @Test
    void aFailingAttemptOfAnyKindButOutOfMemoryIsTriedAgain() throws Exception {
        AtomicInteger tries = new AtomicInteger();
        Reconnect r = new Reconnect("test-reconnect", QUICK, () -> false, timeout -> {
            switch (tries.incrementAndGet()) {
                case 1 -> throw new IllegalStateException("a bug");
                case 2 -> throw new AssertionError("another");
                case 3 -> throw new StackOverflowError("deep");
                default -> { }
            }
        });
        assertEquals(Reconnect.Outcome.CONNECTED, r.start().get(10, TimeUnit.SECONDS));
        Reconnect oom = new Reconnect("test-reconnect", QUICK, () -> false, timeout -> {
            throw new OutOfMemoryError("test");
        });
        CompletableFuture<Reconnect.Outcome> f = oom.start();
        Exception e = assertThrows(java.util.concurrent.ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        assertInstanceOf(OutOfMemoryError.class, e.getCause());
    }

    @Test
    void theStopConditionEndsIt() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger tries = new AtomicInteger();
        Reconnect r = new Reconnect("test-reconnect", QUICK, stop::get, timeout -> {
            if (tries.incrementAndGet() == 3) {
                stop.set(true);
            }
            throw new IOException("down");
        });
        assertEquals(Reconnect.Outcome.STOPPED, r.start().get(10, TimeUnit.SECONDS));
        assertEquals(3, tries.get());
    }

    @Test
    void theDeadlineEndsItAndBoundsEachAttemptsTimeout() throws Exception {
        // a clock that moves 300 ms per reading: no real waiting
        AtomicLong now = new AtomicLong();
        List<Duration> timeouts = new CopyOnWriteArrayList<>();
        Reconnect.Policy p = new Reconnect.Policy(Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofSeconds(2),
                Duration.ofSeconds(1));
        Reconnect r = new Reconnect("test-reconnect", p, () -> false, timeout -> {
            timeouts.add(timeout);
            throw new IOException("down");
        }, () -> now.addAndGet(300_000_000L));
        assertEquals(Reconnect.Outcome.TIMED_OUT, r.start().get(10, TimeUnit.SECONDS));
        assertFalse(timeouts.isEmpty());
        assertTrue(timeouts.stream().allMatch(t -> t.compareTo(Duration.ofSeconds(1)) <= 0), timeouts.toString());
        assertTrue(timeouts.get(timeouts.size() - 1).compareTo(Duration.ofSeconds(1)) < 0,
                "the last attempt waits only as long as the deadline leaves: " + timeouts);
    }

    @Test
    void oneRunAtATime() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger tries = new AtomicInteger();
        Reconnect r = new Reconnect("test-reconnect", QUICK, () -> false, timeout -> {
            tries.incrementAndGet();
            release.await();
        });
        CompletableFuture<Reconnect.Outcome> first = r.start();
        assertSame(first, r.start());
        assertTrue(r.isRunning());
        release.countDown();
        assertEquals(Reconnect.Outcome.CONNECTED, first.get(10, TimeUnit.SECONDS));
        assertEquals(1, tries.get());
    }
}
