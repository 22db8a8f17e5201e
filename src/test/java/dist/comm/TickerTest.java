package dist.comm;

import dist.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TickerTest {

    @Test
    void ticksCarryRisingTimesUntilClosed() throws Exception {
        List<Long> times = new CopyOnWriteArrayList<>();
        Ticker t = Ticker.start("test-tick", Duration.ofMillis(5), times::add);
        try {
            assertTrue(Wait.until(Duration.ofSeconds(10), () -> times.size() >= 3), "ticks: " + times);
        } finally {
            t.close();
        }
        for (int i = 1; i < times.size(); i++) {
            assertTrue(times.get(i) > times.get(i - 1), times.toString());
        }
        assertFalse(t.isOpen());
        int after = times.size();
        // the ticks stop: a tick under way when closed may still land, none later
        assertFalse(Wait.until(Duration.ofMillis(200), () -> times.size() > after + 1), "ticked after close");
    }

    @Test
    void aThrowingTickDoesNotStopTheTicks() throws Exception {
        AtomicInteger ticks = new AtomicInteger();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        Ticker t = Ticker.start("test-tick", Duration.ofMillis(5), now -> {
            if (ticks.incrementAndGet() % 2 == 1) {
                throw new IllegalStateException("tick " + ticks.get());
            }
        }, failures::add);
        try {
            assertTrue(Wait.until(Duration.ofSeconds(10), () -> ticks.get() >= 4), "ticks: " + ticks.get());
        } finally {
            t.close();
        }
        assertTrue(failures.size() >= 2, failures.toString());
    }

    @Test
    void aThrowingFailureHandlerDoesNotStopTheTicksEither() throws Exception {
        AtomicInteger ticks = new AtomicInteger();
        Ticker t = Ticker.start("test-tick", Duration.ofMillis(5), now -> {
            ticks.incrementAndGet();
            throw new AssertionError("always");
        }, e -> {
            throw new IllegalStateException("the handler too");
        });
        try {
            assertTrue(Wait.until(Duration.ofSeconds(10), () -> ticks.get() >= 3), "ticks: " + ticks.get());
        } finally {
            t.close();
        }
    }
}
