package dist.comm;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SpinWaitTest {

    @Test
    void pollReturnsTheFirstAnswer() {
        AtomicInteger calls = new AtomicInteger();
        String got = SpinWait.poll(() -> calls.incrementAndGet() >= 100 ? "task" : null, 60_000_000_000L);
        assertEquals("task", got);
        assertEquals(100, calls.get());
    }

    @Test
    void pollGivesUpAfterItsBound() {
        AtomicInteger calls = new AtomicInteger();
        assertNull(SpinWait.poll(() -> {
            calls.incrementAndGet();
            return null;
        }, 1_000_000));
        assertTrue(calls.get() >= 2, "polled at least once past the first look");
    }

    @Test
    void zeroBoundLooksOnce() {
        AtomicInteger calls = new AtomicInteger();
        assertNull(SpinWait.poll(() -> {
            calls.incrementAndGet();
            return null;
        }, 0));
        assertFalse(SpinWait.until(() -> calls.incrementAndGet() < 0, 0));
        assertEquals(2, calls.get());
    }

    @Test
    void untilSeesAConditionSetByAnotherThread() throws InterruptedException {
        AtomicInteger flag = new AtomicInteger();
        Thread t = Thread.ofPlatform().start(() -> flag.set(1));
        assertTrue(SpinWait.until(() -> flag.get() == 1, 60_000_000_000L));
        t.join(10_000);
    }
}
