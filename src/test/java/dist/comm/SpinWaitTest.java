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
    void getReturnsAValueThatCameAfterTheSpinAndTimesOutOnNone() throws Exception {
        java.util.concurrent.CompletableFuture<String> later = new java.util.concurrent.CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            SpinWait.until(() -> false, 5_000_000); // past the caller's 1 ms of polling
            later.complete("reply");
        });
        assertEquals("reply", SpinWait.get(later, 1_000_000, 30_000_000_000L));
        org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.TimeoutException.class,
                () -> SpinWait.get(new java.util.concurrent.CompletableFuture<>(), 1_000_000, 1_000_000));
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
